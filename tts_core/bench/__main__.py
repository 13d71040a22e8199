"""``python -m tts_core.bench``: inference latency, real-time factor, throughput, memory and fidelity.

Full-size Tacotron2 and WaveGlow with random weights (or real checkpoints), a 128-character input, the decoder
forced to run ``--steps`` steps, warm-up then ``--runs`` timed runs; for Tacotron2, WaveGlow, the denoiser and end to
end, for each precision the service can serve (prepared by :mod:`tts_core.precision`, exactly as the handler
prepares it), compared with the eager reference *in the same run* (speed ratio, mel max error, audio SNR with the
same noise). Prints a table and writes JSON.

    python -m tts_core.bench                       # CPU defaults: batch 1, WaveGlow 256, 200 decoder steps
    python -m tts_core.bench --batch-sizes 1 4 --channels 256 512 --runs 10
    python -m tts_core.bench --smoke               # tiny models, seconds (CI)
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pathlib
import platform
from typing import Any

import torch

from ..audio import Denoiser
from ..checkpoints import load_tacotron2, load_waveglow
from ..hardware import cpu_has_amx, cpu_has_bf16, cpu_has_vnni, cpu_info
from ..models import AudioConfig, Tacotron2, Tacotron2Config, WaveGlow, WaveGlowConfig
from ..precision import PrecisionError, PreparedModels, prepare_models
from ..text import text_to_sequence
from .stats import measure, snr_db

TEXT = ("The quick brown fox jumps over the lazy dog, while the early morning train rolls slowly into the station "
        "near the old river bank.")[:128]
SMOKE_TACOTRON = dict(symbols_embedding_dim=32, encoder_embedding_dim=32, attention_rnn_dim=48, decoder_rnn_dim=48,
                      prenet_dim=16, attention_dim=16, postnet_embedding_dim=16)


REFERENCE = "eager"


def variant_names(device: torch.device, names: list[str] | None) -> list[str]:
    """The precisions to measure: those asked for, else those worth serving here; the reference always first."""
    if names:
        return [REFERENCE] + [n for n in names if n != REFERENCE]
    if device.type == "cuda":
        return [REFERENCE, "fp16", "fp16+graphs"]
    return [REFERENCE, "fp32"] + (["bf16"] if cpu_has_bf16() else []) + \
        (["int8"] if cpu_has_bf16() or cpu_has_vnni() else [])


def variants(taco: Tacotron2, wg: WaveGlow, device: torch.device, names: list[str] | None
             ) -> list[tuple[str, PreparedModels]]:
    """(name, models) per variant; a name is a precision, ``+graphs`` for the decoder steps in CUDA graphs."""
    out = []
    for name in variant_names(device, names):
        precision, _, extra = name.partition("+")
        if extra not in ("", "graphs") or (extra and device.type != "cuda"):
            print(f"skipping {name}: only '+graphs' on CUDA is known")
            continue
        try:
            out.append((name, prepare_models(taco, wg, precision, device, cuda_graphs=extra == "graphs")))
        except PrecisionError as exc:
            print(f"skipping {name}: {exc}")
    return out


def bundled_voice_mel(device: torch.device) -> torch.Tensor:
    """The bundled voice's mel of the benchmark text (1, n_mel, frames): real speech with pauses and loudness changes,
    the input on which a vocoder's quantization is judged (the random Tacotron2's mel is noise-like)."""
    from ..handler import HandlerConfig, TacotronHandler

    handler = TacotronHandler(HandlerConfig(device=str(device), precision="fp32", warmup=False)).initialize()
    with torch.inference_mode():
        decoded = handler._run_tacotron(handler.preprocess(TEXT).chunks, generator=torch.Generator().manual_seed(0))
    return torch.cat([mel for mel, _, _ in decoded], dim=1).unsqueeze(0).to(device)


def run(args: argparse.Namespace) -> dict[str, Any]:
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    audio_cfg = AudioConfig()
    hop, sr = audio_cfg.hop_length, audio_cfg.sampling_rate
    results: dict[str, Any] = {
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "backend": device.type,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "cpu_model": cpu_info()[0], "torch": torch.__version__, "threads": torch.get_num_threads(),
        "cpu_bf16": cpu_has_bf16(), "cpu_amx": cpu_has_amx(), "cpu_vnni": cpu_has_vnni(),
        "steps": args.steps, "runs": args.runs, "warmup": args.warmup,
        "vocoder_input": "bundled voice mel" if args.voice_mel else "Tacotron2 mel", "kernels": {}, "rows": []}

    if args.tacotron2:
        taco = load_tacotron2(args.tacotron2, device)
    else:
        cfg = Tacotron2Config(**(SMOKE_TACOTRON if args.smoke else {}))
        taco = Tacotron2(cfg).to(device).eval()
    ids = text_to_sequence(TEXT)
    voice_mel = bundled_voice_mel(device) if args.voice_mel else None
    for channels in args.channels:
        if args.waveglow:
            wg = load_waveglow(args.waveglow, device)
        else:
            wcfg = WaveGlowConfig(wn_n_channels=channels, **({"wn_n_layers": 2} if args.smoke else {}))
            wg = WaveGlow(wcfg, weight_norm=False).to(device).eval()
            for wn in wg.WN:  # random but non-trivial couplings (NVIDIA initialises `end` to zero)
                torch.nn.init.normal_(wn.end.weight, std=0.02)
        denoiser = Denoiser(wg, audio_cfg).to(device)
        for batch in args.batch_sizes:
            seqs = torch.tensor([ids] * batch, device=device)
            lens = torch.tensor([len(ids)] * batch, device=device)
            steps = args.steps
            frames = steps * taco.n_frames_per_step
            audio_seconds = batch * frames * hop / sr
            stop_every = 16 if device.type == "cuda" else 1
            reference: dict[str, torch.Tensor] = {}
            for name, v in variants(taco, wg, device, args.variants):
                results["kernels"][name] = v.kernels
                def tacotron(v: PreparedModels = v) -> torch.Tensor:
                    with v.context():
                        # as the handler runs it: on CUDA no host read-back of the stop flag each step
                        return v.tacotron2.infer_full(seqs, lens, max_decoder_steps=steps, gate_threshold=1.1,
                                                      prenet_dropout=0.0, stop_check_every=stop_every
                                                      ).mel_outputs_postnet.float()

                def waveglow(v: PreparedModels, mel: torch.Tensor) -> torch.Tensor:
                    gen = torch.Generator(device=device).manual_seed(1)
                    with v.context():
                        return v.waveglow.infer(mel, sigma=0.666, generator=gen).float()

                def end_to_end(v: PreparedModels = v) -> torch.Tensor:
                    audio = waveglow(v, tacotron(v))
                    with torch.inference_mode():
                        return denoiser(audio, 0.01)

                rows = []
                m, mel = measure(tacotron, device, args.warmup, args.runs)
                rows.append(("tacotron2", m, mel, audio_seconds))
                if "+" not in name:  # a "+graphs" variant changes only the decoder: its vocoder rows would repeat
                    # Every variant's vocoder gets the fp32 mel (or the voice's): its SNR measures the vocoder alone.
                    mel_ref = reference.get("mel", mel) if voice_mel is None else voice_mel.expand(batch, -1, -1)
                    m, audio = measure(lambda v=v, mel=mel_ref: waveglow(v, mel), device, args.warmup, args.runs)
                    vocoded = batch * mel_ref.size(2) * hop / sr
                    rows.append(("waveglow", m, audio, vocoded))
                    m, den = measure(lambda a=audio: denoiser(a, 0.01), device, args.warmup, args.runs)
                    rows.append(("denoiser", m, den, vocoded))
                m, e2e = measure(end_to_end, device, args.warmup, args.runs)
                rows.append(("end_to_end", m, e2e, audio_seconds))
                for component, meas, output, seconds in rows:
                    meas.audio_seconds = seconds
                    meas.samples = int(seconds * sr)
                    row = {"component": component, "variant": name, "batch": batch,
                           "waveglow_channels": channels,
                           **meas.summary()}
                    if component == "tacotron2":
                        row["ms_per_decoder_step"] = row["latency_mean_s"] / steps * 1000
                    if name == REFERENCE:
                        reference[component] = output
                        if component == "tacotron2":
                            reference["mel"] = output
                    else:
                        ref = reference[component]
                        if component == "tacotron2":
                            row["mel_max_abs_error"] = float((ref - output).abs().max())
                        else:
                            row["snr_db"] = snr_db(ref, output)
                    base = next((r for r in results["rows"] if r["component"] == component
                                 and r["variant"] == REFERENCE and r["batch"] == batch
                                 and r["waveglow_channels"] == channels), None)
                    row["speedup_vs_eager"] = base["latency_mean_s"] / row["latency_mean_s"] if base else 1.0
                    results["rows"].append(row)
                if args.output:  # what is measured so far survives a time limit (scripts/gpu_check.sh)
                    write_json(args.output, results)
    return results


def write_json(path: pathlib.Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2))


def print_table(results: dict[str, Any]) -> None:
    cpu = f" ({results['cpu_model']}{', AMX' if results['cpu_amx'] else ''})" if results["backend"] == "cpu" else ""
    print(f"device: {results['device']}{cpu}  torch {results['torch']}  threads {results['threads']}  "
          f"decoder steps {results['steps']}  runs {results['runs']} (+{results['warmup']} warm-up)")
    head = (f"{'component':<11} {'variant':<12} {'B':>2} {'WG':>4} {'mean s':>8} {'p50':>7} {'p90':>7} {'p99':>7} "
            f"{'RTF':>7} {'x eager':>7} {'MB':>7} {'fidelity':>14}")
    print(head)
    print("-" * len(head))
    for r in results["rows"]:
        if "mel_max_abs_error" in r:
            fid = f"mel err {r['mel_max_abs_error']:.3g}"
        elif "snr_db" in r:
            fid = f"SNR {r['snr_db']:.1f} dB"
        else:
            fid = "reference"
        extra = f"  ({r['ms_per_decoder_step']:.2f} ms/step)" if "ms_per_decoder_step" in r else ""
        print(f"{r['component']:<11} {r['variant']:<12} {r['batch']:>2} {r['waveglow_channels']:>4} "
              f"{r['latency_mean_s']:>8.3f} {r['latency_p50_s']:>7.3f} {r['latency_p90_s']:>7.3f} "
              f"{r['latency_p99_s']:>7.3f} {r['real_time_factor']:>7.2f} {r['speedup_vs_eager']:>7.2f} "
              f"{r['peak_memory_mb']:>7.1f} {fid:>14}{extra}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1])
    parser.add_argument("--channels", type=int, nargs="+", default=[256])
    parser.add_argument("--steps", type=int, default=200, help="decoder steps (frames at r=1)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--variants", nargs="+", help="precisions to compare with eager: fp32, bf16, int8 (CPU), "
                                                      "fp16 and fp16+graphs (CUDA graphs for the decoder steps; "
                                                      "CUDA); default: those worth serving on this device")
    parser.add_argument("--tacotron2", help="real Tacotron2 checkpoint instead of random weights")
    parser.add_argument("--waveglow", help="real WaveGlow checkpoint instead of random weights")
    parser.add_argument("--smoke", action="store_true", help="tiny models, 1 run: checks that everything runs")
    parser.add_argument("--voice-mel", action="store_true", help="vocode the bundled voice's mel of the text (real "
                                                                 "speech) in the WaveGlow and denoiser rows")
    parser.add_argument("--output", type=pathlib.Path, default=pathlib.Path("bench-results/bench.json"))
    args = parser.parse_args(argv)
    if args.smoke:
        args.steps, args.runs, args.warmup = min(args.steps, 8), 1, 0
        args.channels = [16]
    results = run(args)
    print_table(results)
    write_json(args.output, results)
    print(f"wrote {args.output}")
    return results


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))
    main()
