"""Start the real stack from the repository's own files: scripts/entrypoint.sh (migrate, collectstatic, Gunicorn
with gunicorn.conf.py) and Nginx with nginx/default.conf.template, on free local ports."""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import uuid
import urllib.request

import pytest
import torch

from tests.tts_core.factories import save_our_tacotron, tiny_tacotron, tiny_waveglow

ROOT = pathlib.Path(__file__).resolve().parents[2]
# STACK_DATABASE=postgres (CI sets it): every stack gets a fresh PostgreSQL database of its own, as in production;
# otherwise a fresh SQLite file (the newcomer's default).
STACK_DATABASE = os.environ.get("STACK_DATABASE", "sqlite")
PG_ADMIN = os.environ.get("STACK_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def psql(sql: str) -> None:
    subprocess.run(["psql", PG_ADMIN, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True, capture_output=True)


def create_pg_database() -> str:
    """A fresh, empty PostgreSQL database on the local server; returns its URL (drop_pg_database removes it)."""
    if shutil.which("psql") is None or subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode != 0:
        if os.environ.get("CI"):
            raise RuntimeError("PostgreSQL on 127.0.0.1:5432 is required for this test")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    name = f"tts_stack_{uuid.uuid4().hex[:10]}"
    psql(f"CREATE DATABASE {name}")
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(url: str) -> None:
    psql(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect is an answer to look at, not to follow
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None, timeout: float = 60):
    """One request, redirects not followed: (status, headers as a dict, body, the raw header object)."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with _opener.open(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers.items()), resp.read(), resp.headers
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers.items()), err.read(), err.headers


def post_json(url: str, payload: dict, headers: dict | None = None, timeout: float = 60):
    status, hdrs, body, raw = http("POST", url, json.dumps(payload).encode(),
                                   {"Content-Type": "application/json", **(headers or {})}, timeout)
    return status, hdrs, (json.loads(body) if body else None), raw


def wait_for(url: str, deadline: float = 60, expect_any_status: bool = False) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            with _opener.open(url, timeout=2):
                return
        except urllib.error.HTTPError:
            if expect_any_status:  # it answers (a redirect or a 400 under production settings)
                return
            time.sleep(0.3)
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


class Stack:
    def __init__(self, tmp: pathlib.Path, tacotron: pathlib.Path, waveglow: pathlib.Path | None,
                 extra_env: dict[str, str] | None = None):
        if shutil.which("nginx") is None:
            if os.environ.get("CI"):
                raise RuntimeError("nginx is required for the stack tests (scripts/test.sh installs it)")
            pytest.skip("nginx is not installed")
        # pytest's tmp folders are private (0700, under /tmp/pytest-of-<user>): nginx must serve them all the same,
        # as it must serve a clone under /root (scripts/render_nginx.py runs root's workers as root).
        self.tmp = tmp
        self.api_port, self.port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.media = tmp / "media"
        self.env = {
            **os.environ,
            "PYTHON": sys.executable,
            "DJANGO_SETTINGS_MODULE": "tacotron_tts.settings",
            "DJANGO_ENV_FILE": "",
            "DJANGO_SECRET_KEY": "stack-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "DJANGO_DEBUG": "0",
            "DJANGO_HTTPS": "0",
            "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
            "MEDIA_ROOT": str(self.media),
            "STATIC_ROOT": str(tmp / "static"),
            "GUNICORN_BIND": f"127.0.0.1:{self.api_port}",
            "GUNICORN_WORKERS": "1",
            "GUNICORN_THREADS": "4",
            "GUNICORN_PIDFILE": str(tmp / "gunicorn.pid"),
            "TTS_TACOTRON2_CHECKPOINT": str(tacotron),
            "TTS_WAVEGLOW_CHECKPOINT": str(waveglow or ""),
            "TTS_LOAD_AT_STARTUP": "1",
            "TTS_THROTTLE_ANON": "1000/min",
            "TTS_THROTTLE_USER": "1000/min",
            "TTS_UPSTREAM": f"127.0.0.1:{self.api_port}",
            "NGINX_PORT": str(self.port),
            "NGINX_TTS_RATE": "2r/s",
            "NGINX_TTS_BURST": "3",
            "OMP_NUM_THREADS": "1",
            **(extra_env or {}),
        }
        self.env = {k: v for k, v in self.env.items() if v is not None}  # None: back to the product's default
        self.own_database = None
        if STACK_DATABASE == "postgres" and "DATABASE_URL" not in (extra_env or {}):
            self.own_database = self.env["DATABASE_URL"] = create_pg_database()
        self.env.pop("TTS_NVIDIA_DLE_DIR", None)
        self.log = open(tmp / "stack.log", "wb")
        self.gunicorn = subprocess.Popen([str(ROOT / "scripts/entrypoint.sh")], cwd=ROOT, env=self.env,
                                         stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        subprocess.run([sys.executable, str(ROOT / "scripts/render_nginx.py"), str(tmp / "nginx")], env=self.env,
                       check=True, capture_output=True)
        self.extra_nginx: list[subprocess.Popen] = []
        self.nginx = self._start_nginx(tmp / "nginx", self.env)
        try:
            wait_for(f"http://127.0.0.1:{self.api_port}/api/health/")
            wait_for(f"{self.url}/api/health/", expect_any_status=True)
        except RuntimeError:
            log = (tmp / "stack.log").read_text(errors="replace")[-3000:]
            self.stop()
            raise RuntimeError(log) from None

    def _start_nginx(self, runtime: pathlib.Path, env: dict[str, str]) -> subprocess.Popen:
        subprocess.run([sys.executable, str(ROOT / "scripts/render_nginx.py"), str(runtime)], env=env, check=True,
                       capture_output=True)
        return subprocess.Popen(["nginx", "-c", str(runtime / "nginx.conf"), "-e", str(runtime / "error.log")],
                                stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def another_nginx(self, **env: str) -> str:
        """A second Nginx in front of the same Gunicorn, with other settings; returns its URL."""
        port = free_port()
        runtime = self.tmp / f"nginx-{port}"
        self.extra_nginx.append(self._start_nginx(runtime, {**self.env, "NGINX_PORT": str(port), **env}))
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/api/health/", expect_any_status=True)
        return url

    def manage(self, *args: str) -> str:
        out = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True,
                             capture_output=True, text=True)
        return out.stdout

    def gunicorn_master(self) -> int:
        return int((self.tmp / "gunicorn.pid").read_text())

    def workers(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.gunicorn_master())], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def media_files(self) -> list[pathlib.Path]:
        return sorted(p for p in self.media.rglob("*") if p.is_file()) if self.media.exists() else []

    def rows(self) -> list[str]:
        return json.loads(self.manage("shell", "--no-imports", "-c",
                                      "import json; from API.models import TTSound; "
                                      "print(json.dumps([str(u) for u in TTSound.objects.values_list('uuid', flat=True)]))"))

    def stop(self) -> None:
        procs = [*self.extra_nginx, self.nginx, self.gunicorn]
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.own_database:
            drop_pg_database(self.own_database)


class WyomingServer:
    """``manage.py wyoming_server`` on a free local port with the stack's settings, up once it takes connections."""

    def __init__(self, stack: Stack, log_name: str, timeout: float = 90):
        self.port = free_port()
        self.log_path = stack.tmp / log_name
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "manage.py", "wyoming_server", "--uri",
                                      f"tcp://127.0.0.1:{self.port}"], cwd=ROOT, env=stack.env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(self.log_path.read_text(errors="replace")[-3000:]) from None
                time.sleep(0.3)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)
        self.log.close()


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stack-ckpt")
    quick = tiny_tacotron(max_decoder_steps=20)
    quick.decoder.gate_layer.linear_layer.bias.data.fill_(-2.0)
    slow = tiny_tacotron(max_decoder_steps=4000)
    slow.decoder.gate_layer.linear_layer.bias.data.fill_(-30.0)  # never stops: runs all 4000 steps
    wg = folder / "waveglow.pt"
    torch.save({"state_dict": tiny_waveglow().state_dict()}, wg)
    return {"quick": save_our_tacotron(folder / "quick.pt", quick),
            "slow": save_our_tacotron(folder / "slow.pt", slow), "waveglow": wg}
