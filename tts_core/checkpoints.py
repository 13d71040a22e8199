"""Load every published Tacotron2 / WaveGlow checkpoint format into our modules, safely; write our own format.

The one place that reads and writes checkpoint files: :func:`write_tacotron2` writes this package's format
(training, averaged and exported checkpoints alike: atomic, with a format version and an optional model card).

Formats detected automatically:

* NVIDIA/tacotron2: ``{'state_dict', 'iteration', 'optimizer', 'learning_rate'}``;
* DeepLearningExamples / NGC / torch.hub: ``{'state_dict', 'config', ...}`` with ``module.`` or ``module.1.``
  key prefixes;
* WaveGlow state dicts in weight-norm form (``weight_g`` / ``weight_v``) or with weight norm removed;
* NVIDIA/waveglow files that pickle a whole ``glow.WaveGlow`` (or ``glow_old.WaveGlow``) object, including
  NVIDIA/waveglow's fused ``cond_layer`` and glow_old's ``res_layers`` / ``skip_layers``;
* our own training checkpoints (which carry ``text_frontend`` and ``audio_config``).

Pickled objects are read by a restricted unpickler: the known ``glow`` classes become inert stand-ins, a short list
of torch/collections globals is allowed, and anything else is refused, so no code in the file runs and no ``glow``
module is needed. Model sizes are inferred from the tensors (DLE does not store them reliably).
"""
from __future__ import annotations

import collections
import copyreg
import dataclasses
import pathlib
import pickle
import re
import types
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import torch
from torch.nn.utils.weight_norm import WeightNorm as _WeightNormHook

from .errors import CheckpointError
from .models import AudioConfig, Tacotron2, Tacotron2Config, WaveGlow, WaveGlowConfig
from .models.waveglow import fold_weight_norm


# ------------------------------------------------------------------------------------------ restricted unpickler
class _PickledObject(torch.nn.Module):
    """Inert stand-in for a pickled class such as ``glow.WaveGlow``: only its attributes are restored."""

    _origin = ""

    def __setstate__(self, state: dict[str, Any]) -> None:  # never run foreign code, just keep the data
        self.__dict__.update(state)

    def forward(self, *args: Any) -> None:  # pragma: no cover - never called
        raise RuntimeError("stand-in module")


_STAND_INS: dict[str, type] = {}
_GLOW_MODULES = {"glow", "glow_old", "__main__", "waveglow.model", "model"}
_GLOW_CLASSES = {"WaveGlow", "WN", "Invertible1x1Conv", "WaveGlowLoss"}


def _stand_in(module: str, name: str) -> type:
    key = f"{module}.{name}"
    if key not in _STAND_INS:
        _STAND_INS[key] = type(f"Pickled_{name}", (_PickledObject,), {"_origin": key})
    return _STAND_INS[key]


def _ignored(*args: Any, **kwargs: Any) -> None:
    return None


def _allowed_globals() -> dict[str, Any]:
    allowed: dict[str, Any] = {
        "collections.OrderedDict": collections.OrderedDict,
        "copyreg._reconstructor": copyreg._reconstructor,
        "builtins.object": object,
        "builtins.set": set,
        "builtins.slice": slice,
        "torch._utils._rebuild_tensor": torch._utils._rebuild_tensor,
        "torch._utils._rebuild_tensor_v2": torch._utils._rebuild_tensor_v2,
        "torch._utils._rebuild_parameter": torch._utils._rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": torch._utils._rebuild_parameter_with_state,
        "torch.nn.parameter.Parameter": torch.nn.Parameter,
        "torch.Size": torch.Size,
        "torch.device": torch.device,
        "torch.nn.modules.conv.Conv1d": torch.nn.Conv1d,
        "torch.nn.modules.conv.ConvTranspose1d": torch.nn.ConvTranspose1d,
        "torch.nn.modules.container.ModuleList": torch.nn.ModuleList,
        "torch.nn.utils.weight_norm.WeightNorm": _WeightNormHook,
        # Files written by torch < 1.0 reference the removed THNN backend; it carried no data.
        "torch.nn.backends.thnn._get_thnn_function_backend": _ignored,
    }
    for dtype in ("float32", "float16", "bfloat16", "float64", "int64", "int32", "uint8", "bool"):
        allowed[f"torch.{dtype}"] = getattr(torch, dtype)
    return allowed


_ALLOWED = _allowed_globals()


class RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == "__builtin__":  # protocol-2 pickles spell Python 3's builtins this way
            module = "builtins"
        if name in _GLOW_CLASSES and module in _GLOW_MODULES:
            return _stand_in(module, name)
        key = f"{module}.{name}"
        if key in _ALLOWED:
            return _ALLOWED[key]
        raise pickle.UnpicklingError(f"checkpoint refers to '{key}', which is not allowed to load")


