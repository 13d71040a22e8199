#!/usr/bin/env python3
"""Intelligibility of our voice (and of the flite teacher voice, in the same run) measured by speech recognition.

Each sentence is synthesized, resampled to 16 kHz with a fixed polyphase filter, recognised by pocketsphinx (a
fresh decoder per file: one shared decoder carries state from file to file) and scored with jiwer's word error
rate against the sentence normalised by our own text cleaner.

    .venv/bin/python scripts/evaluate_intelligibility.py [--sentences ../shared/eval/sentences.txt]
        [--tacotron2 CKPT] [--waveglow CKPT] [--vocoder griffinlim|waveglow] [--speed 1.5] [--no-teacher] [--out DIR]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import shutil
import subprocess
import tempfile

import numpy as np
import torch

from tts_core import HandlerConfig, TacotronHandler
from tts_core.audio import read_wav, to_pcm16, write_wav
from tts_core.text import clean_text
from tts_core.text.compare import spoken_form

ROOT = pathlib.Path(__file__).resolve().parent.parent

ASR_RATE = 16000


def normalise(text: str) -> str:
    return spoken_form(clean_text(text))


def to_16k(audio: np.ndarray, rate: int) -> np.ndarray:
    from scipy.signal import resample_poly

    if rate == ASR_RATE:
        return audio
    g = math.gcd(ASR_RATE, rate)
    return resample_poly(audio, ASR_RATE // g, rate // g).astype(np.float32)


def recognise(audio_16k: np.ndarray) -> str:
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=ASR_RATE, loglevel="FATAL")  # fresh per file
    decoder.start_utt()
    decoder.process_raw(to_pcm16(audio_16k).tobytes(), full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    return hyp.hypstr if hyp else ""


def teacher_audio(text: str, voice: str) -> tuple[np.ndarray, int]:
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "t.wav"
        subprocess.run(["flite", "-voice", voice, "-t", normalise(text), "-o", str(path)], check=True,
                       capture_output=True)
        return read_wav(str(path))


def main(argv: list[str] | None = None) -> int:
    import jiwer

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=pathlib.Path, default=ROOT.parent / "shared/eval/sentences.txt")
    # This command line reads the service's variables for its defaults, so the same environment evaluates the same
    # voice on the same path (e.g. TTS_PRECISION=fp32 for the exact path).
    parser.add_argument("--tacotron2", default=os.environ.get("TTS_TACOTRON2_CHECKPOINT") or None,
                        help="checkpoint (default: TTS_TACOTRON2_CHECKPOINT or the bundled voice)")
    parser.add_argument("--waveglow", default=os.environ.get("TTS_WAVEGLOW_CHECKPOINT") or None)
    parser.add_argument("--precision", default=os.environ.get("TTS_PRECISION") or "auto",
                        help="auto, eager, fp32, bf16, int8, fp16 (default: TTS_PRECISION or auto)")
    parser.add_argument("--device", default=os.environ.get("TTS_DEVICE") or None)
    parser.add_argument("--max-decoder-steps", type=int, default=int(os.environ.get("TTS_MAX_DECODER_STEPS") or 0)
                        or None, help="per sentence (default: TTS_MAX_DECODER_STEPS or the checkpoint's)")
    parser.add_argument("--vocoder", choices=["griffinlim", "waveglow"])
    parser.add_argument("--teacher-voice", default="slt")
    parser.add_argument("--no-teacher", action="store_true")
    parser.add_argument("--out", type=pathlib.Path, help="keep the WAV files here")
    parser.add_argument("--json", type=pathlib.Path, help="write the results as JSON")
    parser.add_argument("--seed", type=int, default=0,
                        help="fixes the prenet dropout draws and the vocoder noise: same seed, same audio")
    parser.add_argument("--alignment", type=pathlib.Path, help="save the first sentence's alignment as PNG")
    parser.add_argument("--speed", type=float, default=1.0, help="speaking speed, 0.25-4 (the service's speed)")
    parser.add_argument("--griffin-lim-iters", type=int, help="Griffin-Lim iterations (default: the handler's)")
    args = parser.parse_args(argv)

    sentences = [s.strip() for s in args.sentences.read_text(encoding="utf-8").splitlines() if s.strip()]
    # The handler's seed fixes Tacotron2's prenet dropout (on at inference, as in NVIDIA's code) and the vocoder
    # noise of every sentence.
    handler = TacotronHandler(HandlerConfig(tacotron2_checkpoint=args.tacotron2, waveglow_checkpoint=args.waveglow,
                                            precision=args.precision, device=args.device,
                                            max_decoder_steps=args.max_decoder_steps, seed=args.seed,
                                            **({"griffin_lim_iters": args.griffin_lim_iters}
                                               if args.griffin_lim_iters else {})))
    handler.initialize()
    teacher = not args.no_teacher and shutil.which("flite") is not None
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)

    rows = []
    refs, ours_hyps, teacher_hyps = [], [], []
    for i, sentence in enumerate(sentences):
        ref = normalise(sentence)
        result = handler.synthesize(sentence, vocoder=args.vocoder, speed=args.speed)
        hyp = " ".join(recognise(to_16k(result.audio, result.sample_rate)).lower().split())
        row = {"sentence": sentence, "reference": ref, "ours": hyp, "ours_wer": jiwer.wer(ref, hyp or "<empty>"),
               "truncated": result.truncated, "seconds": round(result.duration, 2),
               "synthesis_s": round(result.timings["total"], 3)}
        if args.out:
            write_wav(str(args.out / f"{i:02d}_ours.wav"), result.pcm16(), result.sample_rate)
        if teacher:
            audio, rate = teacher_audio(sentence, args.teacher_voice)
            t_hyp = " ".join(recognise(to_16k(audio, rate)).lower().split())
            row.update(teacher=t_hyp, teacher_wer=jiwer.wer(ref, t_hyp or "<empty>"))
            teacher_hyps.append(t_hyp or "<empty>")
            if args.out:
                write_wav(str(args.out / f"{i:02d}_teacher.wav"), to_pcm16(audio), rate)
        refs.append(ref)
        ours_hyps.append(hyp or "<empty>")
        rows.append(row)

    if args.alignment:
        from tts_core.train.plots import save_alignment

        chunk = handler.preprocess(sentences[0]).chunks[0]
        with torch.inference_mode():
            out = handler.tacotron.model.infer_full(torch.tensor([chunk.ids]), torch.tensor([len(chunk.ids)]))
        save_alignment(args.alignment, out.alignments[0].float().numpy(), f"{handler.voice}: {sentences[0]}")

    overall = jiwer.wer(refs, ours_hyps)
    overall_teacher = jiwer.wer(refs, teacher_hyps) if teacher else None
    header = f"{'#':>2}  {'ours':>5}  {'teacher':>7}  {'trunc':>5}  {'sec':>5}  sentence"
    print(f"voice: {handler.voice}   vocoder: {handler.default_vocoder if not args.vocoder else args.vocoder}"
          f"   speed: {args.speed}   seed: {args.seed}")
    print(header)
    print("-" * len(header))
    for i, r in enumerate(rows):
        t = f"{r['teacher_wer']:.2f}" if teacher else "-"
        print(f"{i:>2}  {r['ours_wer']:>5.2f}  {t:>7}  {str(r['truncated']):>5}  {r['seconds']:>5.2f}  {r['sentence']}")
        print(f"{'':>30}ours:    {r['ours']}")
        if teacher:
            print(f"{'':>30}teacher: {r['teacher']}")
    print("-" * len(header))
    print(f"overall WER  ours: {overall:.3f}" + (f"   teacher: {overall_teacher:.3f}" if teacher else "")
          + f"   truncated: {sum(r['truncated'] for r in rows)}/{len(rows)}")
    if args.json:
        args.json.write_text(json.dumps({"overall_wer": overall, "teacher_wer": overall_teacher, "speed": args.speed,
                                         "seed": args.seed, "rows": rows},
                                        indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
