"""One TacotronHandler per process, created lazily (or at worker start), shared by all threads.

Never created at import time: Gunicorn forks workers from a master that must not have touched CUDA.
"""
from __future__ import annotations

import threading
from typing import Any

from django.conf import settings

from tts_core import HandlerConfig, TacotronHandler

_lock = threading.Lock()
_handler: TacotronHandler | None = None
_error: str | None = None


def get_handler() -> TacotronHandler:
    """The process's initialized handler; raises ModelNotReadyError / CheckpointError when it cannot load."""
    global _handler, _error
    if _handler is not None and _handler.initialized:
        return _handler
    with _lock:
        if _handler is None or not _handler.initialized:
            handler = TacotronHandler(HandlerConfig.from_env(max_text_length=settings.TTS_MAX_TEXT_LENGTH))
            try:
                handler.initialize()
            except Exception as exc:
                _error = f"{type(exc).__name__}: {exc}"
                raise
            _handler, _error = handler, None
    return _handler


def status() -> dict[str, Any]:
    """Readiness without loading anything: whether the models are loaded, which voice, or why not."""
    handler = _handler
    if handler is not None and handler.initialized:
        return {"ready": True, "voice": handler.voice, "vocoders": list(handler.vocoders),
                "default_vocoder": handler.default_vocoder, "device": str(handler.device),
                "precision": handler.precision,
                "sample_rate": handler.audio_config.sampling_rate}
    return {"ready": False, "reason": _error or "models not loaded yet"}


def reset_for_tests() -> None:
    global _handler, _error
    with _lock:
        _handler, _error = None, None
