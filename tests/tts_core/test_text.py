import time

import pytest

from tts_core.text import (SYMBOLS, TextError, UnspeakableTextError, clean_text, sequence_to_text, split_sentences,
                           text_to_sequence, to_arpabet)
from tts_core.text.normalize import normalize
from tts_core.text.numbers import cardinal, normalize_numbers, ordinal, year
from tts_core.text.symbols import SYMBOL_TO_ID


def test_symbol_table_matches_nvidia_layout():
    # Facts from NVIDIA's english symbol table: pad, '-', punctuation "!'(),.:;? ", A-Z, a-z, then 84 ARPAbet.
    assert len(SYMBOLS) == 148
    assert SYMBOLS[:12] == ("_", "-", "!", "'", "(", ")", ",", ".", ":", ";", "?", " ")
    assert SYMBOL_TO_ID["A"] == 12 and SYMBOL_TO_ID["a"] == 38 and SYMBOL_TO_ID["z"] == 63
    assert SYMBOLS[64] == "@AA" and SYMBOLS[-1] == "@ZH" and SYMBOLS.index("@B") == 88


def test_text_to_sequence_lowercases_and_maps():
    assert text_to_sequence("Hi!") == [SYMBOL_TO_ID["h"], SYMBOL_TO_ID["i"], SYMBOL_TO_ID["!"]]


def test_curly_braces_are_arpabet():
    ids = text_to_sequence("say {HH AH0 L OW1} now")
    assert [SYMBOLS[i] for i in ids[4:8]] == ["@HH", "@AH0", "@L", "@OW1"]
    assert sequence_to_text(ids) == "say {HH AH0 L OW1} now"


def test_invalid_arpabet_symbols_are_dropped_not_crashing():
    ids = text_to_sequence("a {XX HH} b")
    assert [SYMBOLS[i] for i in ids] == ["a", " ", "@HH", " ", "b"]


@pytest.mark.parametrize("text, expected", [
    ("1,234", "one thousand two hundred thirty-four"),
    ("1,000,000 people", "one million people"),
    ("-5 degrees", "minus five degrees"),
    ("3.14", "three point one four"),
    ("the 21st century", "the twenty-first century"),
    ("my 2nd and 103rd try", "my second and one hundred third try"),
    ("in 1999 and 2005 and 2026", "in nineteen ninety-nine and two thousand five and twenty twenty-six"),
    ("at 10:30", "at ten thirty"),
    ("at 7:05 pm", "at seven oh five p m"),
    ("at 9:00", "at nine o'clock"),
    ("12.5%", "twelve point five percent"),
    ("$1.50", "one dollar and fifty cents"),
    ("$5 million", "five million dollars"),
    ("£2.5 billion", "two point five billion pounds"),
    ("€20", "twenty euros"),
    ("$0.01", "one cent"),
    ("221B", "two hundred twenty-one B"),
])
def test_number_normalizer(text, expected):
    assert normalize(text) == expected
    if not any(c in text for c in "$£€%:"):  # money, percentages and times are rules of their own
        assert normalize_numbers(text) == expected


def test_number_words():
    assert cardinal(0) == "zero"
    assert cardinal(1_000_001) == "one million one"
    assert ordinal(12) == "twelfth" and ordinal(40) == "fortieth" and ordinal(101) == "one hundred first"
    assert year(1900) == "nineteen hundred" and year(1905) == "nineteen oh five"


@pytest.mark.parametrize("text, expected", [
    # 'Baker St.' is a street (NVIDIA's cleaners say saint); an abbreviation that ends the text keeps its full stop
    ("Mr. Smith met Dr. Jones on Baker St.", "mister smith met doctor jones on baker street."),
    ("Capt. Sgt. Mt. Ltd. Co. Jr.", "captain sergeant mount limited company junior."),
    ("Café  naïve\tfaçade", "cafe naive facade"),
    ("Tom & Jerry", "tom and jerry"),
    ("Hello 世界!", "hello !"),
    ("wait...   what??", "wait. what?"),
])
def test_clean_text(text, expected):
    assert clean_text(text) == expected


@pytest.mark.parametrize("bad", ["", "   ", "😀🎉", "中文字符", "Привет", "\x00\x01\x02", "!!! ...", "{XX YY}"])
def test_unspeakable_text_raises_clear_error(bad):
    with pytest.raises(UnspeakableTextError):
        text_to_sequence(bad)
    if "{" not in bad:
        with pytest.raises(UnspeakableTextError):
            clean_text(bad)


def test_non_string_raises_text_error():
    with pytest.raises(TextError):
        clean_text(b"bytes")  # type: ignore[arg-type]


def test_very_long_text_is_cleaned_quickly():
    text = "The year 1999 cost $5. " * 5000  # 115k characters
    start = time.perf_counter()
    ids = text_to_sequence(text)
    assert len(ids) > 100_000
    assert time.perf_counter() - start < 30  # generous: guards against quadratic regexes only


def test_arpabet_front_end_uses_dictionary_and_keeps_unknown_words():
    lexicon = {"hello": "HH AH0 L OW1", "world": "W ER1 L D", "twenty": "T W EH1 N T IY0", "one": "W AH1 N"}
    assert to_arpabet("hello, world zorp", lexicon) == "{HH AH0 L OW1}, {W ER1 L D} zorp"
    assert to_arpabet("twenty-one", lexicon) == "{T W EH1 N T IY0} {W AH1 N}"


def test_split_sentences_keeps_pieces_short():
    text = "First sentence. Second one! " + ", ".join(["word word word"] * 40) + "."
    pieces = split_sentences(text, max_chars=100)
    assert pieces[:2] == ["First sentence.", "Second one!"]
    assert all(len(p) <= 100 for p in pieces)
    assert " ".join(pieces).replace(" ", "") == text.replace(" ", "")


@pytest.mark.parametrize("text, sentences", [
    ("Mr. Smith met Dr. Jones on Baker St. Then they left.",
     ["Mr. Smith met Dr. Jones on Baker St.", "Then they left."]),
    ("She visited St. Louis. Then home.", ["She visited St. Louis.", "Then home."]),
    ("See you Feb. 2nd! Bring snacks, e.g. fruit.", ["See you Feb. 2nd!", "Bring snacks, e.g. fruit."]),
    ("Doors open at 10 a.m. sharp. It ended at 5 p.m. The next day was calm.",
     ["Doors open at 10 a.m. sharp.", "It ended at 5 p.m.", "The next day was calm."]),
    ("Pens, paper, etc. are provided. J. K. Rowling wrote it.",
     ["Pens, paper, etc. are provided.", "J. K. Rowling wrote it."]),
    ("Read pp. 12-14 of vol. 2. Then rest.", ["Read pp. 12-14 of vol. 2.", "Then rest."]),
    ("First.\n\nSecond", ["First.", "Second"]),
])
def test_abbreviations_do_not_end_sentences(text, sentences):
    assert split_sentences(text) == sentences
