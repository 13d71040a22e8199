"""/metrics: what Prometheus scrapes grows with the work done (in-process here; the stack test scrapes Gunicorn's
workers in multiprocess mode and checks that nginx refuses it)."""
from __future__ import annotations

import os

import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.django_db(transaction=True)


def scrape(client) -> dict[tuple[str, tuple], float]:
    r = client.get("/metrics")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(r.content.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def total(samples, name: str, **labels) -> float:
    return sum(v for (n, lab), v in samples.items()
               if n == name and all(dict(lab).get(k) == v2 for k, v2 in labels.items()))


def test_two_syntheses_move_the_counters_and_histograms(client):
    before = scrape(client)
    for text in ("The first one.", "And the second one."):
        assert client.post("/api/tts/", {"text": text}, format="json").status_code == 201
    r = client.post("/v1/audio/speech", {"model": "tts-1", "voice": "alloy", "input": "A streamed third."},
                    format="json")
    b"".join(r.streaming_content)
    after = scrape(client)
    grew = {name: total(after, name) - total(before, name) for name in (
        "tts_synthesis_seconds_count", "tts_audio_seconds_total", "tts_characters_total",
        "tts_real_time_factor_count", "tts_time_to_first_audio_seconds_count", "tts_jobs_finished_total")}
    assert grew["tts_synthesis_seconds_count"] == 3 and grew["tts_real_time_factor_count"] == 3
    assert grew["tts_audio_seconds_total"] > 0
    assert grew["tts_characters_total"] == len("The first one.") + len("And the second one.") + len("A streamed third.")
    assert grew["tts_time_to_first_audio_seconds_count"] == 1 and grew["tts_jobs_finished_total"] == 1
    assert total(after, "tts_http_requests_total", endpoint="tts-list", method="POST", status="201") - total(
        before, "tts_http_requests_total", endpoint="tts-list", method="POST", status="201") == 2
    from API import engine

    handler = engine.get_handler()
    assert total(after, "tts_model_loaded", voice=handler.voice, precision=handler.precision,
                 device=str(handler.device)) == 1
    assert total(after, "tts_jobs", status="done") == 3


def test_a_refused_request_is_counted_with_its_status(client):
    before = scrape(client)
    client.post("/api/tts/", {"text": ""}, format="json")
    after = scrape(client)
    assert total(after, "tts_http_requests_total", endpoint="tts-list", status="400") - total(
        before, "tts_http_requests_total", endpoint="tts-list", status="400") == 1


def test_the_grafana_dashboard_queries_only_metrics_we_export():
    import json
    import pathlib
    import re

    from API import metrics

    dashboard = json.loads((pathlib.Path(__file__).parents[2] / "docs/grafana-dashboard.json").read_text())
    used = {m for p in dashboard["panels"] for t in p["targets"] for m in re.findall(r"\btts_[a-z_]+", t["expr"])}
    families = {f.name for metric in vars(metrics).values() if hasattr(metric, "describe") and
                not isinstance(metric, type) for f in metric.describe()} | {"tts_jobs", "tts_queue_depth"}
    series = {f + suffix for f in families for suffix in ("", "_total", "_bucket", "_count", "_sum")}
    assert len(used) >= 8 and used <= series, used - series


def test_a_killed_processs_model_gauge_is_forgotten_and_its_counters_kept(tmp_path):
    """A Celery pool process killed with SIGKILL never says goodbye; the next one to start sweeps its live gauge."""
    import subprocess
    import sys

    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    from API import metrics

    child = ("import os, signal\n"
             "from prometheus_client import Counter, Gauge\n"
             "Gauge('tts_model_loaded', 'x', ['voice'], multiprocess_mode='liveall').labels('v').set(1)\n"
             "Counter('tts_characters', 'x').inc(42)\n"
             "os.kill(os.getpid(), signal.SIGKILL)\n")
    proc = subprocess.run([sys.executable, "-c", child], env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    assert proc.returncode == -9

    def exported() -> str:
        reg = CollectorRegistry()
        MultiProcessCollector(reg, path=str(tmp_path))
        return generate_latest(reg).decode()

    assert f'pid="{proc_pid(tmp_path)}"' in exported()
    assert metrics.forget_dead_processes(str(tmp_path)) == [proc_pid(tmp_path)]
    after = exported()
    assert "tts_model_loaded{" not in after
    assert "tts_characters_total 42.0" in after
    assert metrics.forget_dead_processes(str(tmp_path)) == []


def proc_pid(folder) -> int:
    return int(next(folder.glob("counter_*.db")).stem.rsplit("_", 1)[1])
