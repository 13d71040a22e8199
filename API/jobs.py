"""One synthesis job, run the same way by the inline executor and by Celery workers.

The record is the job: a worker *claims* it (queued or running -> running, attempts + 1, as one conditional UPDATE),
synthesizes with progress written to the row, writes the file under a name of its own attempt, and marks it done
in the same conditional way. ``attempts`` is the claim's version: a redelivered job (its worker died) takes over by
claiming again, and an older attempt that turns out to be alive finds its version gone, deletes its own file and
stops. A deleted record (a cancelled job) stops its job the same way at the next sentence. So every interleaving
ends with one row, at most one file, and the file exactly when the status is done.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import socket
import time
from collections.abc import Callable

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import InterfaceError, OperationalError, close_old_connections, connection, transaction
from django.utils import timezone

from tts_core.results import AudioChunk, SynthesisResult
from tts_core.encoding import encode, output_rate

from .exceptions import JobError, JobTimeout, StorageError, classify
from .models import TTSound
from .signals import delete_file

log = logging.getLogger(__name__)

Status = TTSound.Status
UNFINISHED = (Status.QUEUED, Status.RUNNING)


INTERRUPTED = JobError("interrupted", "the server stopped while this job was pending or running; submit the text "
                                      "again")


# publish(chunk, attempt): a sentence's audio for a streaming request's listener (see API.streams); a chunk of None
# says that all the audio has been sent (a job not to be kept then ends without storing anything)
Publish = Callable[[AudioChunk | None, int], None]


class RetryLater(Exception):
    """The job met a transient failure and is queued again; its runner should run it again after ``delay`` s."""

    def __init__(self, delay: float, error: JobError):
        super().__init__(error.message)
        self.delay, self.error = delay, error


class JobGone(Exception):
    """The record was deleted (the job was cancelled) or a newer attempt took it over: stop, keep nothing."""


def retry_delay(retries: int) -> float:
    return settings.TTS["JOB_RETRY_DELAY"] * 2 ** retries


# ------------------------------------------------------------------------------------------------ identity
def inline_runner() -> str:
    """This web process, as an inline job's runner: its host and pid (read after the fork)."""
    return f"inline:{socket.gethostname()}:{os.getpid()}"


# ------------------------------------------------------------------------------------------------ storing
def result_fields(result: SynthesisResult, sound: TTSound) -> dict:
    """The record's fields that a finished synthesis fills in (the sample rate: the stored file's)."""
    return {"inference_time": result.timings["total"], "duration": result.duration,
            "sample_rate": output_rate(sound.audio_format, result.sample_rate, sound.requested_sample_rate),
            "voice": result.voice, "vocoder": result.vocoder, "sigma": result.sigma,
            "denoiser_strength": result.denoiser_strength, "truncated": result.truncated,
            "sentences_done": result.sentences, "sentences_total": result.sentences,
            "words": [w.as_dict() for w in result.words] if sound.timestamps else None}


def store_audio(sound: TTSound, result: SynthesisResult, commit) -> bool:
    """Write the WAV under the record's name for its attempt, then ``commit(name)`` in a transaction. The file is
    deleted when commit returns False (the record is gone or taken over) or anything fails, a partial write too:
    the name is fixed before writing."""
    storage = sound.audio_join.storage
    name = sound.audio_join.field.generate_filename(sound, "")
    try:
        with transaction.atomic():
            try:
                name = storage.save(name, ContentFile(encode(result.audio, result.sample_rate, sound.audio_format,
                                                             out_rate=sound.requested_sample_rate)))
            except OSError as exc:
                raise StorageError(exc) from exc
            kept = commit(name)
    except BaseException:
        # An asynchronous exception (Celery's soft time limit, a signal) can land after the COMMIT, while the
        # transaction block exits: the record then names this file, which must stay.
        if not _names_file(sound, name):
            delete_file(storage, name)
        raise
    if not kept:
        delete_file(storage, name)
    return kept


def _names_file(sound: TTSound, name: str) -> bool:
    """Whether the committed record holds ``name`` (True when that cannot be read: keep a file rather than lose one
    a record may point to; manage.py clean_orphans removes what no record names)."""
    try:
        return TTSound.objects.filter(pk=sound.pk, audio_join=name).exists()
    except Exception:  # noqa: BLE001 - the database is down: decide for keeping
        return True


# ------------------------------------------------------------------------------------------------ the job
def _current(pk, attempt: int):
    return TTSound.objects.filter(pk=pk, attempts=attempt, status=Status.RUNNING)


