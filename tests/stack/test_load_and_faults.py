"""Load and fault tests on the real processes (issue 20): 500 requests at concurrency 8 through Nginx, the default
throttles under load, PostgreSQL restarted under a running service, and the release step run by replicas at once.
Each prints its figures (pytest -s shows them)."""
from __future__ import annotations

import concurrent.futures
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pytest

from .conftest import ROOT, Stack, create_pg_database, drop_pg_database, http, post_json

pytestmark = pytest.mark.stack


def _bench():
    spec = importlib.util.spec_from_file_location("bench_http", ROOT / "scripts/bench_http.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def _figures(name: str, level: dict, **extra) -> None:
    keep = ("requests", "concurrency", "status_counts", "latency_p50_s", "latency_p99_s", "throughput_rps")
    print(f"\n[{name}] " + json.dumps({**{k: level[k] for k in keep}, **extra}))


def test_500_requests_at_concurrency_8_all_succeed_and_rows_match_files(tmp_path, checkpoints):
    stack = Stack(tmp_path, checkpoints["quick"], checkpoints["waveglow"],
                  {"NGINX_TTS_RATE": "10000r/s", "NGINX_TTS_BURST": "1000", "GUNICORN_THREADS": "8"})
    try:
        level = _bench().run_level(stack.url, 500, 8, None, 120)
        rows, files = stack.rows(), stack.media_files()
        _figures("load 500x8, throttles raised", level, rows=len(rows), files=len(files))
        assert level["status_counts"] == {"201": 500}
        assert len(rows) == len(files) == 500 and sorted(rows) == sorted(p.stem for p in files)
    finally:
        stack.stop()


def test_default_throttles_under_load_answer_only_success_or_429_with_retry_after(tmp_path, checkpoints):
    defaults = {name: None for name in ("TTS_THROTTLE_ANON", "TTS_THROTTLE_USER", "NGINX_TTS_RATE", "NGINX_TTS_BURST")}
    stack = Stack(tmp_path, checkpoints["quick"], checkpoints["waveglow"], defaults)
    try:
        level = _bench().run_level(stack.url, 100, 8, None, 120)
        _figures("load 100x8, default throttles", level)
        assert set(level["status_counts"]) <= {"201", "429"} and level["status_counts"].get("429", 0) > 0
        assert level["retry_after_missing"] == 0
        assert 0 < level["status_counts"]["201"] <= 10 + 1  # TTS_THROTTLE_ANON's 10/min (+1 at a minute edge)
        assert len(stack.rows()) == len(stack.media_files()) == level["status_counts"]["201"]
    finally:
        stack.stop()


# --------------------------------------------------------------------------------------------- PostgreSQL
@pytest.fixture
def pg_database():
    url = create_pg_database()
    yield url
    drop_pg_database(url)


def _cluster(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action, *(
        ["-m", "fast"] if action == "stop" else [])], check=True, capture_output=True)


def test_postgresql_restart_gives_clear_503s_then_recovers_without_restarting_gunicorn(tmp_path, checkpoints,
                                                                                      pg_database):
    if shutil.which("pg_ctlcluster") is None:
        pytest.skip("needs Debian's pg_ctlcluster to restart the server")
    stack = Stack(tmp_path, checkpoints["quick"], checkpoints["waveglow"],
                  {"DATABASE_URL": pg_database, "NGINX_TTS_RATE": "100r/s", "NGINX_TTS_BURST": "50"})
    try:
        stack.manage("shell", "-c", "from django.contrib.auth.models import User; "
                                    "User.objects.create_user('pg', password='pw-pg-123456')")
        token = post_json(f"{stack.url}/api/auth/token/", {"username": "pg", "password": "pw-pg-123456"})[2]["token"]
        auth = {"Authorization": f"Token {token}"}
        assert post_json(f"{stack.url}/api/tts/", {"text": "Before."}, auth)[0] == 201
        workers = stack.workers()
        _cluster("stop")
        try:
            outage = [post_json(f"{stack.url}/api/tts/", {"text": "During."}, auth),
                      post_json(f"{stack.url}/api/tts/", {"text": "During, anonymous."}),
                      http("GET", f"{stack.url}/api/tts/", headers=auth)]
            ready = http("GET", f"{stack.url}/api/health/ready/")
            live = http("GET", f"{stack.url}/api/health/")
        finally:
            _cluster("start")
        for status, headers, body, _ in outage:
            body = body if isinstance(body, dict) else json.loads(body)
            assert status == 503 and body["error"]["code"] == "database_unavailable" and headers["Retry-After"]
        assert ready[0] == 503 and json.loads(ready[2])["reason"] == "the database is unavailable"
        assert live[0] == 200  # liveness: the process is fine, nothing to restart

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and http("GET", f"{stack.url}/api/health/ready/")[0] != 200:
            time.sleep(0.5)
        after = post_json(f"{stack.url}/api/tts/", {"text": "After."}, auth)
        assert after[0] == 201, after[2]
        assert stack.workers() == workers  # recovered by itself: the same Gunicorn workers
        assert len(stack.rows()) == len(stack.media_files()) == 2  # nothing from the outage was kept
    finally:
        stack.stop()


