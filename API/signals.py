"""Deleting a TTSound by any path (API, admin, bulk, queryset) removes its file once the deletion commits."""
from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import TTSound

log = logging.getLogger(__name__)


def delete_file(storage, name: str) -> None:
    if not name:
        return
    try:
        storage.delete(name)
    except OSError:  # already gone or unreadable: nothing to leak, but say so
        log.warning("could not delete audio file %s", name, exc_info=True)


@receiver(post_delete, sender=TTSound)
def remove_audio_file(sender, instance: TTSound, **kwargs) -> None:
    field = instance.audio_join
    storage, name = field.storage, field.name
    # After commit: a rolled-back delete keeps both the row and its file.
    transaction.on_commit(lambda: delete_file(storage, name))
