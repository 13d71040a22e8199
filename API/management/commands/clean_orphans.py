"""Remove audio files that no record points to: what a process killed between writing the file and committing its
row leaves behind (the service removes the file itself on every failure it survives). Files younger than
--older-than are kept: they may belong to a synthesis still committing."""
from __future__ import annotations

import os
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from API.models import TTSound


class Command(BaseCommand):
    help = "Delete audio files under MEDIA_ROOT/tts/ that have no TTSound row (older than --older-than seconds)."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=float, default=3600.0, help="seconds (default 3600)")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, older_than: float, dry_run: bool, **options):
        root = os.path.join(settings.MEDIA_ROOT, "tts")
        cutoff = time.time() - older_than
        removed = 0
        for folder, _, files in os.walk(root):
            for filename in files:
                path = os.path.join(folder, filename)
                name = os.path.relpath(path, settings.MEDIA_ROOT)
                try:
                    if os.stat(path).st_mtime > cutoff:
                        continue
                except FileNotFoundError:
                    continue  # deleted meanwhile
                if TTSound.objects.filter(audio_join=name).exists():
                    continue
                if not dry_run:
                    os.remove(path)
                removed += 1
                self.stdout.write(f"{'would remove' if dry_run else 'removed'} {name}")
        self.stdout.write(f"{removed} orphaned file(s) {'found' if dry_run else 'removed'}")
