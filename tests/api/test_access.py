"""The access rules live in selectors and services: the doors (views, admin, later jobs) only ask."""
import pytest
from django.http import Http404

from API.models import TTSound
from API.selectors import tts_can_create, tts_get
from API.services import tts_create, tts_delete

pytestmark = pytest.mark.django_db


def test_delete_is_decided_by_the_service(user, other_user, staff, media_files):
    sound = tts_create(text="Mine.", owner=user)
    with pytest.raises(Http404):
        tts_delete(sound=sound, by=other_user)
    assert TTSound.objects.filter(pk=sound.pk).exists() and len(media_files()) == 1
    tts_delete(sound=sound, by=staff)
    assert not TTSound.objects.exists()


def test_an_anonymous_record_is_readable_by_uuid_but_only_staff_delete_it(client, as_user, as_staff, media_files):
    uuid = client.post("/api/tts/", {"text": "Anonymous."}, format="json").json()["uuid"]
    assert as_user.get(f"/api/tts/{uuid}/").status_code == 200
    response = as_user.delete(f"/api/tts/{uuid}/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert len(media_files()) == 1
    assert as_staff.delete(f"/api/tts/{uuid}/").status_code == 204


def test_without_anonymous_access_nobody_but_staff_reads_anonymous_records(user, staff, set_tts):
    sound = tts_create(text="Made while anonymous access was on.")
    set_tts(ANONYMOUS_SYNTHESIS=False)
    for who in (None, user):
        with pytest.raises(Http404):
            tts_get(pk=sound.pk, user=who)
    assert tts_get(pk=sound.pk, user=staff) == sound
    assert not tts_can_create(user=None) and tts_can_create(user=user)


def test_an_owned_record_is_not_readable_anonymously(client, user):
    """Logging out gives no more access than logging in: an owned record is the owner's and staff's alone."""
    sound = tts_create(text="Alice's words.", owner=user)
    response = client.get(f"/api/tts/{sound.pk}/")
    assert response.status_code == 404 and "Alice" not in response.content.decode()


def test_bulk_delete_is_staff_only_in_the_service(user, staff):
    from django.core.exceptions import PermissionDenied

    from API.services import tts_bulk_delete

    tts_create(text="Keep me.", owner=user)
    with pytest.raises(PermissionDenied):
        tts_bulk_delete(queryset=TTSound.objects.all(), by=user)
    assert TTSound.objects.count() == 1
    assert tts_bulk_delete(queryset=TTSound.objects.all(), by=staff) == 1


def test_unknown_and_invisible_records_give_the_same_404(as_other, user):
    sound = tts_create(text="Private.", owner=user)
    a = as_other.get(f"/api/tts/{sound.pk}/")
    b = as_other.get("/api/tts/00000000-0000-4000-8000-000000000000/")
    assert a.status_code == b.status_code == 404 and a.json() == b.json()
