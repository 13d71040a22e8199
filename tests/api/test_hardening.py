"""Production defects, each pinned by a test against the real code path (issue 20): per-kind throttles, readiness
back-off and public reasons, explicit bulk deletion, start-up checks, a full or read-only MEDIA_ROOT."""
from __future__ import annotations

import contextlib
import logging
import os
import pathlib
import subprocess
import sys
import uuid

import pytest

from API import engine
from API.checks import tts_settings_check
from API.models import TTSound

ROOT = pathlib.Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def _codes(client, n: int, **extra) -> list[int]:
    return [client.post("/api/tts/", {"text": "Hi."}, format="json", **extra).status_code for _ in range(n)]


def test_each_throttle_rate_applies_to_its_own_kind_of_client(client, as_user, throttle_rates):
    # The anonymous rate is above the user rate: anonymous callers get their whole rate (DRF's UserRateThrottle
    # alone would cap them at the user rate), signed-in users theirs.
    with throttle_rates(synthesis_anon="4/min", synthesis_user="2/min"):
        assert _codes(client, 5, REMOTE_ADDR="10.1.1.1") == [201, 201, 201, 201, 429]
        assert _codes(as_user, 3, REMOTE_ADDR="10.1.1.2") == [201, 201, 429]
    with throttle_rates(synthesis_anon="1/min", synthesis_user="3/min"):
        assert _codes(client, 2, REMOTE_ADDR="10.1.1.3") == [201, 429]
        assert _codes(as_user, 4, REMOTE_ADDR="10.1.1.3") == [201, 201, 201, 429]  # same address, own rate


def test_readiness_backs_off_after_a_load_failure_and_says_nothing_private(client, set_tts, tmp_path, caplog,
                                                                          monkeypatch, settings):
    secret_path = tmp_path / "private" / "missing-voice.pt"
    set_tts(handler={"tacotron2_checkpoint": str(secret_path)})
    now = [1000.0]
    monkeypatch.setattr(engine, "_clock", lambda: now[0])
    with caplog.at_level(logging.ERROR, logger="API.engine"):
        first = client.get("/api/health/ready/")
        again = [client.get("/api/health/ready/") for _ in range(5)]
        synth = client.post("/api/tts/", {"text": "Hello."}, format="json")
    attempts = [r for r in caplog.records if r.name == "API.engine" and "failed to load" in r.getMessage()]
    assert len(attempts) == 1  # six probes and one request within the back-off: one load attempt
    assert str(secret_path) in attempts[0].getMessage()  # the operator's log has the detail
    for response in (first, *again, synth):
        assert response.status_code == 503 and "private" not in response.content.decode()
    assert first.json()["reason"] == engine.PUBLIC_LOAD_FAILURE and first.json()["retry_in_s"] == 5

    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="API.engine"):
        now[0] += 6  # past the first back-off: one new attempt, then a longer wait
        assert client.get("/api/health/ready/").json()["retry_in_s"] == 10
        client.get("/api/health/ready/")
    assert len([r for r in caplog.records if r.name == "API.engine" and "failed to load" in r.getMessage()]) == 1

    # Fixed on disk: the next attempt after the back-off succeeds, without restarting anything.
    from tests.tts_core.factories import save_our_tacotron, tiny_tacotron

    secret_path.parent.mkdir()
    save_our_tacotron(secret_path, tiny_tacotron(max_decoder_steps=10))
    assert client.get("/api/health/ready/").status_code == 503  # still inside the back-off
    now[0] += 11
    assert client.get("/api/health/ready/").status_code == 200