def test_worker_killed_between_file_write_and_commit_leaves_only_a_swept_orphan(tmp_path, checkpoints, pg_database):
    """The hard moment: the audio file is written, the row is not committed. A lock held by the test stops the
    worker exactly there (its INSERT waits), the test sees the file and the waiting backend, then kills the worker."""
    import threading

    import psycopg

    from .test_stack import assert_security_headers

    stack = Stack(tmp_path, checkpoints["quick"], checkpoints["waveglow"],
                  {"DATABASE_URL": pg_database, "NGINX_TTS_RATE": "100r/s", "NGINX_TTS_BURST": "50"})
    lock = psycopg.connect(pg_database, autocommit=False)
    try:
        workers = stack.workers()
        lock.execute('LOCK TABLE "API_ttsound" IN SHARE ROW EXCLUSIVE MODE')  # reads pass, inserts wait
        result: dict = {}
        thread = threading.Thread(target=lambda: result.setdefault(
            "response", post_json(f"{stack.url}/api/tts/", {"text": "Killed before commit."}, timeout=120)))
        thread.start()
        deadline = time.monotonic() + 60
        with psycopg.connect(pg_database, autocommit=True) as watcher:
            while time.monotonic() < deadline:
                waiting = watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                          "AND query ILIKE 'INSERT INTO \"API_ttsound\"%%'").fetchone()[0]
                if waiting and stack.media_files():
                    break
                time.sleep(0.05)
        assert waiting == 1 and len(stack.media_files()) == 1  # written, not committed
        os.kill(workers[0], signal.SIGKILL)
        thread.join(timeout=60)
        status, _, body, raw = result["response"]
        assert status == 502 and body["error"]["code"] == "bad_gateway" and raw.get_all("Retry-After") == ["5"]
        assert_security_headers(raw, "nginx 502")
    finally:
        lock.rollback()
        lock.close()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not stack.workers() or stack.workers() == workers):
            time.sleep(0.2)
        assert stack.workers() and stack.workers() != workers  # Gunicorn replaced the worker
        assert stack.rows() == [] and len(stack.media_files()) == 1  # the orphan a crash can leave
        stack.manage("clean_orphans", "--older-than", "0")
        assert stack.media_files() == []
        status, _, record, _ = post_json(f"{stack.url}/api/tts/", {"text": "After the crash."}, timeout=120)
        assert status == 201, record
        assert stack.rows() == [record["uuid"]] and [p.stem for p in stack.media_files()] == [record["uuid"]]
    finally:
        stack.stop()


def test_release_step_run_by_several_replicas_at_once(pg_database):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TTS_"))},
           "DJANGO_SETTINGS_MODULE": "tacotron_tts.settings", "DJANGO_ENV_FILE": "", "DJANGO_DEBUG": "0",
           "DJANGO_SECRET_KEY": "release-test-" + uuid.uuid4().hex + uuid.uuid4().hex, "DJANGO_HTTPS": "0",
           "DATABASE_URL": pg_database, "STATIC_ROOT": "/tmp/tts-release-static-" + uuid.uuid4().hex[:8]}
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda _: subprocess.run([sys.executable, "manage.py", "release", "--no-static"],
                                                      cwd=ROOT, env=env, capture_output=True, text=True),
                             range(4)))
    for run in runs:
        assert run.returncode == 0, run.stderr[-2000:]
    check = subprocess.run([sys.executable, "manage.py", "migrate", "--check"], cwd=ROOT, env=env,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
