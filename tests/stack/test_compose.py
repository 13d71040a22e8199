"""docker-compose.yml and the Dockerfiles cannot run here (no Docker engine); validate them with a real parser."""
from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


def compose_config(tmp_path: pathlib.Path, gpu: bool) -> dict:
    if shutil.which("docker-compose") is None:
        if os.environ.get("CI"):
            raise RuntimeError("docker-compose is required (scripts/test.sh installs Debian's package)")
        pytest.skip("docker-compose is not installed")
    for name in ("docker-compose.yml", "docker-compose.gpu.yml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "nginx").mkdir()
    shutil.copy(ROOT / "nginx/Dockerfile", tmp_path / "nginx/Dockerfile")
    env = (ROOT / ".env.example").read_text()
    if not gpu:
        env = re.sub(r"^COMPOSE_FILE=.*$", "", env, flags=re.M)
    (tmp_path / ".env").write_text(env)
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    out = subprocess.run(["docker-compose", "config"], cwd=tmp_path, env=clean_env, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    return yaml.safe_load(out.stdout)


def gpus_of(service):
    return service.get("deploy", {}).get("resources", {}).get("reservations", {}).get("devices", [])


@pytest.mark.parametrize("gpu", [True, False])
def test_compose_file_is_valid_and_wired(tmp_path, gpu):
    cfg = compose_config(tmp_path, gpu)
    services = cfg["services"]
    assert set(services) == {"api", "worker", "redis", "nginx", "db", "wyoming"}
    wyoming = services["wyoming"]
    assert wyoming["entrypoint"][:3] == ["python", "manage.py", "wyoming_server"] and "tcp://0.0.0.0:10200" in \
        wyoming["entrypoint"]
    (port,) = wyoming["ports"]  # "ip:published:target" (compose v1 output) or the long form
    assert (int(port.rsplit(":", 1)[1].split("/")[0]) if isinstance(port, str) else port["target"]) == 10200
    assert not gpus_of(wyoming) and wyoming["environment"]["TTS_METRICS_PORT"] == "9100"
    assert wyoming["environment"]["TTS_SYNTHESIS_BACKEND"] == "celery"  # synthesis on the workers
    assert wyoming["depends_on"]["api"]["condition"] == "service_healthy"
    assert services["worker"]["environment"]["TTS_METRICS_PORT"] == "9100"
    api, worker, nginx, db = services["api"], services["worker"], services["nginx"], services["db"]
    # the workers synthesize (the GPU image and a GPU on GPU hosts); api never loads models
    assert api["build"]["target"] == "cpu" and worker["image"] == ("tacotron-tts-api:gpu" if gpu else api["image"])
    assert (worker.get("build", {}).get("target") == "gpu") == gpu

    def gpus(service):
        return service.get("deploy", {}).get("resources", {}).get("reservations", {}).get("devices", [])
    assert bool(gpus(worker)) == gpu and not gpus(api)
    assert worker["entrypoint"] == ["./scripts/worker.sh"] and "ports" not in worker
    assert "container_name" not in worker  # --scale worker=N
    for service in (api, worker):
        env = service["environment"]
        assert env["TTS_SYNTHESIS_BACKEND"] == "celery" and env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert env["CACHE_URL"].startswith("redis://redis:6379/")
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    assert worker["depends_on"]["api"]["condition"] == "service_healthy"  # migrated by api's release step
    assert "inspect ping" in " ".join(worker["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]

    # static and media volumes are shared by api (read-write) and nginx (read-only)
    def mounts(service):  # "volume:/target:mode" (compose v1 output) -> {target: (volume, mode)}
        out = {}
        for v in service["volumes"]:
            source, target, mode = (v.split(":") + ["rw"])[:3] if isinstance(v, str) else \
                (v["source"], v["target"], "ro" if v.get("read_only") else "rw")
            out[target] = (source, mode)
        return out
    assert mounts(api)["/vol/static"] == ("static", "rw") and mounts(api)["/vol/media"] == ("media", "rw")
    assert mounts(worker)["/vol/media"] == ("media", "rw") and "/models" in mounts(worker)
    assert "/models" not in mounts(api)
    assert mounts(nginx)["/vol/static"] == ("static", "ro") and mounts(nginx)["/vol/media"] == ("media", "ro")
    assert api["environment"]["MEDIA_ROOT"] == worker["environment"]["MEDIA_ROOT"] == \
        nginx["environment"]["MEDIA_ROOT"] == "/vol/media"
    assert api["environment"]["DATABASE_URL"].startswith("postgres://") and "@db:5432/" in api["environment"]["DATABASE_URL"]
    assert worker["environment"]["DATABASE_URL"] == api["environment"]["DATABASE_URL"]
    assert api["depends_on"]["db"]["condition"] == "service_healthy"
    assert nginx["depends_on"]["api"]["condition"] == "service_healthy"
    assert all("healthcheck" in s for s in services.values())
    assert [p["target"] for p in nginx["ports"]] == [8080] and "ports" not in api
    assert mounts(db)["/var/lib/postgresql/data"][0] == "pgdata"


def test_dockerfiles_are_consistent():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, flags=re.M)
    assert {"build-cpu", "build-gpu", "runtime-base", "cpu", "gpu"} <= set(stages)
    assert re.search(r"^USER app$", text, flags=re.M) and "HEALTHCHECK" in text
    assert 'ENTRYPOINT ["./scripts/entrypoint.sh"]' in text
    for src in re.findall(r"^COPY (?:--chown=\S+ )?(?!--from)(.+) \S+$", text, flags=re.M):
        for path in src.split():
            if not path.startswith("/"):
                assert (ROOT / path).exists(), path
    nginx = (ROOT / "nginx/Dockerfile").read_text()
    for src in re.findall(r"^COPY (\S+) \S+$", nginx, flags=re.M):
        assert (ROOT / "nginx" / src).exists(), src
    # The image runs only executable scripts from /docker-entrypoint.d/ (the trusted-proxies settings).
    assert "/docker-entrypoint.d/" in nginx and os.access(ROOT / "nginx/trusted-proxies.sh", os.X_OK)
    assert "nginx-unprivileged" in nginx and "default.conf.template" in nginx and "EXPOSE 8080" in nginx
    template_vars = set(re.findall(r"\$\{([A-Z_]+)\}", (ROOT / "nginx/default.conf.template").read_text()))
    env_block = nginx.split("ENV", 1)[1].split("EXPOSE")[0]
    assert template_vars <= set(re.findall(r"([A-Z_]+)=", env_block))  # the image defines every variable
