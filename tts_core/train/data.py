"""Training data: utterances from ``prepare`` output, padded batches, length-bucketed batch sampler."""
from __future__ import annotations

import json
import math
import pathlib
import random
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

from ..audio import LOG_CLAMP

# Padding for mel frames: slightly below the spectrogram floor log(1e-5), so padding reads as silence.
MEL_PAD_VALUE = math.log(LOG_CLAMP) - 0.1


@dataclass
class Utterance:
    name: str
    ids: list[int]
    mel: np.ndarray  # (n_mel, frames)


def load_split(features: pathlib.Path, split: str) -> list[Utterance]:
    rows = [json.loads(line) for line in (features / f"{split}.jsonl").read_text().splitlines() if line.strip()]
    return [Utterance(r["name"], r["ids"], np.load(features / "mels" / f"{r['name']}.npy")) for r in rows]


@dataclass
class Batch:
    text: torch.Tensor  # (B, T_in) int64, 0-padded
    text_lengths: torch.Tensor  # (B,)
    mels: torch.Tensor  # (B, n_mel, T_out) padded with MEL_PAD_VALUE, T_out a multiple of r
    gates: torch.Tensor  # (B, T_out / r) 1.0 from the step holding the last frame on
    mel_lengths: torch.Tensor  # (B,)

    def to(self, device: torch.device | str) -> "Batch":
        return Batch(*(t.to(device) for t in (self.text, self.text_lengths, self.mels, self.gates,
                                              self.mel_lengths)))


def collate(items: list[Utterance], n_frames_per_step: int) -> Batch:
    b = len(items)
    r = n_frames_per_step
    max_in = max(len(u.ids) for u in items)
    max_out = max(u.mel.shape[1] for u in items)
    max_out = int(math.ceil(max_out / r) * r)
    n_mel = items[0].mel.shape[0]
    text = torch.zeros(b, max_in, dtype=torch.long)
    mels = torch.full((b, n_mel, max_out), MEL_PAD_VALUE, dtype=torch.float32)
    gates = torch.zeros(b, max_out // r)
    text_lengths = torch.zeros(b, dtype=torch.long)
    mel_lengths = torch.zeros(b, dtype=torch.long)
    for i, u in enumerate(items):
        text[i, : len(u.ids)] = torch.tensor(u.ids)
        frames = u.mel.shape[1]
        mels[i, :, :frames] = torch.from_numpy(u.mel)
        gates[i, (frames - 1) // r:] = 1.0
        text_lengths[i] = len(u.ids)
        mel_lengths[i] = frames
    return Batch(text, text_lengths, mels, gates, mel_lengths)


class BucketBatchSampler:
    """Batches of similar length (less padding, faster steps), in random order, forever."""

    def __init__(self, lengths: list[int], batch_size: int, seed: int = 0) -> None:
        self.lengths = lengths
        self.batch_size = batch_size
        self.rng = random.Random(seed)

    def __iter__(self) -> Iterator[list[int]]:
        while True:
            order = sorted(range(len(self.lengths)), key=lambda i: self.lengths[i] + self.rng.random() * 40)
            batches = [order[i: i + self.batch_size] for i in range(0, len(order), self.batch_size)]
            self.rng.shuffle(batches)
            yield from batches
