"""Gunicorn settings, from the environment; the same file runs in Docker and natively (scripts/run.sh, tests).

Only Gunicorn's own options are read here; what the TTS service does in a worker comes from Django's settings
(``settings.TTS``), which the worker hook below reads.
"""
from __future__ import annotations

import os
import shutil
import tempfile


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = _int("GUNICORN_WORKERS", 2)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
# A request may synthesize up to TTS_MAX_TEXT_LENGTH characters (settings.TTS); size the timeout to the slowest
# allowed request on the slowest supported device (CPU). Nginx's proxy timeouts are aligned with it.
timeout = _int("GUNICORN_TIMEOUT", 300)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = 5
# Nginx bounds the request line (8 KiB, then a JSON 414); Gunicorn's own 4 KiB cap would answer the lines between
# with a bare text 400. Only nginx reaches Gunicorn.
limit_request_line = _int("GUNICORN_LIMIT_REQUEST_LINE", 0)
# Recycle workers now and then (bounded memory growth), not all at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)
# Never load models in the master: CUDA must not be initialised before the fork.
preload_app = False
# Heartbeat files in memory, not on a possibly slow container filesystem.
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR", "/dev/shm" if os.path.isdir("/dev/shm") else None)
# Trust X-Forwarded-* only from the proxy.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# client (as seen by the proxy), request, status, bytes, request time in seconds
access_log_format = '%({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(L)ss'
pidfile = os.environ.get("GUNICORN_PIDFILE") or None


# Prometheus multiprocess mode: every worker writes its metrics under this folder, and a scrape of any worker adds
# them up (API/metrics.py). Set here, in the master, so every worker inherits it; a fresh folder per master.
# A folder given in the environment is the operator's: it must be empty and not shared with another server.
_OWN_METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.join(tempfile.gettempdir(), f"tts-metrics-{os.getpid()}"))


def on_starting(server):  # noqa: ARG001 - gunicorn hook signature
    """Start with an empty metrics folder of our own (what an earlier master left would be counted again)."""
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    if _OWN_METRICS_DIR:
        shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)


def child_exit(server, worker):  # noqa: ARG001 - gunicorn hook signature
    """A worker that exited (recycled, killed) no longer counts in the live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):  # noqa: ARG001 - gunicorn hook signature
    """In each worker after the fork (CUDA-safe), once Django is set up: the TTS block's per-process settings
    (torch threads; with the inline backend, loading the models at start-up so the first request is fast)."""
    from API import engine

    engine.process_started(role="web")
