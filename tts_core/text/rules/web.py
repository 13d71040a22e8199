"""Emails, URLs, domain names and @handles: 'support@company.org' -> 'support at company dot org'.

Rules: the scheme (https://) is not read; 'www' is w w w; '.' is dot, '/' slash, '_' underscore, '-' dash; a
label that cannot be said as a word (no vowel: 'bbc') is spelled; two-letter top-level domains ('uk', 'ai') and
'edu' are spelled, the others ('com', 'org', 'net', 'gov') said as words. A domain needs a known top-level domain,
so 'e.g.' and 'file.txt' are not domains.
"""
from __future__ import annotations

import re

from ..numbers import integer
from ._words import letters, word_or_letters

_TLDS = ("com|org|net|edu|gov|mil|int|info|biz|app|dev|io|co|ai|me|us|uk|de|fr|jp|cn|ca|au|in|ru|br|it|es|nl|se|ch|"
         "eu|tv|ly|gg|xyz|online|site|tech|store|blog|cloud|news|ie|nz|za|mx|kr|pl|be|at|dk|no|fi|pt")
_SPELLED_TLDS = {"edu"}
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_PATH = r"(?:/[A-Za-z0-9._~%+=&?#-]*)*"
_EMAIL = re.compile(r"(?<![\w.%%+-])([A-Za-z0-9][A-Za-z0-9._%%+-]*)@((?:%s\.)+(?:%s))\b" % (_LABEL, _TLDS))
_URL = re.compile(r"\b(?:https?://|(?=www\.))(%s(?:\.%s)*)(:\d{1,5})?(%s)" % (_LABEL, _LABEL, _PATH))
_DOMAIN = re.compile(r"(?<![\w@.-])((?:%s\.)+(?:%s))\b(:\d{1,5})?(%s)" % (_LABEL, _TLDS, _PATH))
_HANDLE = re.compile(r"(?<![\w@])@([A-Za-z_][A-Za-z0-9_]{1,30})\b")
_SEPARATORS = {".": " dot ", "/": " slash ", "_": " underscore ", "-": " dash ", "+": " plus ", "%": " percent ",
               "=": " equals ", "&": " and ", "?": " question mark ", "#": " hash ", "~": " tilde ", ":": " colon "}
_PIECES = re.compile(r"([./_+%=&?#~:-])")


def _piece(token: str) -> str:
    if not token:
        return ""
    if token.isdigit():
        return integer(token) if len(token) <= 5 else " ".join(token)
    if token in _SEPARATORS:
        return _SEPARATORS[token]
    parts = re.findall(r"[A-Za-z]+|\d+", token)
    return " ".join(integer(p) if p.isdigit() else word_or_letters(p) for p in parts)


def _say(text: str) -> str:
    return " ".join(" ".join(_piece(p) for p in _PIECES.split(text)).split())


def _host(host: str) -> str:
    labels = host.split(".")
    if labels[0].lower() == "www":
        labels[0] = "w w w"
    else:
        labels[0] = _say(labels[0])
    tld = labels[-1].lower()
    if len(labels) > 1:
        labels[-1] = letters(tld) if len(tld) == 2 and tld != "co" or tld in _SPELLED_TLDS else tld
    return " dot ".join([labels[0]] + [_say(lab) if i < len(labels) - 2 else lab
                                       for i, lab in enumerate(labels[1:])])


def _address(host: str, port: str | None, path: str) -> str:
    path = path.rstrip("/.,;:!?)")
    out = _host(host)
    if port:
        out += " colon " + integer(port[1:])
    if path:
        out += " " + _say(path)
    return " " + out + " "


def _address_match(m: re.Match[str]) -> str:
    path = m.group(3)
    trail = path[len(path.rstrip("/.,;:!?)")):]
    return _address(m.group(1), m.group(2), path) + trail


def apply(text: str) -> str:
    text = _EMAIL.sub(lambda m: " %s at %s " % (_say(m.group(1)), _host(m.group(2))), text)
    text = _URL.sub(_address_match, text)
    text = _DOMAIN.sub(_address_match, text)
    return _HANDLE.sub(lambda m: " at " + _say(m.group(1)) + " ", text)
