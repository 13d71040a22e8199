"""Business logic that writes: create (or queue), re-queue and delete TTS records, keeping rows and files in step.
Deleting a queued or running job cancels it: its job finds the record gone and stops, keeping no file."""
from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from . import backends, jobs, metrics, streams
from . import engine
from .engine import get_handler
from .exceptions import JobError, JobFailed, QueueUnavailable
from .models import TTSound
from .selectors import database_ping, tts_can_bulk_delete, tts_can_delete

log = logging.getLogger(__name__)


def tts_create(*, text: str, owner=None, sigma: float | None = None, denoiser_strength: float | None = None,
               vocoder: str | None = None, format: str = "wav", speed: float = 1.0, sample_rate: int | None = None,
               timestamps: bool = False) -> TTSound:
    """Synthesize ``text`` in this process and store the audio and its record together (the inline backend's
    synchronous request). A synthesis error leaves nothing behind; a database error after the file is written
    removes the file."""
    handler = get_handler()
    database_ping()  # an outage fails now (503), not after the synthesis's CPU time
    started = timezone.now()
    # Behind other syntheses on the model thread for longer than a client would wait: not synthesized (503 busy).
    result = engine.on_model_thread(handler.synthesize, text, sigma=sigma, denoiser_strength=denoiser_strength,
                                    vocoder=vocoder, speed=speed, start_within=settings.TTS["SYNC_TIMEOUT"])
    sound = TTSound(text_content=text, owner=_owner(owner), status=TTSound.Status.DONE, audio_format=format,
                    speed=speed, requested_sample_rate=sample_rate, timestamps=timestamps,
                    backend=TTSound.Backend.INLINE, runner=jobs.inline_runner(), attempts=1, started_at=started,
                    finished_at=timezone.now())
    for name, value in jobs.result_fields(result, sound).items():
        setattr(sound, name, value)

    def commit(name: str) -> bool:
        sound.audio_join.name = name
        sound.save(force_insert=True)
        return True

    jobs.store_audio(sound, result, commit)
    metrics.record_synthesis(backend=TTSound.Backend.INLINE, characters=len(text), result=result)
    log.info("tts created %s: %.2fs audio in %.2fs (%s)", sound.uuid, result.duration, result.timings["total"],
             result.vocoder)
    return sound


def _owner(user):
    return user if user is not None and user.is_authenticated else None


def tts_request(*, text: str, owner=None, sigma: float | None = None, denoiser_strength: float | None = None,
                vocoder: str | None = None, format: str = "wav", speed: float = 1.0, sample_rate: int | None = None,
                timestamps: bool = False, asynchronous: bool = False) -> TTSound:
    """The one entry for a synthesis request, whatever the backend: validated input in, the record out.

    Synchronous: the finished record; with the celery backend, the queued job is awaited up to TTS_SYNC_TIMEOUT
    seconds and, not done by then, returned as it stands (the caller answers 202). A job that fails is deleted and
    its error raised (JobFailed), so a failed synchronous request keeps nothing, as with the inline backend.
    Asynchronous: the queued record at once. QueueUnavailable when the broker cannot take the job (nothing kept).
    """
    backend = settings.TTS["BACKEND"]
    if backend == TTSound.Backend.INLINE and not asynchronous:
        return tts_create(text=text, owner=owner, sigma=sigma, denoiser_strength=denoiser_strength, vocoder=vocoder,
                          format=format, speed=speed, sample_rate=sample_rate, timestamps=timestamps)
    sound = _queue(text=text, owner=owner, sigma=sigma, denoiser_strength=denoiser_strength, vocoder=vocoder,
                   format=format, speed=speed, sample_rate=sample_rate, timestamps=timestamps)
    log.info("tts job %s queued (%s, %d characters)", sound.pk, backend, len(text))
    if asynchronous:
        return sound
    finished = jobs.wait_for(sound.pk, settings.TTS["SYNC_TIMEOUT"])
    if finished is None:
        raise JobFailed(JobError("cancelled", "the job was deleted before it finished"))
    if finished.status == TTSound.Status.FAILED:
        finished.delete()
        raise JobFailed(JobError(finished.error_code or "internal_error", finished.error))
    return finished


