"""The release step: apply migrations, collect static files, sweep orphaned audio files and mark failed the inline
jobs that died with this host's previous processes, once, even when several replicas start at once.

Every replica's entrypoint runs it; a database-wide lock lets the first one do the work while the others wait,
then find nothing left to do. (Plain ``migrate`` run by two replicas together races: both create the same tables.)
"""
from __future__ import annotations

import contextlib
import fcntl
import pathlib
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection

from API.jobs import interrupt_lost_jobs

# pg_advisory_lock key: any constant shared by all replicas of this service ("TTS release" in ASCII).
LOCK_KEY = 0x5454_5320_7265_6C65


@contextlib.contextmanager
def release_lock(log):
    """Held by one process of the deployment at a time: a PostgreSQL advisory lock, or a file lock beside a
    SQLite database (one host). Other databases get no lock (one replica at a time is then the operator's job)."""
    started = time.monotonic()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        try:
            log(f"release lock held (waited {time.monotonic() - started:.1f} s)")
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
    elif connection.vendor == "sqlite" and not connection.is_in_memory_db():
        path = pathlib.Path(f"{connection.settings_dict['NAME']}.release.lock")
        with open(path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                log(f"release lock held (waited {time.monotonic() - started:.1f} s)")
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    else:
        yield


class Command(BaseCommand):
    help = "Apply migrations and collect static files, under a deployment-wide lock (run by every replica)."

    def add_arguments(self, parser):
        parser.add_argument("--no-static", action="store_true", help="skip collectstatic")

    def handle(self, *args, no_static: bool, **options):
        verbosity = options["verbosity"]

        def log(message: str) -> None:
            if verbosity > 1:
                self.stdout.write(message)

        with release_lock(log):
            call_command("migrate", interactive=False, verbosity=verbosity)
            if not no_static:
                call_command("collectstatic", interactive=False, verbosity=0)
            # Files a killed process left without a row (an hour old at least: never one still committing).
            call_command("clean_orphans", verbosity=verbosity)
            # Inline jobs of this host died with its previous processes (none of this start runs yet).
            interrupted = interrupt_lost_jobs(whole_host=True)
            if interrupted:
                self.stdout.write(f"{interrupted} interrupted inline job(s) marked failed")
        self.stdout.write("release done")
