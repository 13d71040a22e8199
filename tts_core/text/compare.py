"""How spoken forms are compared (front-end cases, ASR transcripts for WER): words only, without case, hyphens
or punctuation; and the front end's case files (class<TAB>written<TAB>spoken, ' | ' between equal readings)."""
from __future__ import annotations

import pathlib
import re


def spoken_form(text: str) -> str:
    """'Twenty-five degrees, Fahrenheit.' -> 'twenty five degrees fahrenheit'."""
    return " ".join(re.sub(r"[^a-z' ]+", " ", text.lower().replace("-", " ")).split())


def read_cases(path: str | pathlib.Path) -> list[tuple[str, str, list[str]]]:
    """(class, written, [spoken readings]) for each line of a case file; '#' lines are comments."""
    rows = []
    for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            cls, written, spoken = line.split("\t")
            rows.append((cls, written, [s.strip() for s in spoken.split(" | ")]))
    return rows
