"""The precision policy, in one place: what each precision means, which one ``auto`` picks on a device, and how
the models are prepared for it. The handler, the benchmark and training all ask here, so the benchmark measures
exactly the paths the service serves.

| precision | Tacotron2 | WaveGlow | where |
| --- | --- | --- | --- |
| ``eager`` | the reference modules untouched | reference | anywhere |
| ``fp32`` | fused LSTM cells, traced steps: the eager numbers to rounding | reference | anywhere |
| ``bf16`` | bf16 LSTM weights | WN as bf16 GEMMs (:class:`~.models.fast.GemmWN`) | CPU with AVX512-BF16/AMX |
| ``int8`` | per-row int8 LSTM weights (bf16 activations) | WN as int8 GEMMs (``Int8WN``) | CPU (fast with VNNI) |
| ``fp16`` | CUDA autocast | WN in float16, invertible convolutions in float32 | CUDA |

``auto``: ``fp16`` on CUDA; on CPU ``int8`` where the CPU has int8 dot products (VNNI, AMX-INT8) or native bf16,
else ``fp32``. Measured side by side on a CPU with VNNI and no bf16 (Ice Lake): ``int8`` is the fastest there
(README, "Performance"); on one with both (Zen 4) int8 GEMMs measured about 1.8x bf16 GEMMs in an ad-hoc check.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
from dataclasses import dataclass
from typing import Iterator

import torch

from .config import PRECISIONS
from .errors import PrecisionError
from .hardware import cpu_has_bf16, cpu_has_vnni, int8_gemm_available, int8_matmul_available
from .models import Tacotron2, WaveGlow
from .models.fast import fast_tacotron2, fast_waveglow
from .models.graphed import graphed_tacotron2

_DECODER_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "int8": torch.int8}


def resolve_precision(requested: str, device: torch.device | str) -> str:
    """The concrete precision (never ``auto``) that ``requested`` means on ``device``; raises PrecisionError."""
    device = torch.device(device)
    if requested not in PRECISIONS:
        raise PrecisionError(f"unknown precision '{requested}'; choose one of {', '.join(PRECISIONS)}")
    if requested == "auto":
        if device.type == "cuda":
            return "fp16"
        # Without native bf16, int8 pays only with the int8 WaveGlow (its bf16 fallback would be emulated).
        if int8_matmul_available() and (cpu_has_bf16() or (cpu_has_vnni() and int8_gemm_available())):
            return "int8"
        return "bf16" if cpu_has_bf16() else "fp32"
    if requested == "fp16" and device.type != "cuda":
        raise PrecisionError("precision fp16 needs CUDA; use bf16 or fp32 on CPU")
    if requested == "int8" and (device.type != "cpu" or not int8_matmul_available()):
        raise PrecisionError("precision int8 is a CPU path of this PyTorch; use fp16 on CUDA")
    return requested


@dataclass(frozen=True)
class PreparedModels:
    """The models as they run in one precision; :meth:`context` wraps every call into them."""

    precision: str
    tacotron2: Tacotron2
    waveglow: WaveGlow | None
    device: torch.device
    kernels: dict[str, str] = dataclasses.field(default_factory=dict)  # what runs each part (benchmark reports)

    @contextlib.contextmanager
    def context(self) -> Iterator[None]:
        """Inference mode, and CUDA autocast for ``fp16``."""
        with torch.inference_mode():
            if self.precision == "fp16":
                with torch.autocast("cuda", dtype=torch.float16):
                    yield
            else:
                yield


def prepare_models(tacotron2: Tacotron2, waveglow: WaveGlow | None, precision: str,
                   device: torch.device | str, owned: bool = False, cuda_graphs: bool = False) -> PreparedModels:
    """Resolve ``precision`` on ``device`` and return the models that run it.

    The given models' weights are never changed (they may be shared, e.g. the benchmark's eager reference), except
    with ``owned``: then the caller hands its WaveGlow over, and ``fp16`` converts it in place rather than keep a
    second copy on the GPU. Only WaveGlow's cached inverse convolutions are filled in. Files are never touched.
    ``cuda_graphs``: on CUDA, the decoder's steps replay captured graphs (ignored elsewhere)."""
    device = torch.device(device)
    precision = resolve_precision(precision, device)
    if precision in _DECODER_DTYPES:
        tacotron2 = fast_tacotron2(tacotron2, _DECODER_DTYPES[precision])
    graphs = cuda_graphs and device.type == "cuda"
    if graphs:
        tacotron2 = graphed_tacotron2(tacotron2)
    wn = "float32 convolutions"
    if waveglow is not None and precision == "int8" and int8_gemm_available():
        waveglow, wn = fast_waveglow(waveglow, torch.int8), "int8 GEMMs (oneDNN u8 x s8, fused dequantization)"
    elif waveglow is not None and precision in ("bf16", "int8"):
        waveglow, wn = fast_waveglow(waveglow, torch.bfloat16), "bf16 GEMMs"
    elif waveglow is not None and precision == "fp16":
        waveglow = (waveglow if owned else copy.deepcopy(waveglow)).set_wn_dtype(torch.float16)  # cuDNN in fp16
        wn = "float16 convolutions"
    if waveglow is not None:
        for conv in waveglow.convinv:
            conv.inverse_weight()  # computed once now, not inside the first request
    cells = {"eager": "nn.LSTMCell (reference)", "fp32": "fused float32 cells, traced steps",
             "bf16": "fused bf16-weight cells, traced steps",
             "int8": "fused int8-weight cells (torch._weight_int8pack_mm, bf16 activations), traced steps",
             "fp16": "CUDA autocast float16"}[precision]
    if graphs:
        cells += ", steps replayed from CUDA graphs"
    kernels = {"tacotron2_decoder": cells, "waveglow_wn": wn if waveglow is not None else "none"}
    return PreparedModels(precision, tacotron2, waveglow, device, kernels)


def training_uses_bf16(setting: bool | str) -> bool:
    """Training's ``bf16`` option: true, false, or ``"auto"`` (on where the CPU has native bf16; elsewhere bf16 is
    emulated and a step is slower than in fp32)."""
    if setting == "auto":
        return cpu_has_bf16()
    return bool(setting)
