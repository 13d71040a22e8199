"""What this machine's CPU and PyTorch can do, read once: the facts the precision policy (:mod:`.precision`) and
training's ``bf16: "auto"`` decide on."""
from __future__ import annotations

import functools

import torch


@functools.lru_cache(maxsize=1)
def cpu_info() -> tuple[str, frozenset[str]]:
    """(model name, feature flags) of this CPU from /proc/cpuinfo; ("", empty) where it cannot be read."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as f:
            text = f.read()
    except OSError:
        return "", frozenset()
    first_cpu = text.split("\n\n", 1)[0]
    fields = dict(line.split(":", 1) for line in first_cpu.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    return fields.get("model name", ""), frozenset(fields.get("flags", "").split())


def cpu_label() -> str:
    """The CPU's model, marked where it has AMX, for benchmark reports (the development machines differ)."""
    name, flags = cpu_info()
    return (name or "unknown CPU") + (" (AMX)" if "amx_bf16" in flags else "")


def cpu_has_bf16() -> bool:
    """True when this CPU runs bf16 matrix products natively (AVX512-BF16 or AMX), so bf16 is a speed-up."""
    return bool(cpu_info()[1] & {"avx512_bf16", "amx_bf16"})


def cpu_has_amx() -> bool:
    return "amx_bf16" in cpu_info()[1]


def cpu_has_vnni() -> bool:
    """True when this CPU has int8 dot-product instructions (AVX512-VNNI, AVX-VNNI or AMX-INT8): the int8 GEMMs of
    the ``int8`` WaveGlow run several times faster than float32 there."""
    return bool(cpu_info()[1] & {"avx512_vnni", "avx_vnni", "amx_int8"})


def int8_gemm_available() -> bool:
    """True when this PyTorch has oneDNN's quantized linear (u8 x s8 -> float32), which the ``int8`` WaveGlow uses."""
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.onednn, "qlinear_pointwise")


def int8_matmul_available() -> bool:
    """True when this PyTorch has the weight-only int8 matrix product the ``int8`` decoder uses."""
    return hasattr(torch, "_weight_int8pack_mm")
