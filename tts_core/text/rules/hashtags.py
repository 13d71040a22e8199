"""'#1' -> number one; '#MeToo' -> hashtag me too (camel case split); 'C#', 'F#' -> c sharp, f sharp."""
from __future__ import annotations

import re

_SHARP = re.compile(r"\b([A-G])#(?!\w)")
_NUMBER = re.compile(r"#\s?(?=\d)")
_HASHTAG = re.compile(r"(?<![\w#])#([A-Za-z][A-Za-z0-9_]*)")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def _hashtag(m: re.Match[str]) -> str:
    tag = m.group(1)
    words = _CAMEL.findall(tag.replace("_", " "))
    return "hashtag " + " ".join(w if w.isdigit() else w.lower() for w in words)


def apply(text: str) -> str:
    text = _SHARP.sub(lambda m: m.group(1).lower() + " sharp", text)
    text = _NUMBER.sub("number ", text)
    return _HASHTAG.sub(_hashtag, text)
