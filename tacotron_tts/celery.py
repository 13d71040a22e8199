"""The Celery application: settings from Django's (the CELERY_* names), tasks from API.tasks.

Workers start with ``scripts/worker.sh`` (``celery -A tacotron_tts worker``). Each worker process loads the models
once, after the fork (CUDA-safe), through the same model owner the web process uses with the inline backend.
"""
from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_init, worker_process_init, worker_process_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tacotron_tts.settings")

app = Celery("tacotron_tts")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["API"])


@worker_process_init.connect
def _load_models(**kwargs) -> None:
    from API import engine, metrics

    # a pool process starts where one may have been killed (SIGKILL, OOM): its model gauge must not linger
    metrics.forget_dead_processes()
    engine.process_started(role="worker")


@worker_init.connect
def _serve_metrics(sender=None, **kwargs) -> None:
    """In the worker's main process: its pool processes' metrics (multiprocess mode, the folder worker.sh makes) on
    TTS_METRICS_PORT, for Prometheus to scrape (in compose: worker:9100/metrics). With a thread pool
    (TTS_WORKER_POOL=threads, for dynamic batching) this process is the one that synthesizes: it loads the models."""
    pool_module = getattr(getattr(sender, "pool_cls", None), "__module__", "")  # celery.concurrency.thread
    if pool_module.endswith(".thread") or os.environ.get("TTS_WORKER_POOL", "prefork") == "threads":
        from API import engine

        engine.process_started(role="worker")
    else:
        # PyTorch imported once here, before the pool forks (no CUDA is touched by the import): every pool
        # process, a replacement for a killed one too, starts with it instead of importing it again
        import tts_core.handler  # noqa: F401
    port = int(os.environ.get("TTS_METRICS_PORT") or 0)
    if port:
        from prometheus_client import start_http_server

        from API import metrics

        try:
            start_http_server(port, registry=metrics.registry())
        except OSError as exc:  # the worker still works; only its metrics are missing
            metrics.log.error("metrics: cannot serve on port %d: %s", port, exc)


@worker_process_shutdown.connect
def _process_gone(pid=None, **kwargs) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())
