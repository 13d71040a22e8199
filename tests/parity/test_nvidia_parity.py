"""Same numbers as NVIDIA's reference implementation for the same weights and inputs.

NVIDIA's code is never part of this repository. To run these checks, point TTS_NVIDIA_DLE_DIR at a checkout of
DeepLearningExamples' ``PyTorch/SpeechSynthesis/Tacotron2`` folder (it needs librosa installed):

    TTS_NVIDIA_DLE_DIR=/path/to/DeepLearningExamples/PyTorch/SpeechSynthesis/Tacotron2 pytest tests/parity
"""
from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest
import torch

from tts_core.audio import Denoiser, TacotronSTFT
from tts_core.models import Tacotron2, Tacotron2Config, WaveGlow, WaveGlowConfig

DLE = os.environ.get("TTS_NVIDIA_DLE_DIR")
pytestmark = pytest.mark.skipif(not DLE or not pathlib.Path(DLE, "tacotron2").is_dir(),
                                reason="set TTS_NVIDIA_DLE_DIR to NVIDIA's DLE Tacotron2 folder")

SMALL = dict(symbols_embedding_dim=64, encoder_embedding_dim=64, attention_rnn_dim=96, decoder_rnn_dim=96,
             prenet_dim=32, attention_dim=32, attention_location_n_filters=8, attention_location_kernel_size=31,
             postnet_embedding_dim=32, n_frames_per_step=1, max_decoder_steps=60)


@pytest.fixture(scope="module")
def nvidia():
    # NVIDIA's folder is importable for this module's tests only (pytest undoes the change afterwards).
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(DLE)
        from tacotron2.model import Tacotron2 as NvTacotron2
        from tacotron2_common.layers import TacotronSTFT as NvSTFT
        from waveglow.denoiser import Denoiser as NvDenoiser
        from waveglow.model import WaveGlow as NvWaveGlow

        yield {"Tacotron2": NvTacotron2, "WaveGlow": NvWaveGlow, "STFT": NvSTFT, "Denoiser": NvDenoiser}


def _nv_tacotron(nvidia, cfg: Tacotron2Config):
    model = nvidia["Tacotron2"](
        mask_padding=False, n_mel_channels=80, n_symbols=148, symbols_embedding_dim=cfg.symbols_embedding_dim,
        encoder_kernel_size=5, encoder_n_convolutions=3, encoder_embedding_dim=cfg.encoder_embedding_dim,
        attention_rnn_dim=cfg.attention_rnn_dim, attention_dim=cfg.attention_dim,
        attention_location_n_filters=cfg.attention_location_n_filters,
        attention_location_kernel_size=cfg.attention_location_kernel_size, n_frames_per_step=1,
        decoder_rnn_dim=cfg.decoder_rnn_dim, prenet_dim=cfg.prenet_dim, max_decoder_steps=cfg.max_decoder_steps,
        gate_threshold=0.5, p_attention_dropout=0.1, p_decoder_dropout=0.1,
        postnet_embedding_dim=cfg.postnet_embedding_dim, postnet_kernel_size=5, postnet_n_convolutions=5,
        decoder_no_early_stopping=False)
    # Parity needs the prenet deterministic: NVIDIA's prenet always applies dropout, so bypass it there.
    prenet = model.decoder.prenet
    prenet.forward = lambda x: _prenet_no_dropout(prenet, x)
    return model.eval()


def _prenet_no_dropout(prenet, x):
    for linear in prenet.layers:
        x = torch.relu(linear(x))
    return x


