#!/usr/bin/env python3
"""Write NVIDIA's reference outputs as small golden files, so that parity is checked on every CI run without
NVIDIA's code in this repository (tests/parity/test_goldens.py compares ours with them).

    TTS_NVIDIA_DLE_DIR=/path/to/DeepLearningExamples/PyTorch/SpeechSynthesis/Tacotron2 \\
        .venv/bin/python scripts/make_parity_goldens.py [--out tests/parity/goldens]

Everything is built by NVIDIA's classes from fixed seeds (small sizes, so the files stay small) and written in the
checkpoint layouts users have: NVIDIA/tacotron2's dict, DLE's training file (``module.`` keys, ``config``), a legacy
pre-1.6 (non-zip) torch file, DLE's WaveGlow state dict, and a whole pickled ``glow.WaveGlow`` object as
NVIDIA/waveglow files hold it. Outputs are NVIDIA's: mels, stop lengths and alignments of free-running inference
(prenet dropout off, as the parity test does), WaveGlow audio at sigma 0 and 0.666 (seeded noise), the mel
spectrogram of a fixed waveform, and the denoiser.
"""
from __future__ import annotations

import argparse
import lzma
import io
import os
import pathlib
import subprocess
import sys

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Small, NVIDIA-shaped Tacotron2 (every module kept; only widths shrunk).
TACOTRON2 = dict(mask_padding=False, n_mel_channels=80, n_symbols=148, symbols_embedding_dim=16,
                 encoder_kernel_size=5, encoder_n_convolutions=3, encoder_embedding_dim=16, attention_rnn_dim=32,
                 attention_dim=16, attention_location_n_filters=4, attention_location_kernel_size=31,
                 n_frames_per_step=1, decoder_rnn_dim=32, prenet_dim=16, max_decoder_steps=60, gate_threshold=0.5,
                 p_attention_dropout=0.1, p_decoder_dropout=0.1, postnet_embedding_dim=16, postnet_kernel_size=5,
                 postnet_n_convolutions=5, decoder_no_early_stopping=False)
