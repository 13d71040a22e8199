"""The newcomer's command, for real: ./scripts/run.sh in a fresh copy of the repository inside a private folder
(mode 0700, like a clone under /root), up to the hello sentence, then stopped as `timeout` or a service manager
stops it (SIGTERM). Nothing may be left running."""
from __future__ import annotations

import io
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
import wave

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.stack


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fresh_clone(target: pathlib.Path) -> None:
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        src = ROOT / name
        if src.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target / name)
    # The environment the test command already built (./scripts/test.sh), instead of installing it again.
    (target / ".venv").symlink_to(ROOT / ".venv")


def _processes_mentioning(text: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines()[1:] if text in line and "ps -eo" not in line]


def _redis_running() -> bool:
    try:
        import redis

        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.mark.parametrize("backend", ["inline", "celery"])
def test_run_sh_from_a_private_folder_says_hello_and_stops_cleanly(tmp_path, backend):
    if shutil.which("nginx") is None or shutil.which("curl") is None:
        if os.environ.get("CI"):
            raise RuntimeError("nginx and curl are required (scripts/test.sh installs them)")
        pytest.skip("nginx or curl missing")
    if backend == "celery" and not _redis_running():
        if os.environ.get("CI"):
            raise RuntimeError("Redis on 127.0.0.1:6379 is required (.ci/run starts it)")
        pytest.skip("Redis is not running")
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    clone = private / "tacotron-tts"
    _fresh_clone(clone)
    port, api_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "TTS_", "GUNICORN_", "NGINX_", "DATABASE_URL", "MEDIA_ROOT", "STATIC_ROOT",
                                "CELERY_"))}
    env.update(PORT=str(port), API_PORT=str(api_port), OMP_NUM_THREADS="2")
    if backend == "celery":  # the documented command, on the tests' own Redis database and queue
        env.update(TTS_SYNTHESIS_BACKEND="celery", CELERY_BROKER_URL="redis://127.0.0.1:6379/14",
                   TTS_QUEUE=f"tts-run-sh-{port}")
    proc = subprocess.Popen(["bash", "scripts/run.sh"], cwd=clone, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break  # it exited
            output.append(line)
            if "Press Ctrl-C to stop" in line:
                break
        log = "".join(output)
        assert "Text to speech is running" in log, log[-3000:]
        assert f"Synthesis: {backend}" in log
        with wave.open(io.BytesIO((clone / "run/hello.wav").read_bytes())) as w:
            assert w.getnframes() > w.getframerate() // 2  # the hello sentence, spoken (>0.5 s)
        url = next(word for line in output if "Hello:" in line for word in line.split() if word.startswith("http"))
        with urllib.request.urlopen(url, timeout=10) as resp:  # nginx serves the private folder's media
            assert resp.status == 200 and resp.headers["Content-Type"] == "audio/wav"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _processes_mentioning(str(clone)):
        time.sleep(0.5)
    # Gunicorn, nginx (master and workers) and the Celery worker (main and pool processes) all stopped
    assert _processes_mentioning(str(clone)) == []
    if backend == "celery":
        assert "TTS voice active" in (clone / "run/worker.log").read_text()
        assert "GET /api/health/ready/" in (clone / "run/gunicorn.log").read_text()
        assert "TTS voice active" not in (clone / "run/gunicorn.log").read_text()  # the web process loads none
