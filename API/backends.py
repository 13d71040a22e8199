"""Where a queued job goes: this process's executor (inline) or the Celery queue (celery). Nothing else differs
between the two: the job itself (API.jobs) and its record are the same."""
from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings

from .exceptions import QueueUnavailable
from .models import TTSound

log = logging.getLogger(__name__)

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_executor_pid = 0


def name() -> str:
    return settings.TTS["BACKEND"]


def _inline_executor() -> ThreadPoolExecutor:
    """This process's job threads (made after the fork: a forked child never inherits its parent's)."""
    global _executor, _executor_pid
    with _lock:
        if _executor is None or _executor_pid != os.getpid():
            _executor = ThreadPoolExecutor(max_workers=settings.TTS["INLINE_JOBS"], thread_name_prefix="tts-job")
            _executor_pid = os.getpid()
        return _executor


def submit(sound: TTSound, *, stream: bool = False, keep: bool = True) -> None:
    """Start the job of a committed, queued record. Raises QueueUnavailable when the broker cannot take it.
    ``stream`` (celery): the worker publishes the audio as it is made (API.streams), and with ``keep=False`` stores
    none of it; inline streams run on their own thread (API.streams.LocalListener), not here."""
    from . import jobs

    if sound.backend == TTSound.Backend.INLINE:
        _inline_executor().submit(jobs.run_inline, sound.pk)
        return
    from kombu.exceptions import OperationalError as BrokerError

    from .tasks import synthesize

    try:
        # The record's uuid is the task's id: a retry or a re-queue is the same task, and logs say which record.
        options = {"stream": True, "keep": keep} if stream else {}
        synthesize.apply_async(args=[str(sound.pk)], kwargs=options,
                               task_id=str(sound.pk), retry=True)
    except BrokerError as exc:
        raise QueueUnavailable(exc) from exc


def broker_ping() -> None:
    """One connection to the broker; raises QueueUnavailable when it cannot be reached."""
    from kombu.exceptions import OperationalError as BrokerError

    from tacotron_tts.celery import app

    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT)
    except (BrokerError, OSError) as exc:
        raise QueueUnavailable(exc) from exc


def wait_for_inline_jobs_for_tests() -> None:
    """Let the executor's queued jobs finish (tests only; a new executor is made on the next submit)."""
    global _executor
    with _lock:
        executor, _executor = _executor, None
    if executor is not None:
        executor.shutdown(wait=True)
