"""The Celery application: settings from Django's (the CELERY_* names), tasks from API.tasks.

Workers start with ``scripts/worker.sh`` (``celery -A tacotron_tts worker``). Each worker process loads the models
once, after the fork (CUDA-safe), through the same model owner the web process uses with the inline backend.
"""
from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tacotron_tts.settings")

app = Celery("tacotron_tts")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["API"])


@worker_process_init.connect
def _load_models(**kwargs) -> None:
    from API import engine

    engine.process_started(role="worker")