def test_tacotron2_infer_matches_nvidia(nvidia):
    cfg = Tacotron2Config(**SMALL)
    ours = Tacotron2(cfg).eval()
    # Make the stop gate fire at different steps per utterance so lengths are exercised.
    ours.decoder.gate_layer.linear_layer.bias.data.fill_(-2.0)
    theirs = _nv_tacotron(nvidia, cfg)
    theirs.load_state_dict(ours.state_dict(), strict=True)
    torch.manual_seed(0)
    seqs = torch.randint(11, 148, (3, 25))
    lengths = torch.tensor([25, 19, 12])
    out = ours.infer_full(seqs, lengths, prenet_dropout=0.0)
    # NVIDIA's batched encoder lets padding leak into valid positions (ours masks it), so compare every
    # utterance of our batch with NVIDIA run on that utterance alone.
    for i in range(3):
        n = int(lengths[i])
        with torch.no_grad():
            mel_nv, len_nv, align_nv = theirs.infer(seqs[i: i + 1, :n], lengths[i: i + 1])
        frames = mel_nv.size(2)
        assert int(out.mel_lengths[i]) == int(len_nv[0])
        torch.testing.assert_close(out.mel_outputs_postnet[i, :, :frames], mel_nv[0], rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(out.alignments[i, :frames, :n], align_nv[0], rtol=1e-4, atol=1e-5)


def test_tacotron2_training_forward_matches_nvidia(nvidia):
    cfg = Tacotron2Config(**SMALL, prenet_dropout=0.0)
    ours = Tacotron2(cfg).eval()
    theirs = _nv_tacotron(nvidia, cfg)
    theirs.load_state_dict(ours.state_dict(), strict=True)
    seqs = torch.randint(11, 148, (2, 20))
    lengths = torch.tensor([20, 20])  # unpadded text: NVIDIA's encoder is only pad-invariant without padding
    mels = torch.randn(2, 80, 30)
    with torch.no_grad():
        nv = theirs((seqs, lengths, mels, 20, torch.tensor([30, 22])))
        out = ours(seqs, lengths, mels, None)
    torch.testing.assert_close(out.mel_outputs, nv[0], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(out.mel_outputs_postnet, nv[1], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(out.gate_outputs, nv[2], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(out.alignments, nv[3], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("sigma", [0.0, 0.666])
def test_waveglow_infer_matches_nvidia(nvidia, sigma):
    cfg = WaveGlowConfig(wn_n_channels=32, wn_n_layers=4)
    theirs = nvidia["WaveGlow"](n_mel_channels=80, n_flows=12, n_group=8, n_early_every=4, n_early_size=2,
                                WN_config=dict(n_layers=4, n_channels=32, kernel_size=3))
    for wn in theirs.WN:  # non-zero `end` so every layer matters
        torch.nn.init.normal_(wn.end.weight, std=0.05)
        torch.nn.init.normal_(wn.end.bias, std=0.05)
    ours = WaveGlow(cfg)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    theirs = theirs.remove_weightnorm(theirs).eval()
    ours = ours.remove_weightnorm().eval()
    mel = torch.randn(2, 80, 12)
    torch.manual_seed(5)
    with torch.no_grad():
        audio_nv = theirs.infer(mel, sigma=sigma)
    torch.manual_seed(5)
    audio = ours.infer(mel, sigma=sigma)
    torch.testing.assert_close(audio, audio_nv, rtol=1e-4, atol=1e-5)


def test_mel_and_denoiser_match_nvidia(nvidia):
    audio = torch.from_numpy(np.random.default_rng(0).uniform(-0.5, 0.5, (1, 22050)).astype(np.float32))
    ours = TacotronSTFT()
    theirs = nvidia["STFT"]()
    torch.testing.assert_close(ours.mel_spectrogram(audio), theirs.mel_spectrogram(audio), rtol=1e-4, atol=1e-4)

    wg = nvidia["WaveGlow"](n_mel_channels=80, n_flows=12, n_group=8, n_early_every=4, n_early_size=2,
                            WN_config=dict(n_layers=2, n_channels=16, kernel_size=3))
    for wn in wg.WN:
        torch.nn.init.normal_(wn.end.bias, std=0.05)
    ours_wg = WaveGlow(WaveGlowConfig(wn_n_layers=2, wn_n_channels=16))
    ours_wg.load_state_dict(wg.state_dict())
    wg.remove_weightnorm(wg).eval()
    ours_wg.remove_weightnorm().eval()
    nv_den, our_den = nvidia["Denoiser"](wg), Denoiser(ours_wg)
    torch.testing.assert_close(our_den.bias_spec, nv_den.bias_spec, rtol=1e-3, atol=1e-5)
    with torch.no_grad():
        expected = nv_den(audio, strength=0.1)[:, 0]
    got = our_den(audio, strength=0.1)
    # NVIDIA's inverse STFT differs from torch.istft only at the first/last window edges.
    n = min(got.size(1), expected.size(1))
    torch.testing.assert_close(got[:, 1024: n - 1024], expected[:, 1024: n - 1024], rtol=1e-3, atol=1e-4)
