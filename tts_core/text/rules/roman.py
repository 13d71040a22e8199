"""Roman numerals in names, titles and chapters: 'Henry VIII' -> henry the eighth; 'Super Bowl LVII' -> super bowl
fifty-seven; 'Chapter IV' -> chapter four; 'World War II' / 'WWII' -> world war two; 'Apollo XI' -> apollo eleven.

Rules: after a monarch's or pope's name, an ordinal with 'the' (Henry VIII -> henry the eighth); a lone 'I' only
with a title before the name (Queen Elizabeth I), since 'Paul I saw you' is the pronoun. After capitalized words
that number things (Chapter, Part, Volume, Act, Episode, Article, War, Bowl, ...), a cardinal; of the one-letter
numerals only I, V and X (Part C, Type D, Grade C are letters). After any other capitalized word, only numerals of
two or more of I, V, X (Rocky II, Final Fantasy VII), so 'I' stays the pronoun, 'Malcolm X' stays x, and acronyms
like 'DC', 'CD', 'MIX' are not numbers. A one-letter numeral followed by a full stop and a name is an initial
(John C. Reilly).
(Malcolm is not in the list of monarchs: Malcolm X is far more often meant than Malcolm III.)
"""
from __future__ import annotations

import re

from ..numbers import cardinal, ordinal

_VALID = re.compile(r"^M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")
_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_REGNAL = ("Henry|Edward|George|William|Richard|Charles|James|John|Paul|Elizabeth|Mary|Victoria|Louis|Philip|"
           "Ferdinand|Frederick|Alexander|Peter|Catherine|Nicholas|Ivan|Leo|Pius|Gregory|Benedict|Innocent|Clement|"
           "Urban|Boniface|Francis|Napoleon|Ramesses|Ramses|Constantine|Justinian|Otto|Wilhelm|Friedrich|Ludwig|"
           "Gustav|Carl|Christian|Olaf|Harald|Haakon|Sancho|Alfonso|Juan|Felipe|Pedro|Manuel|Carlos|Rama|David|"
           "Robert|Stephen|Anne|Isabella|Matilda|Llywelyn|Kamehameha|Selim|Mehmed|Suleiman|Darius|Xerxes|"
           "Cyrus|Ptolemy|Cleopatra|Antiochus|Seleucus|Amenhotep|Thutmose|Sobhuza|Mswati|Akihito|Naruhito")
_COUNTERS = ("Chapter|Part|Volume|Vol\\.|Book|Act|Scene|Episode|Article|Section|Phase|Stage|Level|Class|Type|Grade|"
             "Title|Appendix|War|Bowl|Round|Season|Game|Unit|Series|Step|Figure|Table|Psalm|Canto|Era|"
             "Dynasty|Vatican Council")
_NUMERAL = r"[IVXLCDM]+"
_WW = re.compile(r"\bWW\s?(II|I|2|1)\b")
_NOT_INITIAL = r"\b(?![.'\u2019]?\w)(?!\.\s+[A-Z])"
_TITLE = r"(?:King|Queen|Pope|Emperor|Empress|Tsar|Czar|Tsarina|Kaiser|Sultan|Pharaoh|Shah|Prince|Princess)"
_REGNAL_RE = re.compile(r"\b(%s)\s+(%s)%s" % (_REGNAL, _NUMERAL, _NOT_INITIAL))
_TITLED_FIRST = re.compile(r"\b(%s\s+(?:%s))\s+I%s" % (_TITLE, _REGNAL, _NOT_INITIAL))
_COUNTER_RE = re.compile(r"\b(%s)\s+(%s)%s" % (_COUNTERS, _NUMERAL, _NOT_INITIAL))
_GENERIC_RE = re.compile(r"\b([A-Z][a-z]+\s+)([IVX]{2,})\b(?![.'\u2019]?\w)")


def value(numeral: str) -> int | None:
    """'LVII' -> 57; None when it is not a well-formed numeral."""
    if not numeral or not _VALID.match(numeral):
        return None
    total = 0
    for ch, nxt in zip(numeral, numeral[1:] + " "):
        v = _VALUES[ch]
        total += -v if nxt != " " and _VALUES[nxt] > v else v
    return total


def _regnal(m: re.Match[str]) -> str:
    numeral = m.group(2)
    n = value(numeral) if numeral != "I" and (len(numeral) > 1 or numeral in "VX") else None
    return f"{m.group(1)} the {ordinal(n)}" if n else m.group(0)


def _counted(m: re.Match[str]) -> str:
    numeral = m.group(2)
    n = value(numeral) if len(numeral) > 1 or numeral in "IVX" else None
    return f"{m.group(1)} {cardinal(n)}" if n else m.group(0)


def _generic(m: re.Match[str]) -> str:
    n = value(m.group(2))
    return f"{m.group(1)}{cardinal(n)}" if n else m.group(0)


def apply(text: str) -> str:
    text = _WW.sub(lambda m: "world war " + ("two" if m.group(1) in ("II", "2") else "one"), text)
    text = _TITLED_FIRST.sub(lambda m: f"{m.group(1)} the first", text)
    text = _REGNAL_RE.sub(_regnal, text)
    text = _COUNTER_RE.sub(_counted, text)
    return _GENERIC_RE.sub(_generic, text)
