"""Prometheus metrics, recorded where the work happens (the service entry, the job, the model owner), exposed at
/metrics for Prometheus to scrape from inside the network (nginx refuses it to the public).

Gunicorn and Celery run several processes: with PROMETHEUS_MULTIPROC_DIR set (gunicorn.conf.py and
scripts/worker.sh set it), each process writes its samples there and the scrape adds them up
(prometheus_client's multiprocess mode). A Celery worker serves its own processes' metrics on TTS_METRICS_PORT.
Job states and queue depth are read from the database and the broker at scrape time, by the web process.
"""
from __future__ import annotations

import logging
import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)

SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

REQUESTS = Counter("tts_http_requests", "HTTP requests answered, by endpoint and status", ["endpoint", "method",
                                                                                           "status"])
SYNTHESIS_SECONDS = Histogram("tts_synthesis_seconds", "Compute time of one synthesis (text to waveform)",
                              ["backend"], buckets=SECONDS)
AUDIO_SECONDS = Counter("tts_audio_seconds", "Seconds of audio synthesized", ["backend"])
REAL_TIME_FACTOR = Histogram("tts_real_time_factor", "Audio seconds per compute second, per synthesis",
                             ["backend"], buckets=(0.5, 1, 2, 4, 8, 16, 32, 64, 128))
FIRST_AUDIO_SECONDS = Histogram("tts_time_to_first_audio_seconds",
                                "From a streaming request's start to its first sentence of audio", ["backend"],
                                buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30))
CHARACTERS = Counter("tts_characters", "Characters of text synthesized", ["backend"])
TRUNCATIONS = Counter("tts_decoder_truncations", "Syntheses in which a sentence hit the decoder step limit",
                      ["backend"])
JOBS_FINISHED = Counter("tts_jobs_finished", "Jobs that ended, by outcome", ["backend", "outcome"])
MODEL_LOADED = Gauge("tts_model_loaded", "1 while this process holds loaded models", ["voice", "precision", "device"],
                     multiprocess_mode="liveall")


def record_synthesis(*, backend: str, characters: int, result) -> None:
    """One finished synthesis (a tts_core SynthesisResult)."""
    compute = result.timings.get("total", 0.0)
    SYNTHESIS_SECONDS.labels(backend).observe(compute)
    AUDIO_SECONDS.labels(backend).inc(result.duration)
    CHARACTERS.labels(backend).inc(characters)
    if compute > 0:
        REAL_TIME_FACTOR.labels(backend).observe(result.duration / compute)
    if result.truncated:
        TRUNCATIONS.labels(backend).inc()


_loaded_labels: tuple | None = None


def model_loaded(handler) -> None:
    """This process's models (a process loads one set; should it load others, the earlier labels go to 0)."""
    global _loaded_labels
    labels = (handler.voice, handler.precision, str(handler.device))
    if _loaded_labels is not None and _loaded_labels != labels:
        MODEL_LOADED.labels(*_loaded_labels).set(0)
    MODEL_LOADED.labels(*labels).set(1)
    _loaded_labels = labels


class JobStateCollector:
    """At scrape time: jobs by status (the database) and, with the celery backend on Redis, the queue's depth."""

    def collect(self):
        from django.conf import settings
        from django.db.models import Count

        from .models import TTSound

        states = GaugeMetricFamily("tts_jobs", "Jobs by status (the database)", labels=["status"])
        try:
            counts = dict(TTSound.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
        except Exception as exc:  # the scrape still answers; the gauge is left out
            log.warning("metrics: no job counts (%s)", exc)
        else:
            for status in TTSound.Status.values:
                states.add_metric([status], counts.get(status, 0))
            yield states
        if settings.TTS["BACKEND"] == "celery" and settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
            depth = GaugeMetricFamily("tts_queue_depth", "Messages waiting in the job queue (Redis broker)",
                                      labels=["queue"])
            try:
                import redis

                queue = settings.CELERY_TASK_DEFAULT_QUEUE
                client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2, socket_timeout=2)
                depth.add_metric([queue], client.llen(queue))
            except Exception as exc:
                log.warning("metrics: no queue depth (%s)", exc)
            else:
                yield depth


def forget_dead_processes(folder: str | None = None) -> list[int]:
    """Drop the live-gauge files of processes that died without a goodbye (a SIGKILLed or OOM-killed Celery pool
    process never runs worker_process_shutdown), so the model gauge stops counting them. Counters and histograms
    stay: their totals must not go down. Returns the pids forgotten."""
    from prometheus_client import multiprocess

    from .jobs import pid_alive

    folder = folder or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder or not os.path.isdir(folder):
        return []
    gone = []
    for name in os.listdir(folder):
        if not (name.startswith("gauge_live") and name.endswith(".db")):
            continue
        try:
            pid = int(name[:-3].rsplit("_", 1)[1])
        except (IndexError, ValueError):
            continue
        if pid not in gone and not pid_alive(pid):
            multiprocess.mark_process_dead(pid, folder)
            gone.append(pid)
    return gone


def registry() -> CollectorRegistry:
    """What one scrape reports: every process's samples (multiprocess mode) or this process's, plus job states."""
    from prometheus_client import REGISTRY

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        reg = CollectorRegistry()
        multiprocess.MultiProcessCollector(reg)
    else:
        reg = REGISTRY
    return reg


def exposition(with_jobs: bool = True) -> bytes:
    reg = registry()
    if not with_jobs:
        return generate_latest(reg)
    extra = CollectorRegistry()
    extra.register(JobStateCollector())
    return generate_latest(reg) + generate_latest(extra)
