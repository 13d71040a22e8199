"""Business logic that writes: create and delete TTS records, keeping rows and files in step."""
from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404

from .engine import get_handler
from .exceptions import StorageError
from .models import TTSound
from .selectors import database_ping, tts_can_bulk_delete, tts_can_delete
from .signals import delete_file

log = logging.getLogger(__name__)


def tts_create(*, text: str, owner=None, sigma: float | None = None, denoiser_strength: float | None = None,
               vocoder: str | None = None) -> TTSound:
    """Synthesize ``text`` and store the audio and its record together.

    A synthesis error leaves nothing behind; a database error after the file is written removes the file.
    """
    handler = get_handler()
    database_ping()  # an outage fails now (503), not after the synthesis's CPU time
    result = handler.synthesize(text, sigma=sigma, denoiser_strength=denoiser_strength, vocoder=vocoder)
    sound = TTSound(text_content=text, inference_time=result.timings["total"], duration=result.duration,
                    sample_rate=result.sample_rate, voice=result.voice, vocoder=result.vocoder,
                    sigma=result.sigma, denoiser_strength=result.denoiser_strength, truncated=result.truncated,
                    owner=owner if owner is not None and owner.is_authenticated else None)
    storage = sound.audio_join.storage
    # The name is fixed before writing, so a write that fails half-way (disk full) leaves no partial file either.
    name = sound.audio_join.field.generate_filename(sound, f"{sound.uuid}.wav")
    try:
        with transaction.atomic():
            try:
                name = storage.save(name, ContentFile(result.wav_bytes()))
            except OSError as exc:
                raise StorageError(exc) from exc
            sound.audio_join.name = name
            sound.save(force_insert=True)
    except BaseException:
        delete_file(storage, name)  # a partial write too; a name never written is a no-op
        raise
    log.info("tts created %s: %.2fs audio in %.2fs (%s)", sound.uuid, result.duration, result.timings["total"],
             result.vocoder)
    return sound


def tts_delete(*, sound: TTSound, by) -> None:
    """Delete the record if ``by`` may (owner or staff); its file goes with it (see signals). Anyone else gets
    Http404, as for a record that does not exist, so record ids are not confirmed."""
    if not tts_can_delete(sound=sound, user=by):
        raise Http404("Not found.")
    with transaction.atomic():
        sound.delete()


def tts_bulk_delete(*, queryset: QuerySet[TTSound], by) -> int:
    """Delete many records and their files (staff only: PermissionDenied otherwise); returns how many."""
    if not tts_can_bulk_delete(user=by):
        raise PermissionDenied("Only staff may delete in bulk.")
    with transaction.atomic():
        count, _ = queryset.delete()
    return count