def test_readiness_is_throttled_per_client(client, throttle_rates):
    with throttle_rates(readiness="3/min"):
        codes = [client.get("/api/health/ready/", REMOTE_ADDR="10.2.2.2").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert client.get("/api/health/ready/", REMOTE_ADDR="10.2.2.3").status_code == 200


def test_local_probe_skips_host_check_but_real_traffic_does_not(client, settings):
    settings.ALLOWED_HOSTS = ["tts.example.com"]
    probe = client.get("/api/health/ready/", REMOTE_ADDR="127.0.0.1", HTTP_HOST="127.0.0.1:8000")
    assert probe.status_code == 200 and probe.json()["ready"] is True
    # Forwarded by a proxy, or not from loopback, or another path: host validation as usual.
    forwarded = client.get("/api/health/", REMOTE_ADDR="127.0.0.1", HTTP_HOST="evil.example",
                           HTTP_X_FORWARDED_FOR="198.51.100.1")
    remote = client.get("/api/health/", REMOTE_ADDR="198.51.100.1", HTTP_HOST="evil.example")
    other = client.get("/api/tts/", REMOTE_ADDR="127.0.0.1", HTTP_HOST="evil.example")
    assert forwarded.status_code == remote.status_code == other.status_code == 400


def test_startup_check_names_missing_files(set_tts, tmp_path):
    assert tts_settings_check(None) == []
    set_tts(handler={"tacotron2_checkpoint": str(tmp_path / "t.pt"), "waveglow_checkpoint": str(tmp_path / "w.pt"),
                     "cmudict_path": str(tmp_path / "cmu.dict"), "precision": "fp8"})
    ids = sorted(problem.id for problem in tts_settings_check(None))
    assert ids == ["tts.E001", "tts.E002", "tts.E003", "tts.E005"]
    # With the celery backend the web processes load no models (and need not mount them); workers check them.
    set_tts(BACKEND="celery")
    assert [problem.id for problem in tts_settings_check(None)] == ["tts.E005"]
    set_tts(PROCESS_ROLE="worker")
    assert sorted(problem.id for problem in tts_settings_check(None)) == ids


def test_missing_cmu_dictionary_is_a_503_not_a_500(client, set_tts, tmp_path):
    # The bundled voice reads ARPAbet: with its dictionary gone synthesis is unavailable, clearly.
    set_tts(handler={"tacotron2_checkpoint": None, "waveglow_checkpoint": None,
                     "cmudict_path": str(tmp_path / "gone.dict")})
    response = client.post("/api/tts/", {"text": "Hello."}, format="json")
    assert response.status_code == 503 and response.json()["error"]["code"] == "not_ready"
    assert [p.id for p in tts_settings_check(None)] == ["tts.E003"]


# --------------------------------------------------------------------------------------------- storage faults
@contextlib.contextmanager
def tmpfs(path: pathlib.Path, options: str):
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        if os.environ.get("CI"):
            raise RuntimeError(f"mounting a tmpfs is needed for this test (root): {done.stderr}")
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _files(root: pathlib.Path) -> list[pathlib.Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_read_only_media_root_is_a_clear_error_and_keeps_nothing(as_user, settings, tmp_path):
    with tmpfs(tmp_path / "ro-media", "ro,size=1m") as media:
        settings.MEDIA_ROOT = str(media)
        as_user.raise_request_exception = False
        response = as_user.post("/api/tts/", {"text": "Hello."}, format="json")
        assert response.status_code == 503, response.content
        assert response.json()["error"]["code"] == "storage_unavailable" and response["Retry-After"]
        assert not TTSound.objects.exists() and _files(media) == []


def test_full_disk_is_a_clear_error_and_leaves_no_partial_file(as_user, settings, tmp_path):
    with tmpfs(tmp_path / "full-media", "size=64k") as media:
        settings.MEDIA_ROOT = str(media)
        filler = media / "filler"
        with open(filler, "wb") as handle:  # leave 8 KiB: the ~13 KB WAV starts to be written, then fails
            handle.write(b"\0" * (64 * 1024 - 8 * 1024))
        as_user.raise_request_exception = False
        response = as_user.post("/api/tts/", {"text": "Hello."}, format="json")
        assert response.status_code == 507, response.content
        assert response.json()["error"]["code"] == "storage_full"
        assert not TTSound.objects.exists() and _files(media) == [filler]
        filler.unlink()  # space again: synthesis works, the service needed no restart
        assert as_user.post("/api/tts/", {"text": "Hello."}, format="json").status_code == 201
        assert len(_files(media)) == TTSound.objects.count() == 1


# --------------------------------------------------------------------------------------------- settings
def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TTS_", "DATABASE_URL"))}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**base, "DJANGO_SETTINGS_MODULE": "tacotron_tts.settings", "DJANGO_ENV_FILE": "",
                               "DJANGO_DEBUG": "0", **env})


GOOD_KEY = "k3y-" + uuid.uuid4().hex + uuid.uuid4().hex


@pytest.mark.own_settings
@pytest.mark.parametrize(("key", "db", "says"), [
    ("change-me-to-a-long-random-string", None, "placeholder"),
    ("short-key-123", None, "too short"),
    ("x" * 60, None, "too short or too simple"),
    (GOOD_KEY, "postgres://tts:change-me@db:5432/tts", "database password"),
])
def test_placeholder_secrets_are_refused_at_startup(key, db, says):
    env = {"DJANGO_SECRET_KEY": key, **({"DATABASE_URL": db} if db else {})}
    done = _manage("check", **env)
    assert done.returncode != 0 and "ImproperlyConfigured" in done.stderr and says in done.stderr


@pytest.mark.own_settings
def test_deploy_check_has_no_warnings_with_production_settings(tmp_path):
    done = _manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_SECRET_KEY=GOOD_KEY, DJANGO_HTTPS="1",
                   DJANGO_ALLOWED_HOSTS="tts.example.com", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


@pytest.mark.own_settings
def test_throttle_counters_can_live_in_redis_shared_by_all_workers():
    # The documented CACHE_URL for several workers works with what requirements.txt installs.
    if subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True).returncode != 0:
        if os.environ.get("CI"):
            raise RuntimeError("Redis on 127.0.0.1:6379 is required for this test")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    key = f"tts-test-{uuid.uuid4().hex}"
    code = (f"from django.core.cache import cache; cache.set('{key}', 41, 30); cache.incr('{key}'); "
            f"print(cache.get('{key}')); cache.delete('{key}')")
    done = _manage("shell", "--no-imports", "-c", code, DJANGO_SECRET_KEY=GOOD_KEY, DJANGO_HTTPS="0",
                   CACHE_URL="redis://127.0.0.1:6379/1")
    assert done.returncode == 0 and done.stdout.strip() == "42", done.stderr
