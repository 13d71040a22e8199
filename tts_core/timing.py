"""Word timings from Tacotron2's attention: each decoder step attends to input symbols, so the step at which the
attention first reaches a word's symbols is when that word starts.

The attention path is made monotonic (its running maximum) before reading it: an attention that glances back for a
step does not move a word. A word the attention skips gets zero length where it would be.
"""
from __future__ import annotations

import numpy as np
import torch

from .results import WordTiming
from .text import sequence_to_text
from .text.symbols import SYMBOL_TO_ID

_SPACE = SYMBOL_TO_ID[" "]


def word_spans(ids: list[int]) -> list[tuple[str, int, int]]:
    """(word, first symbol, one past the last symbol) for each space-separated word of a symbol sequence; the word
    is what the voice reads (normalized text, or ARPAbet for dictionary words of ARPAbet voices)."""
    spans, start = [], None
    for i, symbol in enumerate([*ids, _SPACE]):
        if symbol == _SPACE:
            if start is not None:
                spans.append((sequence_to_text(ids[start:i]).strip(), start, i))
            start = None
        elif start is None:
            start = i
    return spans


def label_words(spans: list[tuple[str, int, int]], words: list[str]) -> list[tuple[str, int, int]]:
    """Spans labelled with the normalized text's words where they correspond one to one (ARPAbet voices read
    dictionary words as phonemes: the caption should still say the word)."""
    if len(words) != len(spans):
        return spans
    return [(word, a, b) for word, (_, a, b) in zip(words, spans)]


def word_timings(alignment: torch.Tensor, spans: list[tuple[str, int, int]], seconds_per_step: float,
                 duration: float) -> list[WordTiming]:
    """alignment (steps, symbols) of one utterance (its valid steps and symbols only) -> a timing per span, in
    seconds from the utterance's start, monotonic, within [0, duration]."""
    if alignment.numel() == 0 or not spans:
        return []
    path = np.maximum.accumulate(alignment.float().argmax(dim=1).cpu().numpy())
    out = []
    for word, first, past in spans:
        start = int(np.searchsorted(path, first, side="left"))
        end = int(np.searchsorted(path, past, side="left"))
        out.append(WordTiming(word, round(min(start * seconds_per_step, duration), 3),
                              round(min(end * seconds_per_step, duration), 3)))
    return out