# A random decoder settles into a fixed point whose gate barely moves, so free-running inference runs to the step
# limit here (a truncated utterance); the stop gate's values are compared in the teacher-forced forward instead.
GATE_BIAS = -2.0
# Two WaveGlow widths (stand-ins for NVIDIA's 256 and 512 channels: the width is read from the weights).
WAVEGLOWS = {"waveglow_dle_c16": dict(n_layers=2, n_channels=16), "waveglow_glow_c24": dict(n_layers=2, n_channels=24)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "tests/parity/goldens")
    args = parser.parse_args()
    dle = os.environ.get("TTS_NVIDIA_DLE_DIR")
    if not dle or not pathlib.Path(dle, "tacotron2").is_dir():
        raise SystemExit("set TTS_NVIDIA_DLE_DIR to DeepLearningExamples' PyTorch/SpeechSynthesis/Tacotron2 folder")
    sys.path.insert(0, dle)  # NVIDIA's code, for this generator only (never imported by the product or CI)
    from tacotron2.model import Tacotron2
    from tacotron2_common.layers import TacotronSTFT
    from waveglow import model as waveglow_model
    from waveglow.denoiser import Denoiser

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    revision = subprocess.run(["git", "-C", dle, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    golden: dict = {"source": f"NVIDIA DeepLearningExamples {revision or '(not a git checkout)'}",
                    "torch": str(torch.__version__)}

    # ------------------------------------------------------------------ Tacotron2
    torch.manual_seed(20)
    taco = Tacotron2(**TACOTRON2)
    taco.decoder.gate_layer.linear_layer.bias.data.fill_(GATE_BIAS)  # stops at different steps per utterance
    _coarsen(taco)
    taco.eval()
    prenet = taco.decoder.prenet
    prenet.forward = lambda x: _prenet_without_dropout(prenet, x)  # NVIDIA's prenet always drops out
    sd = {k: v.clone() for k, v in taco.state_dict().items()}
    _save({"iteration": 1000, "state_dict": sd, "optimizer": {}, "learning_rate": 1e-3},
          out / "tacotron2_nvidia.pt.xz")
    _save({"epoch": 10, "config": dict(TACOTRON2), "state_dict": {f"module.{k}": v for k, v in sd.items()},
           "optimizer": {}, "scaler": {}}, out / "tacotron2_dle.pt.xz")
    _save({"iteration": 1000, "state_dict": sd}, out / "tacotron2_legacy.pt.xz", _use_new_zipfile_serialization=False)
    torch.manual_seed(0)
    seqs = torch.randint(11, 148, (3, 25))
    lengths = torch.tensor([25, 19, 12])
    runs = []
    for i in range(3):  # one utterance at a time (NVIDIA's batched encoder lets padding leak)
        n = int(lengths[i])
        with torch.no_grad():
            mel, mel_len, align = taco.infer(seqs[i: i + 1, :n], lengths[i: i + 1])
        runs.append({"mel_postnet": mel[0].clone(), "mel_length": int(mel_len[0]), "alignment": align[0].clone()})
    train_seqs = torch.randint(11, 148, (2, 20))
    train_lengths = torch.tensor([20, 20])  # unpadded text: NVIDIA's encoder is only pad-invariant so
    mels, mel_lengths = torch.randn(2, 80, 30), torch.tensor([30, 22])
    with torch.no_grad():
        forward = taco((train_seqs, train_lengths, mels, 20, mel_lengths))
    golden["tacotron2"] = {"files": ["tacotron2_nvidia.pt.xz", "tacotron2_dle.pt.xz", "tacotron2_legacy.pt.xz"],
                           "sequences": seqs, "lengths": lengths, "runs": runs,
                           "forward": {"sequences": train_seqs, "lengths": train_lengths, "mels": mels,
                                       "mel_lengths": mel_lengths, "mel": forward[0].clone(),
                                       "mel_postnet": forward[1].clone(), "gate": forward[2].clone(),
                                       "alignments": forward[3].clone()}}

    # ------------------------------------------------------------------ WaveGlow
    mel = torch.randn(1, 80, 10)
    golden["waveglow"] = {"mel": mel, "models": {}}
    for name, wn in WAVEGLOWS.items():
        torch.manual_seed(30)
        wg = waveglow_model.WaveGlow(n_mel_channels=80, n_flows=12, n_group=8, n_early_every=4, n_early_size=2,
                                     WN_config=dict(kernel_size=3, **wn))
        for layer in wg.WN:  # non-zero `end` so every layer matters
            torch.nn.init.normal_(layer.end.weight, std=0.05)
            torch.nn.init.normal_(layer.end.bias, std=0.05)
        # The upsampler's shape is fixed (80 x 80 x 1024, 26 MB): keep one tap in 256 so the file compresses.
        with torch.no_grad():
            keep = torch.zeros_like(wg.upsample.weight)
            keep[:, :, ::256] = 1.0
            wg.upsample.weight.mul_(keep)
        _coarsen(wg)
        if name.startswith("waveglow_dle"):
            _save({"epoch": 10, "config": {"WN_config": wn}, "optimizer": {},
                   "state_dict": {f"module.{k}": v.clone() for k, v in wg.state_dict().items()}}, out / f"{name}.pt.xz")
        else:  # a whole pickled object whose classes live in a module named `glow`, as NVIDIA/waveglow's files
            _save_as_glow_pickle(wg, waveglow_model, out / f"{name}.pt.xz")
        wg = wg.remove_weightnorm(wg).eval()
        audio = {}
        for sigma in (0.0, 0.666):
            torch.manual_seed(5)
            with torch.no_grad():
                audio[sigma] = wg.infer(mel, sigma=sigma)[0].clone()
        with torch.no_grad():
            denoised = Denoiser(wg)(audio[0.666].unsqueeze(0), strength=0.1)[:, 0]
        golden["waveglow"]["models"][name] = {"file": f"{name}.pt.xz", "audio_sigma0": audio[0.0],
                                              "audio_sigma0666": audio[0.666], "denoised": denoised[0].clone()}

    # ------------------------------------------------------------------ mel spectrogram
    wave = torch.from_numpy(np.random.default_rng(0).uniform(-0.5, 0.5, (1, 8192)).astype(np.float32))
    golden["stft"] = {"audio": wave, "mel": TacotronSTFT().mel_spectrogram(wave)[0].clone()}

    _save(golden, out / "outputs.pt.xz")
    for path in sorted(out.iterdir()):
        print(f"{path}: {path.stat().st_size / 1024:.0f} KiB")


def _coarsen(model: torch.nn.Module) -> None:
    """Round every weight to a multiple of 2**-8: still random, far fewer distinct values, so the files compress
    (parity does not care what the weights are, only that both sides use the same ones)."""
    with torch.no_grad():
        for tensor in [*model.parameters(), *model.buffers()]:
            if tensor.is_floating_point():
                tensor.copy_(torch.round(tensor * 256) / 256 + 0.0)  # + 0.0: no -0.0 (its sign bit is noise)


def _save(obj, path: pathlib.Path, **kwargs) -> None:
    """torch.save, xz-compressed (the tests unpack it into a temporary file, then load it as users do)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer, **kwargs)
    path.write_bytes(lzma.compress(buffer.getvalue(), preset=9))


def _prenet_without_dropout(prenet, x):
    for linear in prenet.layers:
        x = torch.relu(linear(x))
    return x


def _save_as_glow_pickle(model, module, path: pathlib.Path) -> None:
    sys.modules["glow"] = module
    # Weight norm keeps a derived plain `weight` attribute beside weight_g/weight_v; loaders read parameters and
    # buffers only, and it would not compress, so it is left out.
    derived = {sub: sub.__dict__.pop("weight") for sub in model.modules()
               if "weight_g" in sub._parameters and "weight" in sub.__dict__}
    classes = [module.WaveGlow, module.WN, module.Invertible1x1Conv]
    saved = [c.__module__ for c in classes]
    try:
        for c in classes:
            c.__module__ = "glow"
        _save({"model": model, "iteration": 1000}, path)
    finally:
        for c, name in zip(classes, saved):
            c.__module__ = name
        for sub, weight in derived.items():
            sub.__dict__["weight"] = weight


if __name__ == "__main__":
    main()