def _restricted_load(file: BinaryIO, **kwargs: Any) -> Any:
    return RestrictedUnpickler(file, **kwargs).load()


# torch.load(pickle_module=...) needs a module-like object with Unpickler and load.
restricted_pickle = types.SimpleNamespace(Unpickler=RestrictedUnpickler, load=_restricted_load,
                                          __name__="tts_core.restricted_pickle")


def read_checkpoint(path: str | pathlib.Path, device: str | torch.device = "cpu") -> Any:
    """torch.load with map_location, trying the safe weights-only loader first, then the restricted unpickler."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError:
        pass
    except Exception as exc:  # corrupt zip, truncated file, not a torch file at all
        if "weights_only" not in str(exc) and "Unsupported global" not in str(exc):
            raise CheckpointError(f"{path} is not a readable PyTorch checkpoint: {exc}") from exc
    try:
        return torch.load(path, map_location=device, weights_only=False, pickle_module=restricted_pickle)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(f"{path}: {exc}") from exc
    except Exception as exc:
        raise CheckpointError(f"{path} is not a readable PyTorch checkpoint: {exc}") from exc


# ------------------------------------------------------------------------------------------ state dict helpers
def _flatten_module(obj: Any, prefix: str = "") -> dict[str, torch.Tensor]:
    """State dict of an unpickled module object, read from its attribute dicts (works for stand-ins too)."""
    out: dict[str, torch.Tensor] = {}
    attrs = obj.__dict__
    for store in ("_parameters", "_buffers"):
        for name, value in (attrs.get(store) or {}).items():
            if isinstance(value, torch.Tensor):
                out[prefix + name] = value.detach()
    for name, child in (attrs.get("_modules") or {}).items():
        if child is not None:
            out.update(_flatten_module(child, f"{prefix}{name}."))
    return out


_PREFIX = re.compile(r"^(module\.(?:\d+\.)?)+")


def strip_prefixes(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Remove distributed-training prefixes (``module.``, ``module.1.``) shared by every key."""
    return {_PREFIX.sub("", k): v for k, v in state_dict.items()}


def _extract(ckpt: Any) -> tuple[dict[str, torch.Tensor], dict[str, Any], str]:
    """-> (state dict, metadata dict, origin of a pickled model object or '')."""
    if isinstance(ckpt, torch.nn.Module):
        return _flatten_module(ckpt), {}, getattr(ckpt, "_origin", "")
    if not isinstance(ckpt, dict):
        raise CheckpointError(f"unrecognised checkpoint content: {type(ckpt).__name__}")
    if "state_dict" in ckpt and isinstance(ckpt["state_dict"], dict):
        return dict(ckpt["state_dict"]), ckpt, ""
    if "model" in ckpt and isinstance(ckpt["model"], torch.nn.Module):
        return _flatten_module(ckpt["model"]), ckpt, getattr(ckpt["model"], "_origin", "")
    if ckpt and all(isinstance(v, torch.Tensor) for v in ckpt.values()):
        return dict(ckpt), {}, ""
    raise CheckpointError(f"no state_dict or model in checkpoint (keys: {sorted(ckpt)[:10]})")


def _load_strict(model: torch.nn.Module, state_dict: dict[str, torch.Tensor], what: str) -> None:
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state_dict) if expected[k].shape != state_dict[k].shape)
    if missing or unexpected or wrong:
        def show(keys: list[str]) -> str:
            return ", ".join(keys[:8]) + (f" (+{len(keys) - 8} more)" if len(keys) > 8 else "")

        parts = []
        if missing:
            parts.append(f"missing keys: {show(missing)}")
        if unexpected:
            parts.append(f"unexpected keys: {show(unexpected)}")
        if wrong:
            parts.append("shape mismatch: " + show(
                [f"{k} {tuple(state_dict[k].shape)} vs {tuple(expected[k].shape)}" for k in wrong]))
        raise CheckpointError(f"{what} checkpoint does not fit the model; " + "; ".join(parts))
    model.load_state_dict(state_dict, strict=True)


def _need(sd: dict[str, torch.Tensor], key: str, what: str) -> torch.Tensor:
    if key not in sd:
        raise CheckpointError(f"not a {what} checkpoint: missing key '{key}'")
    return sd[key]


def _count(sd: dict[str, torch.Tensor], pattern: str) -> int:
    rx = re.compile(pattern)
    return len({m.group(1) for k in sd if (m := rx.match(k))})


# ------------------------------------------------------------------------------------------ Tacotron2
@dataclass
class LoadedTacotron2:
    model: Tacotron2
    text_frontend: str = "characters"  # or "arpabet" (dictionary words as phonemes)
    audio_config: AudioConfig = field(default_factory=AudioConfig)
    metadata: dict[str, Any] = field(default_factory=dict)


