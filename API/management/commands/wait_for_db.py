import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.db.utils import OperationalError


class Command(BaseCommand):
    help = "Wait until the default database accepts connections."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=60.0)

    def handle(self, *args, timeout: float, **options):
        deadline = time.monotonic() + timeout
        while True:
            try:
                connections["default"].ensure_connection()
                self.stdout.write("database is ready")
                return
            except OperationalError as exc:
                if time.monotonic() > deadline:
                    raise CommandError(f"database not reachable after {timeout:.0f}s: {exc}") from exc
                time.sleep(1)
