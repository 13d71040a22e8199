"""The web page's server side (the browser tests are tests/stack/test_web.py): it renders the form and, for a
signed-in user, their own history; the login page signs in with the admin's users."""
from __future__ import annotations

import pytest

from API.models import TTSound

pytestmark = pytest.mark.django_db


def test_the_page_has_the_form_voices_and_formats(client):
    r = client.get("/")
    assert r.status_code == 200 and "csrftoken" in r.cookies
    html = r.content.decode()
    for needle in ('<textarea id="text" name="text"', 'value="tacotron2"', 'value="mp3" selected', 'id="player"',
                   'id="speed"', "web/playground.js", "Made in this browser session",
                   'id="sigma"'):  # WaveGlow is configured in these tests: its options are offered
        assert needle in html, needle


def test_a_signed_in_user_sees_only_their_own_history(client, user, other_user):
    TTSound.objects.create(text_content="Mine to hear.", owner=user, status="failed", error="x")
    TTSound.objects.create(text_content="Someone else's.", owner=other_user, status="failed", error="x")
    client.force_login(user)
    html = client.get("/").content.decode()
    assert "Your history" in html and "Mine to hear." in html and "Someone else" not in html


def test_login_with_a_users_password(client, user):
    r = client.post("/login/", {"username": "alice", "password": "pw-alice-123", "next": "/"})
    assert r.status_code == 302 and r["Location"] == "/"
    assert "Signed in as" in client.get("/").content.decode()
    from django.test import Client

    bad = Client().post("/login/", {"username": "alice", "password": "wrong"})
    assert bad.status_code == 200 and "did not match" in bad.content.decode()
