"""The text front end reads everyday written English as people say it (cases.tsv, one class per line, written from
how people read aloud), never lets anything unspeakable reach the model, and survives hostile input."""
from __future__ import annotations

import pathlib
import random
import re
import time

import pytest

from tts_core.text import SYMBOLS, UnspeakableTextError, clean_text, split_sentences, text_to_sequence
from tts_core.text.compare import read_cases, spoken_form
from tts_core.text.normalize import normalize
from tts_core.text.rules import roman

CASES = pathlib.Path(__file__).with_name("cases.tsv")


ROWS = read_cases(CASES)


def test_every_class_the_issue_names_has_many_cases():
    counts: dict[str, int] = {}
    for cls, _, _ in ROWS:
        counts[cls] = counts.get(cls, 0) + 1
    for cls in ("telephone", "date", "decade", "range", "fraction", "roman", "measure", "temperature", "currency",
                "percent", "web", "hashtag", "symbol", "abbreviation", "time"):
        assert counts.get(cls, 0) >= 7, cls


@pytest.mark.parametrize("cls, written, spoken", ROWS, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(ROWS)])
def test_written_text_is_read_as_people_say_it(cls, written, spoken):
    assert spoken_form(clean_text(written)) == spoken_form(spoken[0])
    # the voice hears it sentence by sentence: abbreviations must not split a sentence or change its reading
    by_sentence = " ".join(clean_text(s) for s in split_sentences(written))
    assert spoken_form(by_sentence) == spoken_form(spoken[0])


# Words the rules themselves produce that the CMU dictionary lacks but that are ordinary English.
_UNIT_WORDS = {"gigahertz", "megahertz", "kilohertz", "megabits", "megabit", "gigabits", "gigabit", "kilobits",
               "kilobit", "petabytes", "petabyte", "milliamp", "milliamps", "kilocalories", "kilocalorie",
               "centiliter", "centiliters", "deciliter", "deciliters", "micrometer", "micrometers", "misess",
               "agorot", "paise", "rappen", "kurus"}


def test_the_rules_add_only_words_a_voice_can_say(tmp_path):
    """Every word the front end adds (not copied from the input) is a dictionary word, a single letter, or an
    ordinary unit word: nothing like 'degc' or 'rsthree' reaches the model."""
    from tts_core.text import cmudict

    lexicon = cmudict.load()
    for _, written, _ in ROWS:
        given = set(re.findall(r"[a-z']+", written.lower()))
        for word in re.findall(r"[a-z']+", clean_text(written).replace("-", " ")):
            if word in given or len(word) == 1 or word in _UNIT_WORDS:
                continue
            assert word in lexicon or word.strip("'") in lexicon, (word, written)


def test_plain_text_passes_through_unchanged():
    """Text with nothing to expand is NVIDIA's cleaning exactly: lowercased, whitespace collapsed."""
    plain = ("Printing, in the only sense with which we are at present concerned, differs from most if not from "
             "all the arts and crafts represented in the Exhibition.")
    assert clean_text(plain) == plain.lower()
    assert normalize("I think I can, said the little engine; and it did!") == \
        "I think I can, said the little engine; and it did!"


_PIECES = ["1", "23", "0199", "-", "–", "/", ".", ",", ":", "%", "‰", "°", "°C", "$", "£", "€", "¥", "₹", "¢", "#",
           "@", "&", "+", "=", "x", "am", "PM", "kg", "mi", "km/h", "m²", "½", "Jan", "May", "Mon", "IV", "XL",
           "St.", "No.", "e.g.", "www.", ".com", "http://", "(", ")", "'", " ", " ", "A", "z", "😀", "字", "\u200b",
           "\x00", "\n"]


def test_hostile_input_never_crashes_and_stays_in_the_symbol_table():
    rng = random.Random(1234)
    allowed = set(s for s in SYMBOLS if len(s) == 1)
    for _ in range(3000):
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 25)))
        try:
            cleaned = clean_text(text)
        except UnspeakableTextError:
            continue
        assert set(cleaned) <= allowed, (text, cleaned)
        assert not re.search(r"\d", cleaned)
        text_to_sequence(text)


@pytest.mark.parametrize("text", ["Pay $99999999999999999999 now.", "€99999999999999999999", "100000000000000000000¢",
                                  "99999999999999999999 1/2 cups", "-$1,000,000,000,000,000,000", "#99999999999999999999",
                                  "99999999999999999999th", "99999999999999999999%", "99999999999999999999 kg"])
def test_huge_numbers_are_read_digit_by_digit_not_an_error(text):
    cleaned = clean_text(text)
    assert "nine" in cleaned or "zero" in cleaned or "one" in cleaned


@pytest.mark.parametrize("piece", ["a.", "1-", "1/", "1%", "a@", "#a", "I ", "1 ", "12:", "$1", "+1 ", "Mr ", "x."])
def test_pathological_repetition_stays_linear(piece):
    """No rule backtracks catastrophically (a guard against quadratic regexes, not a speed target)."""
    text = piece * 20_000
    start = time.perf_counter()
    normalize(text)
    assert time.perf_counter() - start < 20


def test_roman_numeral_values():
    assert [roman.value(n) for n in ("I", "IV", "IX", "XIV", "XLII", "LVII", "MCMXCIX")] == \
        [1, 4, 9, 14, 42, 57, 1999]
    assert roman.value("IIII") is None and roman.value("VX") is None and roman.value("") is None


def test_a_failing_rule_is_logged_and_the_text_read_without_it(monkeypatch, caplog):
    """A bug in one rule (here: injected) must not make a user's text a server error."""
    from tts_core.text.rules import dates

    def broken(text):
        raise RuntimeError("injected")

    monkeypatch.setattr(dates, "apply", broken)
    assert clean_text("It costs $5 on July 4.") == "it costs five dollars on july four."
    assert "text rule tts_core.text.rules.dates failed" in caplog.text


@pytest.mark.parametrize("piece", ["Dr. ", "U.S. ", "No. 5 ", "a. ", "Wed. Oct. "])
def test_sentence_splitting_stays_linear_on_abbreviations(piece):
    """A guard against quadratic splitting (each full stop looks back only at its own word), not a speed target."""
    start = time.perf_counter()
    pieces = split_sentences(piece * 5000)
    assert time.perf_counter() - start < 5 and all(len(p) <= 250 for p in pieces)
