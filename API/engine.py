"""The model owner of this process: one TacotronHandler, built from ``settings.TTS``, shared by all threads.

Never created at import time: Gunicorn forks workers from a master that must not have touched CUDA. A process that
serves synthesis (a Gunicorn worker with the inline backend, a Celery worker process) calls :func:`process_started`
once, after the fork.

A failed load is remembered with a back-off (5 s, doubling up to 5 min): readiness probes and synthesis requests in
between answer at once instead of loading the models again. Callers see a generic reason; the log has the detail
(server paths, the exception).
"""
from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings

from tts_core.config import HandlerConfig
from tts_core.errors import ModelNotReadyError

from .exceptions import ModelBusy

if TYPE_CHECKING:  # torch is imported by the process that loads the models, when it loads them
    from tts_core.handler import TacotronHandler

log = logging.getLogger(__name__)

PUBLIC_LOAD_FAILURE = "the speech models failed to load; the server log has the details"
RETRY_FIRST_S, RETRY_MAX_S = 5.0, 300.0
_clock = time.monotonic  # the back-off's clock (tests move it)

_lock = threading.Lock()
_handler: TacotronHandler | None = None

T = TypeVar("T")
_model_thread_lock = threading.Lock()
_model_thread: ThreadPoolExecutor | None = None
_model_thread_pid = 0
_model_thread_idents: set[int] = set()
_process_role: str | None = None  # what process_started was told; before it, settings.TTS["PROCESS_ROLE"]


def _model_executor() -> ThreadPoolExecutor:
    global _model_thread, _model_thread_pid
    with _model_thread_lock:
        if _model_thread is None or _model_thread_pid != os.getpid():  # made after the fork, never inherited
            # With dynamic batching, up to a batch of syntheses run at once; their model work meets on the
            # handler's own owner thread (tts_core.batching), which batches their decoders.
            workers = max(1, handler_config().dynamic_batch_size)
            _model_thread = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tts-model",
                                               initializer=_remember_model_thread)
            _model_thread_pid = os.getpid()
        return _model_thread


def _remember_model_thread() -> None:
    _model_thread_idents.add(threading.get_ident())


# A forked child has none of its parent's threads; an inherited id could be reused by a new thread of its own.
os.register_at_fork(after_in_child=_model_thread_idents.clear)


def on_model_thread(fn: Callable[..., T], *args: Any, start_within: float | None = None, **kwargs: Any) -> T:
    """Run ``fn`` on the thread that owns this process's models, and wait for it.

    A web process loads and runs its models on one thread of its own: PyTorch's CPU kernels run about half as
    fast when called from threads other than the one that first ran them (measured: 0.45 s against 0.93 s for
    the same paragraph, OpenMP thread teams per calling thread), and one owner thread also runs one synthesis at
    a time, as the cores allow. With dynamic batching (TTS_DYNAMIC_BATCH_SIZE) a pool of that many threads runs
    syntheses at once, and the handler hands all their model work to its own single owner thread. A Celery
    worker process runs its task on the thread that loaded the models: there, and on the owner thread itself,
    ``fn`` runs at once.

    ``start_within``: seconds ``fn`` may wait for the thread (behind other syntheses); not started by then, it is
    not run at all and ModelBusy is raised (a started one is waited for)."""
    if (_process_role or settings.TTS["PROCESS_ROLE"]) == "worker" or threading.get_ident() in _model_thread_idents:
        return fn(*args, **kwargs)
    future = _model_executor().submit(fn, *args, **kwargs)
    try:
        return future.result(timeout=start_within)
    except FutureTimeout:
        if future.cancel():
            raise ModelBusy() from None
        return future.result()


@dataclasses.dataclass(frozen=True)
class LoadFailure:
    attempts: int
    retry_at: float


_failure: LoadFailure | None = None


def handler_config() -> HandlerConfig:
    """The handler's configuration, as the settings' TTS block states it."""
    return settings.TTS["HANDLER"]


def serves_synthesis(role: str) -> bool:
    """Whether a process of this role ("web" or "worker") owns the models: web processes with the inline backend,
    Celery worker processes always (web processes never load them with the celery backend)."""
    return role == "worker" or settings.TTS["BACKEND"] == "inline"


def process_started(role: str = "web") -> None:
    """Per-process set-up, once after the fork: torch's thread count, and for a process that synthesizes, the models
    (workers always, web processes when TTS_LOAD_AT_STARTUP) and, inline, the sweep of jobs that died with an earlier
    process. A load failure is logged, not raised: the process still answers health checks, and readiness says why."""
    global _process_role
    _process_role = role
    if not serves_synthesis(role):
        return  # a web process of the celery backend: no models, and no torch
    threads = settings.TTS["TORCH_THREADS"]
    if threads:
        import torch

        torch.set_num_threads(threads)
    if role == "web":
        from .jobs import interrupt_lost_jobs

        try:
            interrupt_lost_jobs()
        except Exception:  # the database may be down at start; the next process start (or release) sweeps
            log.warning("could not sweep interrupted jobs", exc_info=True)
    if role == "worker" or settings.TTS["LOAD_AT_STARTUP"]:
        try:
            get_handler()
        except ModelNotReadyError:
            pass  # logged by get_handler


def get_handler() -> TacotronHandler:
    """The process's initialized handler (loaded on the model thread: see :func:`on_model_thread`). Raises
    ModelNotReadyError (with a public message) when the models cannot load, now or at the last attempt within the
    back-off."""
    if _handler is not None and _handler.initialized:
        return _handler
    return on_model_thread(_load)


def _load() -> TacotronHandler:
    global _handler, _failure
    if _handler is not None and _handler.initialized:
        return _handler
    with _lock:
        if _handler is not None and _handler.initialized:
            return _handler
        if _failure is not None and _clock() < _failure.retry_at:
            raise ModelNotReadyError(PUBLIC_LOAD_FAILURE)
        attempts = _failure.attempts + 1 if _failure else 1
        try:
            from tts_core.handler import TacotronHandler

            handler = TacotronHandler(handler_config()).initialize()
        except Exception as exc:  # any load failure (missing file, bad checkpoint, no dictionary) is a 503
            delay = min(RETRY_FIRST_S * 2 ** (attempts - 1), RETRY_MAX_S)
            _failure = LoadFailure(attempts=attempts, retry_at=_clock() + delay)
            log.error("TTS models failed to load (attempt %d, next in %.0f s): %s: %s", attempts, delay,
                      type(exc).__name__, exc, exc_info=not isinstance(exc, ModelNotReadyError))
            raise ModelNotReadyError(PUBLIC_LOAD_FAILURE) from exc
        _handler, _failure = handler, None
    from . import metrics

    metrics.model_loaded(handler)
    return _handler


def status() -> dict[str, Any]:
    """Readiness without loading anything: whether the models are loaded and which voice, or a public reason."""
    handler = _handler
    if handler is not None and handler.initialized:
        return {"ready": True, "voice": handler.voice, "vocoders": list(handler.vocoders),
                "default_vocoder": handler.default_vocoder, "device": str(handler.device),
                "precision": handler.precision,
                "sample_rate": handler.audio_config.sampling_rate}
    failure = _failure
    if failure is not None:
        return {"ready": False, "reason": PUBLIC_LOAD_FAILURE,
                "retry_in_s": max(0, round(failure.retry_at - _clock()))}
    return {"ready": False, "reason": "models not loaded yet"}


def reset_for_tests() -> None:
    global _handler, _failure
    with _lock:
        _handler, _failure = None, None
