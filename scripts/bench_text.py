#!/usr/bin/env python3
"""Text front end benchmark: per-class accuracy on the project's cases and the speed per 100 characters, for our
front end and, in the same run, NVIDIA's english_cleaners and NVIDIA NeMo's WFST normalizer where available.

    .venv/bin/python scripts/bench_text.py [--cases tests/tts_core/text/cases.tsv ...] [--json out.json]
        [--nvidia-dir DLE/PyTorch/SpeechSynthesis/Tacotron2]   # or TTS_NVIDIA_DLE_DIR; needs inflect
        [--nemo-cache DIR]                                      # NeMo: pip install nemo-text-processing

A case is right when the output's words (case, hyphens and punctuation folded: tts_core.text.compare) equal one of
its readings. Speed: each engine reads every case's text --repeat times (after one warm-up pass); ms per 100
characters is the total time over the total characters; the same for one long text (the cases joined, about
11,000 characters) shows whether the cost grows linearly. NeMo's grammars are compiled once into --nemo-cache
(minutes the first time) and that start-up is reported apart. Benchmark-only: nothing here is imported by the
product, and NVIDIA's and NeMo's code is never in this repository. To compare all three, use a separate virtual
environment: pip install nemo-text-processing inflect torch==2.13.0 && pip install --no-deps -e . (this project).
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time
from collections.abc import Callable

from tts_core.hardware import cpu_label
from tts_core.text import UnspeakableTextError, clean_text
from tts_core.text.compare import read_cases, spoken_form

ROOT = pathlib.Path(__file__).resolve().parent.parent


def ours() -> Callable[[str], str]:
    def run(text: str) -> str:
        try:
            return clean_text(text)
        except UnspeakableTextError:
            return ""
    return run


def nvidia(folder: str) -> Callable[[str], str]:
    import warnings

    sys.path.insert(0, folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from tacotron2.text.cleaners import english_cleaners
    return english_cleaners


def nemo(cache: str) -> tuple[Callable[[str], str], float]:
    import logging

    start = time.perf_counter()
    from nemo_text_processing.text_normalization.normalize import Normalizer

    normalizer = Normalizer(input_case="cased", lang="en", cache_dir=cache)
    logging.getLogger("NeMo-text-processing").setLevel(logging.ERROR)
    return (lambda text: normalizer.normalize(text, punct_post_process=True)), time.perf_counter() - start


def accuracy(run: Callable[[str], str], rows) -> dict[str, list[int]]:
    per_class: dict[str, list[int]] = {}
    for cls, written, readings in rows:
        try:
            got = spoken_form(run(written))
        except Exception:  # noqa: BLE001 - an engine that crashes on a case gets it wrong
            got = None
        right = got in {spoken_form(r) for r in readings}
        n = per_class.setdefault(cls, [0, 0])
        n[0] += right
        n[1] += 1
    return per_class


def speed(run: Callable[[str], str], texts: list[str], repeat: int) -> float:
    """ms per 100 characters."""
    for t in texts:
        run(t)
    start = time.perf_counter()
    for _ in range(repeat):
        for t in texts:
            run(t)
    elapsed = time.perf_counter() - start
    return 1000 * elapsed / (repeat * sum(len(t) for t in texts)) * 100


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=pathlib.Path, nargs="+", default=[ROOT / "tests/tts_core/text/cases.tsv"])
    parser.add_argument("--nvidia-dir", default=os.environ.get("TTS_NVIDIA_DLE_DIR"))
    parser.add_argument("--nemo-cache", help="use NeMo's normalizer, its grammars cached in this folder")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=pathlib.Path)
    args = parser.parse_args(argv)

    rows = [row for path in args.cases for row in read_cases(path)]
    engines: dict[str, Callable[[str], str]] = {"ours": ours()}
    startup: dict[str, float] = {}
    if args.nvidia_dir:
        engines["nvidia"] = nvidia(args.nvidia_dir)
    if args.nemo_cache:
        engines["nemo"], startup["nemo"] = nemo(args.nemo_cache)
    texts = [written for _, written, _ in rows]
    long_text = " ".join(texts)
    report = {"cpu": cpu_label(), "cases": len(rows), "case_files": [str(p) for p in args.cases],
              "startup_s": startup, "engines": {}}
    for name, run in engines.items():
        per_class = accuracy(run, rows)
        repeat = max(1, args.repeat // 5) if name == "nemo" else args.repeat  # NeMo is slow: fewer passes
        report["engines"][name] = {
            "per_class": {c: {"right": r, "total": n} for c, (r, n) in per_class.items()},
            "right": sum(r for r, _ in per_class.values()),
            "ms_per_100_chars": speed(run, texts, repeat),
            "ms_per_100_chars_long_text": speed(run, [long_text], 1 if name == "nemo" else repeat),
        }

    names = list(engines)
    classes = list(dict.fromkeys(cls for cls, _, _ in rows))
    print(f"text front end, {len(rows)} cases; CPU: {report['cpu']}")
    print(f"{'class':>14} {'n':>4} " + " ".join(f"{n:>8}" for n in names))
    for cls in classes:
        total = report["engines"][names[0]]["per_class"][cls]["total"]
        print(f"{cls:>14} {total:>4} " + " ".join(
            f"{report['engines'][n]['per_class'][cls]['right']:>8}" for n in names))
    print(f"{'all':>14} {len(rows):>4} " + " ".join(f"{report['engines'][n]['right']:>8}" for n in names))
    print(f"{'ms/100 chars':>19} " + " ".join(f"{report['engines'][n]['ms_per_100_chars']:>8.3f}" for n in names))
    print(f"{'long text':>19} " + " ".join(
        f"{report['engines'][n]['ms_per_100_chars_long_text']:>8.3f}" for n in names))
    for name, seconds in startup.items():
        print(f"{name} start-up (grammars from the cache or compiled): {seconds:.1f} s")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
