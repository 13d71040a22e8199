"""A record and its audio file exist together or not at all, whatever fails: the storage half-way through a write
(see test_hardening's full disk), the database at commit time, or the process itself (the orphan sweep)."""
from __future__ import annotations

import io
import os
import pathlib
import time

import pytest
from django.core.management import call_command
from django.db import connection

from API.models import TTSound
from API.services import tts_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def failing_commit():
    """A real failure at COMMIT: a deferred constraint trigger on PostgreSQL that rejects every new row when the
    transaction commits, after the row was inserted and the file written."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's deferred constraint triggers (CI runs these tests on PostgreSQL too)")
    table = TTSound._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("CREATE FUNCTION tts_test_reject() RETURNS trigger AS $$ BEGIN "
                       "RAISE EXCEPTION 'rejected at commit'; END $$ LANGUAGE plpgsql")
        cursor.execute(f'CREATE CONSTRAINT TRIGGER tts_test_reject AFTER INSERT ON "{table}" '
                       "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tts_test_reject()")
    yield
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TRIGGER tts_test_reject ON "{table}"')
        cursor.execute("DROP FUNCTION tts_test_reject()")


def test_a_database_failure_at_commit_time_leaves_no_file(as_user, media_files, failing_commit):
    as_user.raise_request_exception = False
    response = as_user.post("/api/tts/", {"text": "Committed? No."}, format="json")
    assert response.status_code == 500 and response.json()["error"]["code"] == "server_error"
    assert not TTSound.objects.exists() and media_files() == []


def test_the_orphan_sweep_removes_files_without_a_row_and_nothing_else(user, media_files, settings):
    kept = tts_create(text="I have a row.", owner=user)
    # What a worker killed between writing the file and committing leaves: a file no row points to.
    orphan = pathlib.Path(settings.MEDIA_ROOT) / "tts/2026/01/01/00000000-0000-4000-8000-000000000001.wav"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"RIFF....WAVE")
    young = orphan.with_name("00000000-0000-4000-8000-000000000002.wav")
    young.write_bytes(b"RIFF....WAVE")
    old = time.time() - 7200
    os.utime(orphan, (old, old))
    os.utime(pathlib.Path(settings.MEDIA_ROOT) / kept.audio_join.name, (old, old))

    out = io.StringIO()
    call_command("clean_orphans", "--dry-run", stdout=out)
    assert "1 orphaned file(s) found" in out.getvalue() and orphan.exists()
    call_command("clean_orphans", stdout=io.StringIO())
    assert not orphan.exists() and young.exists()  # the young one may still be committing
    assert kept.audio_join.storage.exists(kept.audio_join.name)
    call_command("clean_orphans", "--older-than", "0", stdout=io.StringIO())
    assert [p.name for p in media_files()] == [pathlib.Path(kept.audio_join.name).name]
