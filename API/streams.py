"""How a streaming request hears its job's audio, sentence by sentence, while the job runs.

The job is the same as any other (API.jobs: claimed, stored, done) with a ``publish`` hook that hears each
sentence's audio. Where it runs decides how the audio travels:

- inline: a thread of this process runs the job and hands chunks over a queue (:class:`LocalListener`);
- celery: a worker runs it and appends chunks to a Redis stream keyed by the job (:class:`RedisPublisher`); this
  process reads that stream (:class:`RedisListener`). A stream keeps what was written before its reader came,
  and a job redelivered to another worker (its first died) publishes again from the first sentence: the relay
  takes each sentence once, by its index, so the listener hears every sentence once and in order.

:class:`SpeechRelay` is what the doors (HTTP, later Wyoming) iterate: sentence chunks in order, then the end.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
from django.conf import settings
from django.db import close_old_connections, connection

from tts_core.results import AudioChunk, WordTiming

from .exceptions import JobError, JobFailed, QueueUnavailable
from .models import TTSound

log = logging.getLogger(__name__)

CANCELLED = JobError("cancelled", "the job was deleted before it finished")


@dataclasses.dataclass(frozen=True)
class Event:
    """A chunk of audio (``chunk``), or the end: of the audio (``audio_end``: a job not to be kept says so before it
    deletes its record) or of the job (``ended``; ``error`` None: done)."""

    chunk: AudioChunk | None = None
    attempt: int = 0
    ended: bool = False
    error: JobError | None = None
    audio_end: bool = False


def end_event(pk, outcome: str) -> Event | None:
    """The end a job's runner announces after run_job: done, failed (with the record's error), cancelled (the
    record is gone); None when another attempt took the job over (that attempt will announce its end)."""
    row = TTSound.objects.filter(pk=pk).values("status", "error", "error_code").first()
    if row is None:
        return Event(ended=True, error=CANCELLED)
    if row["status"] == TTSound.Status.DONE:
        return Event(ended=True)
    if row["status"] == TTSound.Status.FAILED:
        return Event(ended=True, error=JobError(row["error_code"] or "internal_error", row["error"]))
    return None  # still queued or running: another attempt owns it now


class Listener:
    """Starts a job so that its audio reaches this process, and hands it out: :meth:`next` gives the next event,
    or None after ``timeout`` seconds without one."""

    def start(self, sound: TTSound) -> None:
        raise NotImplementedError

    def next(self, timeout: float) -> Event | None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class LocalListener(Listener):
    """Inline backend: the job runs on this process's model thread (API.engine.on_model_thread), handed there from
    a thread of its own (not the async-job pool, so that a stream never waits behind that pool's retries)."""

    def __init__(self, keep: bool = True) -> None:
        self._events: queue.Queue[Event] = queue.Queue()
        self._keep = keep

    def start(self, sound: TTSound) -> None:
        threading.Thread(target=self._run, args=(sound.pk,), name=f"tts-stream-{sound.pk}", daemon=True).start()

    def _publish(self, chunk: AudioChunk | None, attempt: int) -> None:
        self._events.put(Event(chunk, attempt) if chunk is not None else Event(attempt=attempt, audio_end=True))

    def _run(self, pk) -> None:
        from . import jobs
        from .exceptions import classify

        try:
            outcome = jobs.run_on_model_thread(pk, runner=jobs.inline_runner(), publish=self._publish,
                                               keep=self._keep)
            end = end_event(pk, outcome)
        except jobs.RetryLater as later:  # its failure could not be recorded (the database is down)
            end = Event(ended=True, error=later.error)
        except Exception as exc:  # the job itself records its failures; this is e.g. the database gone
            log.exception("stream job %s could not run", pk)
            end = Event(ended=True, error=classify(exc))
        finally:
            connection.close()  # this thread's own connection
        if end is not None:
            self._events.put(end)

    def next(self, timeout: float) -> Event | None:
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None


# ------------------------------------------------------------------------------------------------ Redis
_pool_lock = threading.Lock()
_pool = None


def _redis():
    import redis

    global _pool
    with _pool_lock:
        if _pool is None:
            # a socket timeout (longer than any blocking read, see READ_SLICE_S): a Redis that stops answering is
            # an error, never a request thread blocked for good
            _pool = redis.ConnectionPool.from_url(settings.TTS["STREAM_URL"], socket_connect_timeout=3,
                                                  socket_timeout=READ_SLICE_S + 5, health_check_interval=30)
    return redis.Redis(connection_pool=_pool)


READ_SLICE_S = 5.0  # the longest one blocking read of a stream waits


def stream_key(pk) -> str:
    return f"tts:stream:{pk}"


class RedisPublisher:
    """A worker's side of a streaming job: each sentence (16-bit PCM, its words), then the end, appended to the
    job's Redis stream, which expires TTS_STREAM_TTL seconds after its last entry."""

    def __init__(self, pk) -> None:
        self.key, self._redis = stream_key(pk), _redis()

    def _add(self, fields: dict) -> None:
        pipe = self._redis.pipeline()
        pipe.xadd(self.key, fields)
        pipe.expire(self.key, settings.TTS["STREAM_TTL"])
        pipe.execute()

    def __call__(self, chunk: AudioChunk | None, attempt: int) -> None:
        if chunk is None:
            self._add({"kind": "audio_end", "attempt": attempt})
            return
        self._add({"kind": "chunk", "index": chunk.index, "total": chunk.total, "attempt": attempt,
                   "rate": chunk.sample_rate, "truncated": int(chunk.truncated), "frames": chunk.mel_frames,
                   "words": json.dumps([w.as_dict() for w in chunk.words]),
                   "pcm": (np.clip(chunk.audio, -1, 1) * 32767).round().astype("<i2").tobytes()})

    def end(self, event: Event) -> None:
        fields = {"kind": "end"}
        if event.error is not None:
            fields.update(code=event.error.code, message=event.error.message)
        self._add(fields)


class RedisListener(Listener):
    """Celery backend: the job goes to the queue marked as streaming; its audio is read back from Redis."""

    def __init__(self, keep: bool = True) -> None:
        self._redis, self._key, self._last = None, None, "0-0"
        self._buffer: list[Event] = []
        self._keep = keep

    def start(self, sound: TTSound) -> None:
        from . import backends

        self._key = stream_key(sound.pk)
        try:
            self._redis = _redis()
            self._redis.delete(self._key)  # a re-used uuid never hears an older stream
        except Exception as exc:  # redis.RedisError, OSError: streaming cannot work, nothing is queued
            raise QueueUnavailable(exc) from exc
        backends.submit(sound, stream=True, keep=self._keep)

    def next(self, timeout: float) -> Event | None:
        if not self._buffer:
            try:
                answer = self._redis.xread({self._key: self._last}, count=16,
                                           block=max(1, int(min(timeout, READ_SLICE_S) * 1000)))
            except Exception as exc:
                log.warning("stream %s: Redis unavailable (%s)", self._key, exc)
                return Event(ended=True, error=JobError("queue_unavailable", "the job queue is unavailable"))
            for _, entries in answer or []:
                for entry_id, fields in entries:
                    self._last = entry_id
                    self._buffer.append(_decode(fields))
        return self._buffer.pop(0) if self._buffer else None

    def close(self) -> None:
        if self._redis is not None and self._key:
            try:
                self._redis.delete(self._key)
            except Exception:
                pass  # it expires anyway


def _decode(fields: dict) -> Event:
    f = {k.decode(): v for k, v in fields.items()}
    if f["kind"] == b"audio_end":
        return Event(attempt=int(f["attempt"]), audio_end=True)
    if f["kind"] == b"end":
        if "code" in f:
            return Event(ended=True, error=JobError(f["code"].decode(), f["message"].decode()))
        return Event(ended=True)
    audio = np.frombuffer(f["pcm"], "<i2").astype(np.float32) / 32768.0
    words = [WordTiming(w["word"], w["start"], w["end"]) for w in json.loads(f["words"])]
    chunk = AudioChunk(int(f["index"]), int(f["total"]), audio, int(f["rate"]), words, f["truncated"] == b"1",
                       int(f["frames"]))
    return Event(chunk, int(f["attempt"]))


def listener(keep: bool = True) -> Listener:
    """The listener for this process's backend; ``keep=False``: the job deletes its record once the audio is sent
    and stores nothing."""
    if settings.TTS["BACKEND"] == TTSound.Backend.INLINE:
        return LocalListener(keep)
    if not settings.TTS["STREAM_URL"]:
        raise QueueUnavailable("streaming from Celery workers needs TTS_STREAM_URL (a Redis)")
    return RedisListener(keep)


# ------------------------------------------------------------------------------------------------ relay
class SpeechRelay:
    """The chunks of one streaming job, each sentence once and in order; iterate once. Raises JobFailed when the
    job fails, or no audio comes for TTS_SYNC_TIMEOUT seconds. :meth:`close` (always call it) ends the relay:
    ``on_end(finished)`` runs once, finished being whether the job's audio was heard to its end."""

    def __init__(self, sound: TTSound, listener: Listener, on_end: Callable[[bool], None]) -> None:
        self.sound, self._listener, self._on_end = sound, listener, on_end
        self._next_index = 0
        self._pending: list[AudioChunk] = []
        self._finished = self._closed = False
        self.first_audio_at: float | None = None

    @property
    def sample_rate(self) -> int:
        return self._pending[0].sample_rate if self._pending else 22050

    def _take(self, timeout: float) -> AudioChunk | None:
        """The next sentence in order, or None at the job's end."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise JobFailed(JobError("timeout", f"no audio came for {timeout:.0f} s"))
            event = self._listener.next(remaining)
            if event is None:
                continue
            if event.audio_end:
                self._finished = True
                return None
            if event.ended:
                if event.error is not None:
                    raise JobFailed(event.error)
                self._finished = True
                return None
            if event.chunk.index == self._next_index:  # earlier ones: a taken-over job starting again
                self._next_index += 1
                return event.chunk

    def prefetch(self, timeout: float) -> None:
        """Wait for the first sentence (failures before any audio are raised here)."""
        chunk = self._take(timeout)
        if chunk is not None:
            self._pending.append(chunk)
            self.first_audio_at = time.monotonic()

    def __iter__(self) -> Iterator[AudioChunk]:
        while self._pending:
            yield self._pending.pop(0)
        while not self._finished:
            chunk = self._take(settings.TTS["SYNC_TIMEOUT"])
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._listener.close()
        try:
            close_old_connections()
            self._on_end(self._finished)
        except Exception:
            log.exception("stream of %s: could not settle its record", self.sound.pk)
