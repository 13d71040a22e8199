import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from kombu.utils.url import maybe_sanitize_url

from API.backends import broker_ping
from API.exceptions import QueueUnavailable


class Command(BaseCommand):
    help = "Wait until the job queue's broker (CELERY_BROKER_URL: Redis or RabbitMQ) accepts connections."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=30.0)

    def handle(self, *args, timeout: float, **options):
        url = maybe_sanitize_url(settings.CELERY_BROKER_URL)  # no password in the message
        deadline = time.monotonic() + timeout
        while True:
            try:
                broker_ping()
                self.stdout.write(f"broker {url} is ready")
                return
            except QueueUnavailable as exc:
                if time.monotonic() > deadline:
                    raise CommandError(
                        f"the job queue's broker {url} is not reachable after {timeout:.0f}s ({exc.__cause__ or exc}). "
                        "Start Redis (redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' "
                        "--appendonly no) or set CELERY_BROKER_URL.") from exc
                time.sleep(1)
