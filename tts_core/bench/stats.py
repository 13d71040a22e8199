"""Timing and memory helpers for the benchmark."""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except OSError:
        return 0


class PeakMemory:
    """Peak extra memory while the block runs: CUDA allocator peak, or sampled resident set size on CPU."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.peak = 0

    def __enter__(self) -> "PeakMemory":
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
            self.base = torch.cuda.memory_allocated(self.device)
        else:
            self.base = rss_bytes()
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes() - self.base)
            time.sleep(0.005)

    def __exit__(self, *exc: object) -> None:
        if self.device.type == "cuda":
            self.peak = torch.cuda.max_memory_allocated(self.device) - self.base
        else:
            self._stop.set()
            self._thread.join()
            self.peak = max(self.peak, rss_bytes() - self.base)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass
class Measurement:
    latencies: list[float] = field(default_factory=list)
    audio_seconds: float = 0.0  # audio produced per run (all utterances of the batch)
    samples: int = 0
    peak_memory_mb: float = 0.0

    def summary(self) -> dict[str, float]:
        lat = np.asarray(self.latencies)
        mean = float(lat.mean())
        return {
            "latency_mean_s": mean,
            "latency_p50_s": float(np.percentile(lat, 50)),
            "latency_p90_s": float(np.percentile(lat, 90)),
            "latency_p95_s": float(np.percentile(lat, 95)),
            "latency_p99_s": float(np.percentile(lat, 99)),
            "real_time_factor": self.audio_seconds / mean if mean else 0.0,
            "samples_per_s": self.samples / mean if mean else 0.0,
            "peak_memory_mb": self.peak_memory_mb,
            "runs": len(self.latencies),
        }


def measure(fn: Callable[[], object], device: torch.device, warmup: int, runs: int) -> tuple[Measurement, object]:
    """Run ``fn`` ``warmup`` times untimed, then ``runs`` times timed; returns timings and the last output."""
    out = None
    for _ in range(warmup):
        out = fn()
    synchronize(device)
    m = Measurement()
    with PeakMemory(device) as mem:
        for _ in range(runs):
            start = time.perf_counter()
            out = fn()
            synchronize(device)
            m.latencies.append(time.perf_counter() - start)
    m.peak_memory_mb = mem.peak / 2**20
    return m, out


def snr_db(reference: torch.Tensor, other: torch.Tensor) -> float:
    reference, other = reference.float().flatten(), other.float().flatten()
    n = min(reference.numel(), other.numel())
    noise = (reference[:n] - other[:n]).pow(2).sum()
    if noise == 0:
        return float("inf")
    return float(10 * torch.log10(reference[:n].pow(2).sum() / noise))
