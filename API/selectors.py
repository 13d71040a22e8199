"""Reads: which TTS records a user may see, with filters."""
from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from .models import TTSound


def tts_visible_to(user) -> QuerySet[TTSound]:
    """Staff see everything; users their own records; anonymous users none (they fetch by uuid only)."""
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


def tts_get(*, pk, user, anonymous_read: bool) -> TTSound | None:
    """A record by uuid if this user may read it. Anonymous reads by uuid are allowed when configured:
    a uuid is unguessable, like a capability URL."""
    qs = TTSound.objects.select_related("owner")
    if user is None or not user.is_authenticated:
        return qs.filter(pk=pk).first() if anonymous_read else None
    if user.is_staff:
        return qs.filter(pk=pk).first()
    # Users read their own records, and anonymous ones by uuid when anonymous reads are on.
    sound = qs.filter(pk=pk).first()
    if sound is None:
        return None
    if sound.owner_id == user.pk or (sound.owner_id is None and anonymous_read):
        return sound
    return None