def _queue(*, text: str, owner, sigma, denoiser_strength, vocoder, format: str, speed: float, sample_rate,
           timestamps: bool, listener: streams.Listener | None = None) -> TTSound:
    """A queued record, its job submitted (and heard by ``listener`` when streaming); nothing kept if the queue
    refuses it."""
    backend = settings.TTS["BACKEND"]
    sound = TTSound.objects.create(
        text_content=text, owner=_owner(owner), sigma=sigma, denoiser_strength=denoiser_strength,
        vocoder=vocoder or "", audio_format=format, speed=speed, requested_sample_rate=sample_rate,
        timestamps=timestamps, status=TTSound.Status.QUEUED, backend=backend,
        runner=jobs.inline_runner() if backend == TTSound.Backend.INLINE else "")
    try:
        if listener is None:
            backends.submit(sound)
        else:
            listener.start(sound)
    except BaseException:
        sound.delete()
        raise
    return sound


def tts_stream(*, text: str, owner=None, sigma: float | None = None, denoiser_strength: float | None = None,
               vocoder: str | None = None, format: str = "wav", speed: float = 1.0, sample_rate: int | None = None,
               timestamps: bool = False, keep: bool = True) -> streams.SpeechRelay:
    """A synthesis whose audio is heard sentence by sentence as it is made, whatever the backend: the job is
    queued like any other (its record, its stored file in ``format``; pcm is stored as wav), and its chunks reach
    this process directly (inline: a thread of this process runs it) or over Redis (celery: a worker runs it).

    Returns once the first sentence is ready, so that every failure before any audio (bad text, models not
    ready, queue down, timeout) is raised here as for a synchronous request. ``keep=False``: the record and its
    file are deleted once the stream ends. A listener that goes away before the end cancels the job."""
    stored = format if format in TTSound.AudioFormat.values else TTSound.AudioFormat.WAV
    listener = streams.listener(keep)
    sound = _queue(text=text, owner=owner, sigma=sigma, denoiser_strength=denoiser_strength, vocoder=vocoder,
                   format=stored, speed=speed, sample_rate=sample_rate, timestamps=timestamps, listener=listener)
    log.info("tts stream %s queued (%s, %d characters)", sound.pk, sound.backend, len(text))
    relay = streams.SpeechRelay(sound, listener, on_end=lambda finished: _stream_ended(sound.pk, finished, keep))
    started = time.monotonic()
    try:
        relay.prefetch(settings.TTS["SYNC_TIMEOUT"])
    except JobFailed:
        relay.close()
        raise
    metrics.FIRST_AUDIO_SECONDS.labels(sound.backend).observe(time.monotonic() - started)
    return relay


def _stream_ended(pk, finished: bool, keep: bool) -> None:
    """After a stream: not finished (the listener left, or the job failed) or not to be kept, the record goes
    (a running job then stops at its next sentence and keeps no file)."""
    if not finished or not keep:
        TTSound.objects.filter(pk=pk).delete()


def tts_requeue(*, sound: TTSound) -> bool:
    """Queue a failed job again, on the current backend (admin). False if it is not failed any more."""
    backend = settings.TTS["BACKEND"]
    requeued = TTSound.objects.filter(pk=sound.pk, status=TTSound.Status.FAILED).update(
        status=TTSound.Status.QUEUED, error="", error_code="", backend=backend, sentences_done=0,
        started_at=None, finished_at=None,
        runner=jobs.inline_runner() if backend == TTSound.Backend.INLINE else "")
    if not requeued:
        return False
    sound.refresh_from_db()
    try:
        backends.submit(sound)
    except QueueUnavailable:
        TTSound.objects.filter(pk=sound.pk, status=TTSound.Status.QUEUED).update(
            status=TTSound.Status.FAILED, error="the job queue is unavailable", error_code="queue_unavailable",
            finished_at=timezone.now())
        raise
    return True


def tts_delete(*, sound: TTSound, by) -> None:
    """Delete the record if ``by`` may (owner or staff); its file goes with it (see signals). Anyone else gets
    Http404, as for a record that does not exist, so record ids are not confirmed."""
    if not tts_can_delete(sound=sound, user=by):
        raise Http404("Not found.")
    with transaction.atomic():
        sound.delete()


def tts_bulk_delete(*, queryset: QuerySet[TTSound], by) -> int:
    """Delete many records and their files (staff only: PermissionDenied otherwise); returns how many."""
    if not tts_can_bulk_delete(user=by):
        raise PermissionDenied("Only staff may delete in bulk.")
    with transaction.atomic():
        count, _ = queryset.delete()
    return count