def claim(pk, *, runner: str) -> TTSound | None:
    """Take the job: queued (or running, when its earlier attempt died) -> running. None when there is nothing to
    run: the record is gone (cancelled), finished, or was claimed by someone else just now."""
    sound = TTSound.objects.filter(pk=pk).first()
    if sound is None or sound.status not in UNFINISHED:
        return None
    claimed = TTSound.objects.filter(pk=pk, attempts=sound.attempts, status__in=UNFINISHED).update(
        status=Status.RUNNING, attempts=sound.attempts + 1, runner=runner, started_at=timezone.now(),
        sentences_done=0, error="", error_code="")
    if not claimed:
        return None
    if sound.status == Status.RUNNING:
        log.warning("job %s: attempt %d takes over from attempt %d (%s)", pk, sound.attempts + 1, sound.attempts,
                    sound.runner)
    sound.refresh_from_db()
    _delete_earlier_attempts_files(sound)
    return sound


def _delete_earlier_attempts_files(sound: TTSound) -> None:
    """What a dead attempt may have written before it could commit (never another live attempt's: see module)."""
    storage, attempts = sound.audio_join.storage, sound.attempts
    for earlier in range(1, attempts):
        sound.attempts = earlier
        delete_file(storage, sound.audio_join.field.generate_filename(sound, ""))
    sound.attempts = attempts


def _synthesize(sound: TTSound, publish: Publish | None = None, keep: bool = True) -> bool:
    """Synthesize and store a claimed job; False when it was cancelled or taken over meanwhile. ``publish`` hears
    each sentence's audio as it is made (a streaming request's listener). ``keep=False`` (a stream not to be
    recorded): once its audio is sent, the record is deleted and nothing is stored."""
    from .engine import get_handler

    handler = get_handler()
    attempt, started, limit = sound.attempts, time.monotonic(), settings.TTS["JOB_TIME_LIMIT"]

    def progress(done: int, total: int) -> None:
        if time.monotonic() - started > limit:
            raise JobTimeout()
        if not _current(sound.pk, attempt).update(sentences_done=done, sentences_total=total):
            raise JobGone()

    try:
        stream = handler.stream(sound.text_content, sigma=sound.sigma, denoiser_strength=sound.denoiser_strength,
                                vocoder=sound.vocoder or None, speed=sound.speed, progress=progress,
                                low_latency=publish is not None)
        for chunk in stream:
            if publish is not None:
                publish(chunk, attempt)
        result = stream.result()
    except JobGone:
        return False
    from . import metrics

    metrics.record_synthesis(backend=sound.backend, characters=len(sound.text_content), result=result)
    if not keep:  # heard in full, not to be kept: done, with nothing stored
        publish(None, attempt)
        TTSound.objects.filter(pk=sound.pk).delete()
        return True

    def commit(name: str) -> bool:
        return bool(_current(sound.pk, attempt).update(
            status=Status.DONE, audio_join=name, finished_at=timezone.now(), **result_fields(result, sound)))

    return store_audio(sound, result, commit)


def run_job(pk, *, runner: str, retries: int = 0, publish: Publish | None = None, keep: bool = True) -> str:
    """Run the job ``pk`` to its end; returns its outcome: done, failed, or skipped (nothing to run, cancelled, or
    taken over). A transient failure with retries left puts it back to queued and raises RetryLater: the caller
    runs it again after the delay (Celery: a retry message; inline: the executor thread waits). A streaming job
    (``publish``) is not retried: its listener could not take the audio again; ``keep=False``: see _synthesize."""
    sound = claim(pk, runner=runner)
    if sound is None:
        return "skipped"
    from .metrics import JOBS_FINISHED

    outcome = _run_claimed(sound, runner, retries, publish, keep)
    JOBS_FINISHED.labels(sound.backend, outcome).inc()
    return outcome


def _run_claimed(sound: TTSound, runner: str, retries: int, publish: Publish | None, keep: bool) -> str:
    pk, attempt = sound.pk, sound.attempts
    if publish is not None:
        retries = settings.TTS["JOB_MAX_RETRIES"]
    try:
        done = _synthesize(sound, publish, keep=keep or publish is None)
    except Exception as exc:
        if _finished(pk, attempt):  # the exception came after the commit (see store_audio): the job is done
            log.warning("job %s attempt %d: %s after it was stored; it stays done", pk, attempt, type(exc).__name__)
            return "done"
        error = classify(exc)
        log.log(logging.WARNING if error.transient or error.code.startswith("invalid") else logging.ERROR,
                "job %s attempt %d failed: %s (%s)", pk, attempt, error.code, exc, exc_info=error.code == "internal_error")
        if error.transient and retries < settings.TTS["JOB_MAX_RETRIES"]:
            delay = retry_delay(retries)
            _end(pk, attempt, status=Status.QUEUED, error=dataclasses.replace(
                error, message=f"{error.message}; retrying in {delay:.0f} s"))
            raise RetryLater(delay, error) from exc
        _end(pk, attempt, status=Status.FAILED, error=error)
        return "failed"
    if not done:
        log.info("job %s attempt %d stopped: cancelled or taken over", pk, attempt)
        return "skipped"
    log.info("job %s done (attempt %d, %s)", pk, attempt, runner)
    return "done"


