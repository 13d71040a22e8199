"""Reads, and the rules of who may read what: every door asks here, none decides for itself."""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse

from .exceptions import AudioLinkExpired
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
             created_before: dt.datetime | None = None, status: str | None = None) -> QuerySet[TTSound]:
    qs = tts_visible_to(user)
    if status:
        qs = qs.filter(status=status)
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


def _owner_or_staff(*, sound: TTSound, user) -> bool:
    return bool(user is not None and user.is_authenticated and (user.is_staff or sound.owner_id == user.pk))


def tts_can_read(*, sound: TTSound, user) -> bool:
    return _owner_or_staff(sound=sound, user=user) or (sound.owner_id is None and anonymous_access_allowed())


# ------------------------------------------------------------------------------------------------ audio links
_AUDIO_SALT = "API.tts-audio"


def tts_audio_link_is_signed(*, sound: TTSound) -> bool:
    """Owned records' audio links are signed and expire; anonymous records' too with TTS_PRIVATE_AUDIO."""
    return sound.owner_id is not None or settings.TTS["PRIVATE_AUDIO"]


def tts_audio_signature(*, sound: TTSound) -> str:
    """A signature for this record's audio, valid TTS_AUDIO_LINK_MAX_AGE seconds (given to whoever may read it)."""
    return signing.TimestampSigner(salt=_AUDIO_SALT).sign(str(sound.pk)).split(":", 1)[1]


def tts_audio_url(*, sound: TTSound) -> str:
    """Where the record's audio is fetched: the access-checked endpoint, with a fresh signature where one is needed."""
    url = reverse("tts-audio", kwargs={"pk": sound.pk})
    return f"{url}?sig={tts_audio_signature(sound=sound)}" if tts_audio_link_is_signed(sound=sound) else url


def tts_audio_signature_state(*, sound: TTSound, signature: str | None) -> str:
    """'valid', 'expired' or 'invalid' (missing, forged, or another record's)."""
    if not signature:
        return "invalid"
    signer = signing.TimestampSigner(salt=_AUDIO_SALT)
    try:
        signer.unsign(f"{sound.pk}:{signature}", max_age=settings.TTS["AUDIO_LINK_MAX_AGE"])
    except signing.SignatureExpired:
        return "expired"
    except signing.BadSignature:
        return "invalid"
    return "valid"


def tts_can_read_audio(*, sound: TTSound, user, signature: str | None) -> bool:
    """The owner and staff always; anyone with a valid signed link; anyone for an anonymous record whose link is
    not signed (anonymous reads on, TTS_PRIVATE_AUDIO off)."""
    if _owner_or_staff(sound=sound, user=user):
        return True
    if not tts_audio_link_is_signed(sound=sound):
        return tts_can_read(sound=sound, user=user)
    return tts_audio_signature_state(sound=sound, signature=signature) == "valid"


def tts_get_audio(*, pk, user, signature: str | None) -> TTSound:
    """The record whose audio ``user`` (or the holder of ``signature``) may fetch; Http404 otherwise, as for a
    record that does not exist, except for a signature that was valid and has expired (AudioLinkExpired)."""
    sound = TTSound.objects.filter(pk=pk).first()
    if sound is None or sound.status != TTSound.Status.DONE:
        raise Http404("Not found.")  # no audio (yet): a job's audio_url is null until it is done
    if tts_can_read_audio(sound=sound, user=user, signature=signature):
        return sound
    if tts_audio_signature_state(sound=sound, signature=signature) == "expired":
        raise AudioLinkExpired()
    raise Http404("Not found.")


def tts_can_delete(*, sound: TTSound, user) -> bool:
    """Only the owner or staff; an anonymous record can be deleted by staff alone."""
    return _owner_or_staff(sound=sound, user=user)


def tts_can_bulk_delete(*, user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_staff)


def tts_history(*, user, limit: int = 20) -> list[TTSound]:
    """The web page's history: a signed-in user's own latest records (anonymous users: none; their browser keeps
    what they made in its session)."""
    if not (user and user.is_authenticated):
        return []
    return list(TTSound.objects.filter(owner=user).order_by("-created_at")[:limit])
