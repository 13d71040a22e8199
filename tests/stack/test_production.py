"""Production settings on the real processes: the container's own probe, host checking, HTTPS behind a TLS load
balancer (trusted proxies), and client addresses for nginx's and Django's throttles (issue 20, defects 1 and 2)."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml

from .conftest import ROOT, Stack, http, post_json

pytestmark = pytest.mark.stack
HOST = "tts.example.com"
LB = {"Host": HOST, "X-Forwarded-Proto": "https"}  # what a TLS-terminating load balancer sends


@pytest.fixture(scope="module")
def prod(tmp_path_factory, checkpoints):
    s = Stack(tmp_path_factory.mktemp("prod"), checkpoints["quick"], checkpoints["waveglow"], {
        "DJANGO_HTTPS": "1", "DJANGO_ALLOWED_HOSTS": HOST, "DJANGO_CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
        "NGINX_TRUSTED_PROXIES": "127.0.0.1", "TTS_THROTTLE_ANON": "3/min", "NGINX_TTS_RATE": "2r/s",
        "NGINX_TTS_BURST": "3"})
    yield s
    s.stop()


def _probe_commands() -> dict[str, list[str]]:
    """The health checks exactly as docker-compose.yml and the Dockerfile state them."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    dockerfile = (ROOT / "Dockerfile").read_text()
    docker_cmd = json.loads(re.search(r"^\s*CMD (\[.*\])\s*$", dockerfile.split("HEALTHCHECK", 1)[1],
                                      flags=re.M).group(1))
    return {"compose": compose["services"]["api"]["healthcheck"]["test"][1:], "dockerfile": docker_cmd}


@pytest.mark.parametrize("where", ["compose", "dockerfile"])
def test_container_probe_passes_under_production_settings(prod, where):
    command = _probe_commands()[where]
    assert command[0] == "python"
    done = subprocess.run([sys.executable, *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=30,
                          env={**prod.env, "GUNICORN_BIND": f"0.0.0.0:{prod.api_port}"})
    assert done.returncode == 0, done.stderr


def test_host_checking_and_https_redirect_still_hold_for_real_traffic(prod):
    # Through nginx (forwarded): a host that is not allowed is refused, plain HTTP is sent to HTTPS.
    assert http("GET", f"{prod.url}/api/health/", headers={"Host": "evil.example"})[0] == 400
    status, headers, _, _ = http("GET", f"{prod.url}/api/health/", headers={"Host": HOST})
    assert status == 301 and headers["Location"] == f"https://{HOST}/api/health/"
    # Straight to Gunicorn, but with proxy headers (not the local probe): the same rules.
    direct = f"http://127.0.0.1:{prod.api_port}"
    assert http("GET", f"{direct}/api/health/", headers={"Host": "evil.example",
                                                          "X-Forwarded-For": "198.51.100.9"})[0] == 400


def test_behind_a_tls_load_balancer_no_redirect_loop_and_https_links(prod):
    status, headers, body, raw = http("GET", f"{prod.url}/api/health/", headers={**LB, "X-Forwarded-For": "203.0.113.5"})
    assert status == 200 and json.loads(body) == {"status": "ok"}
    assert "max-age=" in headers["Strict-Transport-Security"]
    status, _, record, _ = post_json(f"{prod.url}/api/tts/", {"text": "Behind the balancer."},
                                     {**LB, "X-Forwarded-For": "203.0.113.5"})
    assert status == 201, record
    assert record["audio_url"].startswith(f"https://{HOST}/api/tts/{record['uuid']}/audio/")


def test_an_untrusted_client_cannot_claim_https_or_another_address(prod):
    untrusted = prod.another_nginx(NGINX_TRUSTED_PROXIES="")
    status, headers, _, _ = http("GET", f"{untrusted}/api/health/", headers={**LB, "X-Forwarded-For": "203.0.113.6"})
    assert status == 301  # its X-Forwarded-Proto is ignored: it spoke plain HTTP
    with_https = prod.another_nginx(NGINX_TRUSTED_PROXIES="10.255.255.1")  # trusts someone else only
    assert http("GET", f"{with_https}/api/health/", headers={**LB})[0] == 301


def test_throttles_key_the_real_client_behind_the_balancer(prod):
    def synth(client: str) -> tuple[int, str]:
        status, _, body, _ = post_json(f"{prod.url}/api/tts/", {"text": ""}, {**LB, "X-Forwarded-For": client})
        return status, body["error"]["message"]

    import time

    time.sleep(2)  # nginx's bucket (2 r/s, burst 3) refills after the previous tests
    first = [synth("198.51.100.1") for _ in range(4)]
    # Django's anonymous rate (3/min) counts this client alone: three reach validation (400), the fourth is throttled
    assert [s for s, _ in first] == [400, 400, 400, 429] and "throttled" in first[3][1].lower()
    time.sleep(2)
    assert synth("198.51.100.2")[0] == 400  # another client behind the same balancer: its own count
    # A client that sends its own X-Forwarded-For gets it prepended to by the balancer; the real_ip module takes
    # the address the balancer saw, so made-up addresses do not buy new quota.
    time.sleep(2)
    spoofed = [synth(f"10.0.0.{n}, 198.51.100.5")[0] for n in range(4)]
    assert spoofed == [400, 400, 400, 429]
    # nginx's limit_req (2 r/s, burst 3) keys the real client too: one client's burst is cut, the next is not.
    time.sleep(2)
    burst = [synth("198.51.100.6") for _ in range(8)]
    assert sum(message == "too many requests, slow down" for _, message in burst) >= 3
    assert synth("198.51.100.7")[0] == 400
