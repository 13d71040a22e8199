"""Training configuration: one frozen dataclass, read from a JSON file.

A file may name another with ``"extends": "other.json"`` (relative to itself): it then states only what differs.
Its ``model`` block is merged key by key over the other's; every other key replaces the other's value.
"""
from __future__ import annotations

import dataclasses
import json
import pathlib
from dataclasses import dataclass, field
from typing import Any

from ..models.config import Tacotron2Config


@dataclass(frozen=True)
class TrainConfig:
    features: str = "data/features"
    out_dir: str = "runs/tacotron2"
    backup_dir: str | None = None  # a second copy of the latest checkpoint (survives a wiped work tree)
    model: dict[str, Any] = field(default_factory=dict)  # Tacotron2Config overrides
    batch_size: int = 32
    learning_rate: float = 1e-3
    lr_decay_start: int = 10_000
    lr_half_life: int = 10_000
    min_learning_rate: float = 1e-5
    weight_decay: float = 1e-6
    grad_clip: float = 1.0
    max_steps: int = 20_000
    gate_pos_weight: float = 5.0
    mel_loss: str = "mse"  # "mse" (NVIDIA), "l1" or "l1+mse"; validation always reports the post-net MSE
    guided_attention_weight: float = 1.0
    guided_attention_g: float = 0.2
    guided_attention_until: int | None = None  # switch the guided loss off after this step (None: never)
    eval_every: int = 250
    checkpoint_every: int = 250
    keep_every: int = 2_000  # also keep checkpoint_<step>.pt at these multiples
    griffin_lim_iters: int = 60
    threads: int | None = None
    # CPU autocast to bfloat16: true, false, or "auto" (tts_core.precision.training_uses_bf16 decides).
    bf16: bool | str = False
    seed: int = 1234

    def __post_init__(self) -> None:
        if self.bf16 not in (True, False, "auto"):
            raise ValueError(f'bf16 must be true, false or "auto", not {self.bf16!r}')
        from .loss import MEL_LOSSES

        if self.mel_loss not in MEL_LOSSES:
            raise ValueError(f"mel_loss must be one of {MEL_LOSSES}, not {self.mel_loss!r}")
        # Tacotron2Config.from_dict ignores unknown keys (DLE configs carry training options); in our own
        # recipes a misspelt model option would silently train another network.
        unknown = set(self.model) - {f.name for f in dataclasses.fields(Tacotron2Config)}
        if unknown:
            raise ValueError(f"unknown model options: {sorted(unknown)}")

    def model_config(self) -> Tacotron2Config:
        return Tacotron2Config.from_dict(self.model)

    def learning_rate_at(self, step: int) -> float:
        decay = max(0, step - self.lr_decay_start) / self.lr_half_life
        return max(self.min_learning_rate, self.learning_rate * 0.5 ** decay)

    @classmethod
    def load(cls, path: str | pathlib.Path, **overrides: Any) -> "TrainConfig":
        data = read_config_file(path)
        data.update({k: v for k, v in overrides.items() if v is not None})
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown training options: {sorted(unknown)}")
        return cls(**data)


def read_config_file(path: str | pathlib.Path, _seen: tuple[pathlib.Path, ...] = ()) -> dict[str, Any]:
    """A config file's options with its ``extends`` chain resolved (see the module docstring)."""
    path = pathlib.Path(path).resolve()
    if path in _seen:
        raise ValueError(f"training configs extend each other in a loop: {' -> '.join(p.name for p in _seen)}")
    data = json.loads(path.read_text())
    parent = data.pop("extends", None)
    if parent is None:
        return data
    base = read_config_file(path.parent / parent, (*_seen, path))
    model = {**base.get("model", {}), **data.get("model", {})}
    return {**base, **data, "model": model}
