"""NVIDIA's English symbol table (148 entries): pad, '-', punctuation, letters, then '@'-prefixed ARPAbet.

The order is part of every published checkpoint (it indexes the embedding), so it must never change.
"""
from __future__ import annotations

PAD = "_"
SPECIAL = "-"
PUNCTUATION = "!'(),.:;? "
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

_VOWELS = ("AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW")
_CONSONANTS = ("B", "CH", "D", "DH", "F", "G", "HH", "JH", "K", "L", "M", "N", "NG", "P", "R", "S", "SH", "T",
               "TH", "V", "W", "Y", "Z", "ZH")
# CMUdict's 84 phones: each vowel bare and with stress 0/1/2, plus the consonants, in sorted order.
ARPABET: tuple[str, ...] = tuple(sorted([v + s for v in _VOWELS for s in ("", "0", "1", "2")] + list(_CONSONANTS)))

SYMBOLS: tuple[str, ...] = (PAD, *SPECIAL, *PUNCTUATION, *LETTERS, *("@" + p for p in ARPABET))
SYMBOL_TO_ID: dict[str, int] = {s: i for i, s in enumerate(SYMBOLS)}
ID_TO_SYMBOL: dict[int, str] = dict(enumerate(SYMBOLS))

assert len(SYMBOLS) == 148