def infer_tacotron2_config(sd: dict[str, torch.Tensor], stored: dict[str, Any] | None = None) -> Tacotron2Config:
    """Sizes from tensor shapes; behavioural options (max steps, gate threshold, dropout) from a stored config."""
    emb = _need(sd, "embedding.weight", "Tacotron2")
    enc_conv = _need(sd, "encoder.convolutions.0.0.conv.weight", "Tacotron2")
    prenet = _need(sd, "decoder.prenet.layers.0.linear_layer.weight", "Tacotron2")
    post0 = _need(sd, "postnet.convolutions.0.0.conv.weight", "Tacotron2")
    loc = _need(sd, "decoder.attention_layer.location_layer.location_conv.conv.weight", "Tacotron2")
    n_mel = post0.shape[1]
    sizes = dict(
        n_symbols=emb.shape[0], symbols_embedding_dim=emb.shape[1],
        encoder_embedding_dim=enc_conv.shape[0], encoder_kernel_size=enc_conv.shape[2],
        encoder_n_convolutions=_count(sd, r"encoder\.convolutions\.(\d+)\."),
        n_mel_channels=n_mel, n_frames_per_step=prenet.shape[1] // n_mel, prenet_dim=prenet.shape[0],
        attention_rnn_dim=_need(sd, "decoder.attention_rnn.weight_hh", "Tacotron2").shape[1],
        decoder_rnn_dim=_need(sd, "decoder.decoder_rnn.weight_hh", "Tacotron2").shape[1],
        attention_dim=_need(sd, "decoder.attention_layer.query_layer.linear_layer.weight", "Tacotron2").shape[0],
        attention_location_n_filters=loc.shape[0], attention_location_kernel_size=loc.shape[2],
        postnet_embedding_dim=post0.shape[0], postnet_kernel_size=post0.shape[2],
        postnet_n_convolutions=_count(sd, r"postnet\.convolutions\.(\d+)\."),
    )
    base = Tacotron2Config.from_dict(stored or {})
    return dataclasses.replace(base, **sizes)


def read_tacotron2(path: str | pathlib.Path, device: str | torch.device = "cpu") -> LoadedTacotron2:
    ckpt = read_checkpoint(path, device)
    sd, meta, _ = _extract(ckpt)
    sd = strip_prefixes(sd)
    stored = meta.get("config") if isinstance(meta.get("config"), dict) else None
    cfg = infer_tacotron2_config(sd, stored)
    model = Tacotron2(cfg)
    _load_strict(model, {k: v.float() if v.is_floating_point() else v for k, v in sd.items()}, "Tacotron2")
    model.to(device).eval()
    audio = AudioConfig(**meta["audio_config"]) if isinstance(meta.get("audio_config"), dict) else AudioConfig()
    frontend = meta.get("text_frontend", "characters")
    info = {k: v for k, v in meta.items() if k in ("iteration", "model_card", "voice", "format")}
    return LoadedTacotron2(model, frontend, audio, info)


def load_tacotron2(path: str | pathlib.Path, device: str | torch.device = "cpu") -> Tacotron2:
    """Any supported Tacotron2 checkpoint -> eval-mode :class:`Tacotron2` on ``device``."""
    return read_tacotron2(path, device).model


# ------------------------------------------------------------------------------------------ our own format
TACOTRON2_FORMAT = "tts_core.tacotron2/1"


def write_tacotron2(path: str | pathlib.Path, *, state_dict: dict[str, torch.Tensor],
                    config: Tacotron2Config | dict[str, Any], audio_config: AudioConfig | dict[str, Any],
                    text_frontend: str, iteration: int | None, half: bool = False,
                    model_card: str | None = None, **extra: Any) -> int:
    """Atomically write a Tacotron2 checkpoint in this package's format (training, averaged or exported), which
    :func:`read_tacotron2` and :func:`read_training_checkpoint` read; returns its size in bytes.

    ``half`` stores float weights as float16 (an exported voice: half the size; the loader restores float32).
    ``extra``: further entries, e.g. ``optimizer`` and ``train_config`` (training) or ``voice`` (export).
    """
    if half:
        state_dict = {k: (v.half() if v.is_floating_point() else v) for k, v in state_dict.items()}
    payload: dict[str, Any] = {
        "format": TACOTRON2_FORMAT,
        "state_dict": state_dict,
        "config": config.to_dict() if isinstance(config, Tacotron2Config) else dict(config),
        "audio_config": dataclasses.asdict(audio_config) if isinstance(audio_config, AudioConfig)
        else dict(audio_config),
        "text_frontend": text_frontend,
        "iteration": iteration,
    }
    if model_card is not None:
        payload["model_card"] = model_card
    payload.update(extra)
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)  # a reader never sees a half-written file
    return path.stat().st_size


