"""scripts/gpu_check.sh in its CPU dry mode (the same steps as on a lent GPU, tiny models), so it cannot rot."""
from __future__ import annotations

import json
import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_gpu_check_runs_its_steps_and_writes_one_report(tmp_path):
    proc = subprocess.run(["bash", "scripts/gpu_check.sh", "--dry"], cwd=ROOT, env={**os.environ, "OUT": str(tmp_path)},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads((tmp_path / "gpu-check.json").read_text())
    assert report["env"]["torch"] and report["env"]["cuda_available"] is False
    assert "skipped" in report["tests"]["summary"] or "passed" in report["tests"]["summary"]
    components = {(r["component"], r["variant"]) for r in report["bench"]["rows"]}
    assert ("end_to_end", "eager") in components and ("denoiser", "fp32") in components
    batcher = report["dynamic_batcher"]
    assert {(r["concurrency"], r["batched"]) for r in batcher["rows"]} == {(1, False), (1, True), (2, False), (2, True)}
    assert all(r["throughput_audio_s_per_s"] > 0 and r["latency_p99_s"] >= r["latency_p50_s"] > 0
               for r in batcher["rows"])
    table = (tmp_path / "gpu-check.txt").read_text()
    assert "end to end" in table and "real time" in table and "batcher on  2 clients" in table


def test_the_gpu_check_refuses_a_machine_without_cuda():
    proc = subprocess.run(["bash", "scripts/gpu_check.sh"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHON": str(ROOT / ".venv/bin/python"), "OUT": "/tmp/gpu-check-none"})
    assert proc.returncode == 3 and "no CUDA" in proc.stderr
