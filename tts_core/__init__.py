"""tts_core: Tacotron2 + WaveGlow text-to-speech in pure Python and PyTorch (no Django here)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["TacotronHandler", "HandlerConfig", "SynthesisResult", "SynthesisOptionError", "ModelNotReadyError"]

if TYPE_CHECKING:
    from .handler import HandlerConfig, ModelNotReadyError, SynthesisOptionError, SynthesisResult, TacotronHandler


def __getattr__(name: str) -> Any:
    # Lazy, so that `python -m tts_core.train.corpus` does not import torch just to build text.
    if name in __all__:
        from . import handler

        return getattr(handler, name)
    raise AttributeError(name)