def read_training_checkpoint(path: str | pathlib.Path, device: str | torch.device = "cpu") -> dict[str, Any]:
    """A checkpoint of this package's format as its dict (state dict, config, audio config, text front end,
    iteration and, from training, the optimizer state), read with the same safe loader as every checkpoint."""
    ckpt = read_checkpoint(path, device)
    needed = ("state_dict", "config", "audio_config", "text_frontend")
    if not isinstance(ckpt, dict) or any(key not in ckpt for key in needed):
        raise CheckpointError(f"{path} is not a tts_core Tacotron2 checkpoint")
    return ckpt


# ------------------------------------------------------------------------------------------ WaveGlow
def convert_waveglow_layout(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """NVIDIA/waveglow's fused ``cond_layer`` and glow_old's ``res_layers``/``skip_layers`` -> DLE layout."""
    sd = dict(sd)
    flows = sorted({int(m.group(1)) for k in sd if (m := re.match(r"WN\.(\d+)\.", k))})
    for k in flows:
        p = f"WN.{k}."
        n_layers = _count(sd, re.escape(p) + r"in_layers\.(\d+)\.")
        if p + "cond_layer.weight" in sd:
            w = sd.pop(p + "cond_layer.weight")
            b = sd.pop(p + "cond_layer.bias")
            for i, (wi, bi) in enumerate(zip(w.chunk(n_layers, 0), b.chunk(n_layers, 0))):
                sd[f"{p}cond_layers.{i}.weight"] = wi.contiguous()
                sd[f"{p}cond_layers.{i}.bias"] = bi.contiguous()
        if p + "skip_layers.0.weight" in sd:
            for i in range(n_layers):
                skip_w, skip_b = sd.pop(f"{p}skip_layers.{i}.weight"), sd.pop(f"{p}skip_layers.{i}.bias")
                if i < n_layers - 1:
                    res_w, res_b = sd.pop(f"{p}res_layers.{i}.weight"), sd.pop(f"{p}res_layers.{i}.bias")
                    skip_w, skip_b = torch.cat([res_w, skip_w]), torch.cat([res_b, skip_b])
                sd[f"{p}res_skip_layers.{i}.weight"] = skip_w
                sd[f"{p}res_skip_layers.{i}.bias"] = skip_b
    return sd


def infer_waveglow_config(sd: dict[str, torch.Tensor], alternate_halves: bool = False) -> WaveGlowConfig:
    up = _need(sd, "upsample.weight", "WaveGlow")
    start = _need(sd, "WN.0.start.weight", "WaveGlow")
    in0 = _need(sd, "WN.0.in_layers.0.weight", "WaveGlow")
    n_flows = _count(sd, r"WN\.(\d+)\.")
    sizes = [_need(sd, f"convinv.{k}.conv.weight", "WaveGlow").shape[0] for k in range(n_flows)]
    drops = [k for k in range(1, n_flows) if sizes[k] < sizes[k - 1]]
    early_every = drops[0] if drops else n_flows
    early_size = sizes[drops[0] - 1] - sizes[drops[0]] if drops else 2
    return WaveGlowConfig(n_mel_channels=up.shape[0], n_flows=n_flows, n_group=sizes[0],
                          n_early_every=early_every, n_early_size=early_size,
                          wn_n_layers=_count(sd, r"WN\.0\.in_layers\.(\d+)\."), wn_n_channels=start.shape[0],
                          wn_kernel_size=in0.shape[2], upsample_kernel=up.shape[2],
                          upsample_stride=up.shape[2] // 4, alternate_halves=alternate_halves)


def load_waveglow(path: str | pathlib.Path, device: str | torch.device = "cpu") -> WaveGlow:
    """Any supported WaveGlow checkpoint -> eval-mode :class:`WaveGlow` with weight norm removed."""
    ckpt = read_checkpoint(path, device)
    sd, _, origin = _extract(ckpt)
    # float32 before folding: folding keeps each tensor's dtype, and a float16 file (NGC's AMP checkpoint) would
    # otherwise get its folded weights rounded to float16 a second time.
    sd = {k: v.float() if v.is_floating_point() else v for k, v in strip_prefixes(sd).items()}
    sd = convert_waveglow_layout(fold_weight_norm(sd))
    cfg = infer_waveglow_config(sd, alternate_halves=origin.startswith("glow_old."))
    model = WaveGlow(cfg, weight_norm=False)
    _load_strict(model, {k: v.float() for k, v in sd.items()}, "WaveGlow")
    return model.to(device).eval()
