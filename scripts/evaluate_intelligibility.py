#!/usr/bin/env python3
"""Intelligibility of our voice (and of the flite teacher voice, in the same run) measured by speech recognition.

Each sentence is synthesized, resampled to 16 kHz with a fixed polyphase filter, recognised by pocketsphinx (a
fresh decoder per file: one shared decoder carries state from file to file) and scored with jiwer's word error
rate against the sentence normalised by our own text cleaner.

    .venv/bin/python scripts/evaluate_intelligibility.py [--sentences ../shared/eval/sentences.txt]
        [--tacotron2 CKPT] [--waveglow CKPT] [--vocoder griffinlim|waveglow] [--no-teacher] [--out DIR]
"""
from __future__ import annotations

import argparse
import json
import math
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tts_core import HandlerConfig, TacotronHandler  # noqa: E402
from tts_core.audio import read_wav, to_pcm16, write_wav  # noqa: E402
from tts_core.text import clean_text  # noqa: E402

ASR_RATE = 16000


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z' ]+", " ", clean_text(text).replace("-", " ")).split())


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
    parser.add_argument("--tacotron2", help="checkpoint (default: TTS_TACOTRON2_CHECKPOINT or the bundled voice)")
    parser.add_argument("--waveglow")
    parser.add_argument("--vocoder", choices=["griffinlim", "waveglow"])
    parser.add_argument("--teacher-voice", default="slt")
    parser.add_argument("--no-teacher", action="store_true")
    parser.add_argument("--out", type=pathlib.Path, help="keep the WAV files here")
    parser.add_argument("--json", type=pathlib.Path, help="write the results as JSON")
    parser.add_argument("--seed", type=int, default=0,
                        help="fixes the prenet dropout draws and the vocoder noise: same seed, same audio")
    parser.add_argument("--alignment", type=pathlib.Path, help="save the first sentence's alignment as PNG")
    args = parser.parse_args(argv)

    sentences = [s.strip() for s in args.sentences.read_text(encoding="utf-8").splitlines() if s.strip()]
    handler = TacotronHandler(HandlerConfig.from_env(tacotron2_checkpoint=args.tacotron2,
                                                     waveglow_checkpoint=args.waveglow, seed=args.seed))
    handler.initialize()
    # The handler's seed fixes only the vocoder noise; Tacotron2's prenet dropout (on at inference, as in
    # NVIDIA's code) draws from the global generator, so seed it too, after the warm-up has drawn from it.
    torch.manual_seed(args.seed)
    teacher = not args.no_teacher and shutil.which("flite") is not None
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)

    rows = []
    refs, ours_hyps, teacher_hyps = [], [], []
    for i, sentence in enumerate(sentences):
        ref = normalise(sentence)
        result = handler.synthesize(sentence, vocoder=args.vocoder)
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
    print(f"voice: {handler.voice}   vocoder: {handler.default_vocoder if not args.vocoder else args.vocoder}")
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
        args.json.write_text(json.dumps({"overall_wer": overall, "teacher_wer": overall_teacher, "rows": rows},
                                        indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
