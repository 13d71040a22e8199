"""The model owner of this process: one TacotronHandler, built from ``settings.TTS``, shared by all threads.

Never created at import time: Gunicorn forks workers from a master that must not have touched CUDA. A process that
serves synthesis (a Gunicorn worker, later a job worker) calls :func:`process_started` once, after the fork.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings

from tts_core import HandlerConfig, TacotronHandler

log = logging.getLogger(__name__)

_lock = threading.Lock()
_handler: TacotronHandler | None = None
_error: str | None = None


def handler_config() -> HandlerConfig:
    """The handler's configuration, as the settings' TTS block states it."""
    return settings.TTS["HANDLER"]


def process_started() -> None:
    """Per-process set-up from the TTS block: torch's thread count, and the models when they load at start-up.
    A load failure is logged, not raised: the process still answers health checks, and readiness says why."""
    threads = settings.TTS["TORCH_THREADS"]
    if threads:
        import torch

        torch.set_num_threads(threads)
    if settings.TTS["LOAD_AT_STARTUP"]:
        try:
            get_handler()
        except Exception as exc:
            log.error("TTS models failed to load: %s", exc)


def get_handler() -> TacotronHandler:
    """The process's initialized handler; raises ModelNotReadyError / CheckpointError when it cannot load."""
    global _handler, _error
    if _handler is not None and _handler.initialized:
        return _handler
    with _lock:
        if _handler is None or not _handler.initialized:
            handler = TacotronHandler(handler_config())
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
