"""What a synthesis gives back (the whole result, a streamed sentence, word timings): plain data, importable
without PyTorch, so that a web process relaying a worker's audio never imports torch."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class WordTiming:
    word: str
    start: float  # seconds
    end: float

    def shifted(self, offset: float) -> "WordTiming":
        return WordTiming(self.word, round(self.start + offset, 3), round(self.end + offset, 3))

    def as_dict(self) -> dict:
        return {"word": self.word, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class AudioChunk:
    """One sentence of a streamed synthesis, ready to send: the pause before it (from the second on) included."""

    index: int  # the sentence's place, from 0
    total: int  # sentences in the text
    audio: np.ndarray  # float32 mono in [-1, 1]
    sample_rate: int
    words: list[WordTiming]  # seconds from this chunk's start
    truncated: bool  # this sentence hit the decoder step limit
    mel_frames: int

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate


@dataclass
class SynthesisResult:
    audio: np.ndarray  # float32 mono in [-1, 1]
    sample_rate: int
    truncated: bool  # some sentence hit the decoder step limit
    timings: dict[str, float]  # seconds: preprocess, tacotron2, vocoder, denoiser, total
    mel_frames: int
    vocoder: str
    voice: str
    sigma: float | None = None
    denoiser_strength: float | None = None
    sentences: int = 1
    words: list[WordTiming] = field(default_factory=list)  # seconds from the start of the audio
    speed: float = 1.0

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate

    @property
    def real_time_factor(self) -> float:
        """Audio seconds produced per second of compute (higher is faster)."""
        return self.duration / max(self.timings.get("total", 0.0), 1e-9)

    def pcm16(self) -> np.ndarray:
        from .audio import to_pcm16  # torch: only where the models run

        return to_pcm16(self.audio)

    def wav_bytes(self) -> bytes:
        from .audio import wav_bytes

        return wav_bytes(self.pcm16(), self.sample_rate)
