"""tts_core: Tacotron2 + WaveGlow text-to-speech in pure Python and PyTorch (no Django here)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["TacotronHandler", "HandlerConfig", "SynthesisResult", "SynthesisOptionError", "ModelNotReadyError"]

if TYPE_CHECKING:
    from .config import HandlerConfig
    from .errors import ModelNotReadyError, SynthesisOptionError
    from .handler import TacotronHandler
    from .results import SynthesisResult

# Lazy, and only the handler needs torch: `python -m tts_core.train.corpus` builds text, and a web process that
# queues jobs catches the errors and relays results, without importing torch.
_HOMES = {"TacotronHandler": "handler", "HandlerConfig": "config", "SynthesisResult": "results",
          "SynthesisOptionError": "errors", "ModelNotReadyError": "errors"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(name)
