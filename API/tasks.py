"""Celery tasks: thin wrappers; the job itself is API.jobs.run_job, the same as the inline executor runs."""
from __future__ import annotations

from celery import shared_task

from . import jobs, streams
from .exceptions import classify


@shared_task(bind=True, name="tts.synthesize", acks_late=True, reject_on_worker_lost=True, max_retries=None)
def synthesize(self, uuid: str, stream: bool = False, keep: bool = True) -> str:
    """Run the job of record ``uuid``. Redelivered after a worker died (acks_late, reject_on_worker_lost): the job
    claims the record again and takes over. Transient failures come back as a retry with back-off. ``stream``: a
    listener waits for the audio, sentence by sentence, on the job's Redis stream (API.streams); it is never retried
    (the listener could not take the audio again); ``keep=False``: nothing is stored."""
    publisher = streams.RedisPublisher(uuid) if stream else None
    try:
        outcome = jobs.run_job(uuid, runner=f"celery:{self.request.hostname}", retries=self.request.retries,
                               publish=publisher, keep=keep)
    except jobs.RetryLater as later:
        if publisher is not None:  # its failure could not even be recorded (database down): tell the listener
            publisher.end(streams.Event(ended=True, error=later.error))
            return "failed"
        raise self.retry(countdown=later.delay) from later
    except Exception as exc:
        if publisher is not None:  # the listener must not wait out its timeout for a job that cannot run
            publisher.end(streams.Event(ended=True, error=classify(exc)))
        raise
    if publisher is not None:
        end = streams.end_event(uuid, outcome)
        if end is not None:
            publisher.end(end)
    return outcome
