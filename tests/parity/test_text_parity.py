"""NVIDIA parity of text_to_sequence for plain text: NVIDIA's own ids (scripts/make_text_goldens.py ran their
english_cleaners once) against ours, exactly. The front end's other classes read text differently on purpose."""
from __future__ import annotations

import json
import pathlib

import pytest

from tts_core.text import text_to_sequence

GOLDENS = json.loads((pathlib.Path(__file__).parent / "goldens/text_sequences.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("sentence", list(GOLDENS))
def test_plain_text_gives_nvidias_symbol_ids(sentence):
    assert text_to_sequence(sentence) == GOLDENS[sentence]
