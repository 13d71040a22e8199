#!/usr/bin/env bash
# One synthesis worker in the foreground (TTS_SYNTHESIS_BACKEND=celery): Celery with the repository's settings,
# the same file the Docker image runs. Each worker process loads the models once, after the fork; one process per
# GPU (TTS_WORKER_CONCURRENCY, default 1). Scale out by starting more workers, on this machine or others that reach
# the same database, broker and MEDIA_ROOT. Extra arguments go to `celery worker`. Dynamic batching across tasks
# (TTS_DYNAMIC_BATCH_SIZE) needs the tasks in one process: TTS_WORKER_POOL=threads, TTS_WORKER_CONCURRENCY the batch
# size (Celery then applies no per-task time limits: those need the prefork pool).
set -euo pipefail
cd "$(dirname "$0")/.."
export TTS_PROCESS_ROLE=worker  # this process loads the models: the start-up checks check their files
# Prometheus multiprocess mode (API/metrics.py): the pool processes write here, the main process serves them on
# TTS_METRICS_PORT (compose: 9100; unset or 0: not served). A fresh folder per worker start.
if [ -z "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    PROMETHEUS_MULTIPROC_DIR="$(mktemp -d "${TMPDIR:-/tmp}/tts-worker-metrics.XXXXXX")"
    export PROMETHEUS_MULTIPROC_DIR
fi
if [ -z "${PYTHON:-}" ]; then
    if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python; fi
fi
"$PYTHON" manage.py wait_for_db --timeout "${DB_WAIT_TIMEOUT:-60}"
"$PYTHON" manage.py wait_for_broker --timeout "${BROKER_WAIT_TIMEOUT:-30}"
exec "$PYTHON" -m celery -A tacotron_tts worker \
    --queues "${TTS_QUEUE:-tts}" \
    --pool "${TTS_WORKER_POOL:-prefork}" --concurrency "${TTS_WORKER_CONCURRENCY:-1}" \
    --hostname "${TTS_WORKER_NAME:-tts@%h}" \
    --loglevel "${CELERY_LOG_LEVEL:-INFO}" \
    --without-gossip --without-mingle \
    "$@"
