"""Every access rule, through the HTTP API with real token authentication: anonymous / owner / another user /
staff × read / list / delete / audio, for owned and anonymous records, with anonymous access on and off; audio
links (signed, expiring, revocable by deletion, TTS_PRIVATE_AUDIO); bad and revoked tokens; CSRF on session writes.
"""
from __future__ import annotations

import io
import time
import wave

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from API.models import TTSound
from API.services import tts_create

pytestmark = pytest.mark.django_db

# (record, anonymous access) -> role -> (read, list, delete, audio without a signature)
# list: "listed" / "unlisted" (200 without it) / 401; the others are status codes.
OWNED = {"anonymous": (404, 401, 401, 404), "owner": (200, "listed", 204, 200),
         "other": (404, "unlisted", 404, 404), "staff": (200, "listed", 204, 200)}
EXPECTED = {
    ("owned", True): OWNED,
    ("owned", False): OWNED,
    ("anonymous", True): {"anonymous": (200, 401, 401, 200), "owner": (200, "unlisted", 404, 200),
                          "other": (200, "unlisted", 404, 200), "staff": (200, "listed", 204, 200)},
    ("anonymous", False): {"anonymous": (404, 401, 401, 404), "owner": (404, "unlisted", 404, 404),
                           "other": (404, "unlisted", 404, 404), "staff": (200, "listed", 204, 200)},
}


def _token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def clients(user, other_user, staff):
    return {"anonymous": APIClient(), "owner": _token_client(user), "other": _token_client(other_user),
            "staff": _token_client(staff)}


@pytest.mark.django_db(transaction=True)  # files go when the deletion commits
@pytest.mark.parametrize("record,anonymous_on", list(EXPECTED))
@pytest.mark.parametrize("role", ["anonymous", "owner", "other", "staff"])
def test_access_matrix(record, anonymous_on, role, clients, user, set_tts, media_files):
    sound = tts_create(text="Matrix words.", owner=user if record == "owned" else None)
    set_tts(ANONYMOUS_SYNTHESIS=anonymous_on)
    client = clients[role]
    read, listing, delete, audio = EXPECTED[(record, anonymous_on)][role]

    response = client.get(f"/api/tts/{sound.pk}/")
    assert response.status_code == read
    if read == 404:
        assert "Matrix" not in response.content.decode()
    response = client.get("/api/tts/")
    if listing == 401:
        assert response.status_code == 401
    else:
        uuids = [r["uuid"] for r in response.json()["results"]]
        assert (str(sound.pk) in uuids) == (listing == "listed")
    response = client.get(f"/api/tts/{sound.pk}/audio/")  # no signature
    assert response.status_code == audio
    if audio == 200:
        assert response["X-Accel-Redirect"] == f"/media/{sound.audio_join.name}"
    response = client.delete(f"/api/tts/{sound.pk}/")
    assert response.status_code == delete
    assert TTSound.objects.filter(pk=sound.pk).exists() == (delete != 204)
    assert len(media_files()) == (0 if delete == 204 else 1)


def test_a_signed_audio_link_works_for_whoever_holds_it_until_it_expires(clients, user, set_tts):
    sound = tts_create(text="Signed.", owner=user)
    url = clients["owner"].get(f"/api/tts/{sound.pk}/").json()["audio_url"]
    assert "sig=" in url
    for role in ("anonymous", "other"):  # shared by the owner: a capability for a while
        assert clients[role].get(url).status_code == 200
    forged = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    assert clients["anonymous"].get(forged).status_code == 404
    other_record = tts_create(text="Another.", owner=user)
    borrowed = url.replace(str(sound.pk), str(other_record.pk))  # a signature is for one record only
    assert clients["anonymous"].get(borrowed).status_code == 404

    set_tts(AUDIO_LINK_MAX_AGE=0)
    time.sleep(1.1)
    expired = clients["anonymous"].get(url)
    assert expired.status_code == 403 and expired.json()["error"]["code"] == "link_expired"
    assert clients["owner"].get(url).status_code == 200  # the owner needs no signature


def test_deleting_a_record_kills_its_audio_link_at_once(clients, user):
    sound = tts_create(text="Gone soon.", owner=user)
    url = clients["owner"].get(f"/api/tts/{sound.pk}/").json()["audio_url"]
    assert clients["anonymous"].get(url).status_code == 200
    assert clients["owner"].delete(f"/api/tts/{sound.pk}/").status_code == 204
    assert clients["anonymous"].get(url).status_code == 404
    assert clients["owner"].get(url).status_code == 404


def test_private_audio_signs_anonymous_records_links_too(clients, set_tts):
    sound = tts_create(text="Anonymous but private audio.")
    assert clients["anonymous"].get(f"/api/tts/{sound.pk}/audio/").status_code == 200
    set_tts(PRIVATE_AUDIO=True)
    assert clients["anonymous"].get(f"/api/tts/{sound.pk}/audio/").status_code == 404
    url = clients["anonymous"].get(f"/api/tts/{sound.pk}/").json()["audio_url"]
    assert "sig=" in url and clients["anonymous"].get(url).status_code == 200


def test_without_nginx_django_sends_the_file(clients, user, set_tts):
    set_tts(AUDIO_SENDER="django")
    sound = tts_create(text="Sent by Django.", owner=user)
    response = clients["owner"].get(f"/api/tts/{sound.pk}/audio/")
    assert response.status_code == 200 and "X-Accel-Redirect" not in response
    assert response["Cache-Control"] == "private, no-cache"
    with wave.open(io.BytesIO(b"".join(response.streaming_content))) as w:
        assert w.getnframes() == round(sound.duration * sound.sample_rate)


def test_bad_and_revoked_tokens_are_401(user):
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = bad.post("/api/tts/", {"text": "Hello."}, format="json")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    client = _token_client(user)
    assert client.get("/api/tts/").status_code == 200
    Token.objects.filter(user=user).delete()  # revoked
    assert client.get("/api/tts/").status_code == 401
    assert client.post("/api/tts/", {"text": "Hello."}, format="json").status_code == 401
    assert not TTSound.objects.exists()


def test_session_writes_need_the_csrf_token(user):
    client = APIClient(enforce_csrf_checks=True)
    client.login(username="alice", password="pw-alice-123")
    refused = client.post("/api/tts/", {"text": "Hello."}, format="json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]["message"]
    client.get("/admin/login/")  # any page that sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post("/api/tts/", {"text": "Hello."}, format="json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201 and accepted.json()["owner"] == "alice"
    sound = TTSound.objects.get()
    assert client.delete(f"/api/tts/{sound.pk}/").status_code == 403  # deletes too
    assert client.delete(f"/api/tts/{sound.pk}/", HTTP_X_CSRFTOKEN=token).status_code == 204