def _finished(pk, attempt: int) -> bool:
    try:
        return TTSound.objects.filter(pk=pk, attempts=attempt, status=Status.DONE).exists()
    except (OperationalError, InterfaceError):
        return False


def _end(pk, attempt: int, *, status: str, error: JobError) -> None:
    """Record a failure (or a pause before a retry) of this attempt; nothing if the record moved on."""
    fields = {"status": status, "error": error.message[:500], "error_code": error.code}
    if status == Status.FAILED:
        fields["finished_at"] = timezone.now()
    try:
        _current(pk, attempt).update(**fields)
    except (OperationalError, InterfaceError):
        # The database is down: the record still says running; a retry (or the interrupted-job sweep) settles it.
        log.error("job %s: could not record %s (%s): database unavailable", pk, status, error.code)
        if status == Status.FAILED:
            raise RetryLater(retry_delay(0), classify(OperationalError())) from None


def fail_job(sound: TTSound, error: JobError) -> bool:
    """Mark an unfinished job failed from outside its runner (the interrupted-job sweep)."""
    return bool(TTSound.objects.filter(pk=sound.pk, attempts=sound.attempts, status__in=UNFINISHED).update(
        status=Status.FAILED, error=error.message, error_code=error.code, finished_at=timezone.now()))


def wait_for(pk, timeout: float) -> TTSound | None:
    """The record once its job has ended, or as it stands after ``timeout`` seconds; None if it was deleted.
    Polled from the database, which holds the job's state for every backend (no result backend to keep)."""
    deadline, delay = time.monotonic() + timeout, 0.05
    while True:
        sound = TTSound.objects.select_related("owner").filter(pk=pk).first()
        remaining = deadline - time.monotonic()
        if sound is None or sound.finished or remaining <= 0:
            return sound
        time.sleep(min(delay, remaining))
        delay = min(delay * 1.5, 0.5)


# ------------------------------------------------------------------------------------------------ sweeps
def pid_alive(pid: int) -> bool:
    """Whether another process has this pid here. This process's own pid counts as dead: it has just started, so
    whatever a record (or a metrics file) says that pid held belonged to a predecessor."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def interrupt_lost_jobs(*, whole_host: bool = False) -> int:
    """Mark failed ("interrupted") the jobs that no process will finish. Inline jobs on this host whose process
    died (its pid is gone; or all of them, ``whole_host``, at the release step, before any web process of this host
    runs); inline jobs anywhere running longer than any job can; Celery jobs running for longer than the broker
    takes to redeliver a dead worker's job plus a whole run (their message was lost, e.g. with a broker that kept
    nothing on disk). Celery jobs otherwise are the broker's: it redelivers them."""
    host_prefix = f"inline:{socket.gethostname()}:"
    unfinished = TTSound.objects.filter(status__in=UNFINISHED)
    inline = unfinished.filter(backend=TTSound.Backend.INLINE)
    count = 0
    for sound in inline.filter(runner__startswith=host_prefix).only("pk", "runner", "attempts"):
        try:
            pid = int(sound.runner.rsplit(":", 1)[1])
        except ValueError:
            pid = 0
        if (whole_host or not pid_alive(pid)) and fail_job(sound, INTERRUPTED):
            count += 1
    now = timezone.now()
    inline_limit = settings.TTS["JOB_TIME_LIMIT"] + 60
    celery_limit = (settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] + settings.CELERY_TASK_TIME_LIMIT
                    + 60)
    stale = (inline.filter(status=Status.RUNNING, started_at__lt=now - dt.timedelta(seconds=inline_limit))
             | unfinished.filter(backend=TTSound.Backend.CELERY, status=Status.RUNNING,
                                 started_at__lt=now - dt.timedelta(seconds=celery_limit)))
    for sound in stale.only("pk", "attempts"):
        count += fail_job(sound, INTERRUPTED)
    if count:
        log.warning("%d job(s) marked interrupted: their process died", count)
    return count


def run_on_model_thread(pk, **options) -> str:
    """run_job on the web process's model thread (API.engine.on_model_thread), with a database connection of its
    own for the job."""
    from .engine import on_model_thread

    def body() -> str:
        close_old_connections()
        try:
            return run_job(pk, **options)
        finally:
            connection.close()  # a job is seconds long: no connection is held on the model thread between jobs

    return on_model_thread(body)


def run_inline(pk) -> None:
    """The inline executor's job body: run to the end, waiting out the retries (on this thread: the model thread
    only synthesizes)."""
    retries = 0
    while True:
        close_old_connections()
        try:
            run_on_model_thread(pk, runner=inline_runner(), retries=retries)
            return
        except RetryLater as later:
            time.sleep(later.delay)
            retries += 1
        except Exception:
            log.exception("inline job %s could not run", pk)
            return
        finally:
            close_old_connections()
