"""python manage.py wyoming_server [--uri tcp://0.0.0.0:10200]: the Wyoming server for Home Assistant."""
from __future__ import annotations

import asyncio
import logging
import os
from functools import partial

from django.core.management.base import BaseCommand

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Serve text to speech over the Wyoming protocol (Home Assistant)."

    def add_arguments(self, parser):
        parser.add_argument("--uri", default="tcp://0.0.0.0:10200", help="tcp://HOST:PORT, unix://PATH or stdio://")

    def handle(self, *args, uri: str, **options):
        from wyoming.server import AsyncServer

        from API import engine
        from API.wyoming.handler import TtsEventHandler

        engine.process_started(role="web")
        if engine.serves_synthesis("web"):  # inline: this process synthesizes; load now, not at the first request
            try:
                engine.get_handler()
            except Exception:
                log.warning("wyoming: the models did not load yet; readiness retries them")
        port = int(os.environ.get("TTS_METRICS_PORT") or 0)
        if port:  # this process's metrics (time to first audio, and, inline, the syntheses)
            from prometheus_client import start_http_server

            from API import metrics

            start_http_server(port, registry=metrics.registry())
        server = AsyncServer.from_uri(uri)
        self.stdout.write(f"Wyoming server on {uri}")
        log.info("wyoming server listening on %s", uri)
        asyncio.run(server.run(partial(TtsEventHandler)))
