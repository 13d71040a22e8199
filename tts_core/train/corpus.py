"""Build an offline training corpus: English prose sentences spoken by a flite voice.

Text source: docstrings of the Python standard library that runs this script (PSF License 2.0).
Teacher voice: CMU flite's ``slt`` voice from Debian's ``flite`` package (CMU ARCTIC data, BSD-style licence).

Only plain sentences are kept (letters and basic punctuation, 4-20 words) so that flite pronounces exactly the words
in the transcript, and any sentence found in the evaluation list is excluded so evaluation stays fair.

Usage: ``python -m tts_core.train.corpus --out data/corpus --eval ../shared/eval/sentences.txt``
"""
from __future__ import annotations

import argparse
import ast
import concurrent.futures
import os
import pathlib
import random
import re
import shutil
import subprocess
import sys
import sysconfig

SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
ALLOWED = re.compile(r"^[A-Z][A-Za-z ,;:'?!.-]+[.?!]$")
# Words that look like code or that flite reads differently from the written form.
BAD_WORD = re.compile(r"(^-|-$|--|'')")


def _normalise(sentence: str) -> str:
    return re.sub(r"[^a-z]+", " ", sentence.lower()).strip()


def _word_key(word: str) -> str:
    return word.strip(",;:.?!").lower()


def docstring_sentences(stdlib: pathlib.Path, lexicon: dict[str, str] | None = None) -> list[str]:
    """All acceptable sentences from the docstrings under ``stdlib``, deduplicated, in a stable order.

    With a ``lexicon``, every word must be in it: this drops identifiers and acronyms the teacher would spell out.
    """
    seen: set[str] = set()
    out: list[str] = []
    for path in sorted(stdlib.rglob("*.py")):
        rel = path.relative_to(stdlib).parts
        if any(p in {"test", "tests", "idlelib", "lib2to3", "site-packages", "turtledemo"} for p in rel):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            doc = ast.get_docstring(node)
            if not doc:
                continue
            for para in re.split(r"\n\s*\n", doc):
                if re.search(r"^\s*(>>>|\$|\||[-*] )", para, re.M):
                    continue  # examples, tables, lists
                text = " ".join(para.split())
                for sent in SENTENCE_SPLIT.split(text):
                    if not ALLOWED.match(sent):
                        continue
                    words = sent.split()
                    if not 4 <= len(words) <= 20 or any(BAD_WORD.search(w) for w in words):
                        continue
                    if lexicon is not None and any(_word_key(w) not in lexicon for w in words):
                        continue
                    if any(len(w.strip(",;:.?!'")) == 1 and w.strip(",;:.?!'") not in "aAI" for w in words):
                        continue  # single letters are usually variable names
                    key = _normalise(sent)
                    if key in seen:
                        continue
                    seen.add(key)
                    out.append(sent)
    return out


def _synthesize(args: tuple[str, str, pathlib.Path, int]) -> tuple[str, float] | None:
    name, text, wav_dir, sample_rate = args
    raw = wav_dir / f"{name}.raw.wav"
    wav = wav_dir / f"{name}.wav"
    if wav.exists():
        return name, 0.0
    subprocess.run(["flite", "-voice", "slt", "-t", text, "-o", str(raw)], check=True, capture_output=True)
    # Trim leading/trailing silence, resample to the model rate, keep 16-bit mono.
    subprocess.run(
        ["sox", str(raw), "-r", str(sample_rate), "-b", "16", "-c", "1", str(wav),
         "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse", "pad", "0.05", "0.05"],
        check=True, capture_output=True,
    )
    raw.unlink()
    return name, 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("data/corpus"))
    parser.add_argument("--eval", type=pathlib.Path, action="append", default=[],
                        help="sentence lists that must never be trained on (repeatable)")
    parser.add_argument("--max-sentences", type=int, default=4000)
    parser.add_argument("--sample-rate", type=int, default=22050)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args(argv)

    for tool in ("flite", "sox"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: install Debian's '{tool}' package (apt-get install flite sox)")

    excluded = set()
    for path in args.eval:
        excluded |= {_normalise(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}

    from tts_core.text import cmudict

    lexicon = cmudict.load()
    sentences = [s for s in docstring_sentences(pathlib.Path(sysconfig.get_paths()["stdlib"]), lexicon)
                 if _normalise(s) not in excluded]
    random.Random(args.seed).shuffle(sentences)
    sentences = sentences[: args.max_sentences]

    wav_dir = args.out / "wavs"
    wav_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(f"s{i:05d}", s, wav_dir, args.sample_rate) for i, s in enumerate(sentences)]
    with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        for done, _ in enumerate(pool.map(_synthesize, jobs, chunksize=16), 1):
            if done % 250 == 0:
                print(f"synthesized {done}/{len(jobs)}", flush=True)
    with open(args.out / "metadata.csv", "w", encoding="utf-8") as fh:
        for name, text, _, _ in jobs:
            fh.write(f"wavs/{name}.wav|{text}\n")
    print(f"wrote {len(jobs)} utterances to {args.out}")


if __name__ == "__main__":
    main()
