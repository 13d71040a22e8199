"""Metrics through the real stack: Gunicorn's two workers in Prometheus multiprocess mode (one scrape adds up both
processes), nginx refusing /metrics to the public, and a Celery worker serving its pool's metrics on its port."""
from __future__ import annotations

import json
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from .conftest import Stack, http, post_json


@pytest.fixture(scope="module")
def stack(tmp_path_factory, checkpoints):
    s = Stack(tmp_path_factory.mktemp("metrics-stack"), checkpoints["quick"], None,
              extra_env={"GUNICORN_WORKERS": "2", "NGINX_TTS_RATE": "100r/s", "NGINX_TTS_BURST": "100",
                         # both workers load their models at start: which worker takes a request is the kernel's
                         # choice, so the model gauge must not depend on it
                         "TTS_LOAD_AT_STARTUP": "1"})
    yield s
    s.stop()


def scrape(url: str) -> dict[str, float]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        text = resp.read().decode()
    sums: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            sums[sample.name] = sums.get(sample.name, 0.0) + sample.value
    return sums


def wait_for_models(url: str, processes: int, timeout: float = 120.0) -> None:
    """The stack is ready once one worker answers; the other may still be loading its models (on 2 busy cores,
    tens of seconds), and a worker that is loading takes no connection."""
    deadline = time.monotonic() + timeout
    while scrape(url).get("tts_model_loaded", 0) < processes:
        assert time.monotonic() < deadline, f"fewer than {processes} processes loaded their models in {timeout} s"
        time.sleep(0.5)


def test_both_workers_syntheses_add_up_in_one_scrape_and_nginx_refuses_metrics(stack):
    direct = f"http://127.0.0.1:{stack.api_port}/metrics"
    wait_for_models(direct, 2)
    before = scrape(direct)
    for i in range(4):  # whichever worker answers, one scrape adds up both
        status, _, _, _ = post_json(f"{stack.url}/api/tts/", {"text": f"Metrics sentence number {i}."})
        assert status == 201
    after = scrape(direct)
    assert after["tts_synthesis_seconds_count"] - before.get("tts_synthesis_seconds_count", 0) == 4
    assert after["tts_audio_seconds_total"] > before.get("tts_audio_seconds_total", 0)
    assert after["tts_http_requests_total"] - before.get("tts_http_requests_total", 0) >= 4
    assert after["tts_model_loaded"] == 2  # one per live worker process
    status, _, body, _ = http("GET", f"{stack.url}/metrics")
    assert status == 403 and json.loads(body)["error"]["code"] == "forbidden"
