"""Reads, and the rules of who may read what: every door asks here, none decides for itself."""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404

from .models import TTSound


def database_ping() -> None:
    """One round trip to the database; raises django.db.OperationalError while it is unreachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def anonymous_access_allowed() -> bool:
    """Anonymous users may synthesize, and read records by uuid (an unguessable capability, like a share link)."""
    return settings.TTS["ANONYMOUS_SYNTHESIS"]


def tts_can_create(*, user) -> bool:
    return anonymous_access_allowed() or bool(user is not None and user.is_authenticated)


def tts_visible_to(user) -> QuerySet[TTSound]:
    """What a user may list: staff everything, users their own records, anonymous users none (uuid reads only)."""
    qs = TTSound.objects.select_related("owner")
    if user is not None and user.is_authenticated:
        return qs if user.is_staff else qs.filter(owner=user)
    return qs.none()


def tts_list(*, user, search: str | None = None, created_after: dt.datetime | None = None,
             created_before: dt.datetime | None = None) -> QuerySet[TTSound]:
    qs = tts_visible_to(user)
    if search:
        qs = qs.filter(text_content__icontains=search)
    if created_after:
        qs = qs.filter(created_at__gte=created_after)
    if created_before:
        qs = qs.filter(created_at__lt=created_before)
    return qs.order_by("-created_at")


def tts_get(*, pk, user) -> TTSound:
    """The record ``pk`` if ``user`` may read it, else Http404 (whether or not it exists: ids are not confirmed).

    Staff read everything; users their own records; everyone, records made anonymously, by uuid, when anonymous
    reads are on."""
    sound = TTSound.objects.select_related("owner").filter(pk=pk).first()
    if sound is None or not tts_can_read(sound=sound, user=user):
        raise Http404("Not found.")
    return sound


def tts_can_read(*, sound: TTSound, user) -> bool:
    if user is not None and user.is_authenticated and (user.is_staff or sound.owner_id == user.pk):
        return True
    return sound.owner_id is None and anonymous_access_allowed()


def tts_can_delete(*, sound: TTSound, user) -> bool:
    """Only the owner or staff; an anonymous record can be deleted by staff alone."""
    return bool(user is not None and user.is_authenticated and (user.is_staff or sound.owner_id == user.pk))


def tts_can_bulk_delete(*, user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_staff)
