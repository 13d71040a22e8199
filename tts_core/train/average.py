"""Average the weights of several checkpoints of one training run (checkpoint averaging).

``python -m tts_core.train.average --out checkpoints/avg.pt checkpoints/run/checkpoint_16000.pt ...``

The mean of the last few checkpoints of a run sits nearer the centre of the minimum that the optimizer is circling
than any single one of them, which usually lowers validation loss at no training cost (Polyak averaging; the
standard last step in NMT and ESPnet recipes). The result is a training-format checkpoint without optimizer
state: :mod:`.export` and the loaders read it, training does not resume from it.
"""
from __future__ import annotations

import argparse
import pathlib
from typing import Any

import torch

from ..checkpoints import read_training_checkpoint, write_tacotron2
from ..models import Tacotron2
from ..models.config import Tacotron2Config


def average_state_dicts(state_dicts: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Element-wise mean of float tensors (in float64, cast back); integer buffers (BatchNorm's batch counter)
    come from the last one. All must have the same keys and shapes."""
    if not state_dicts:
        raise ValueError("nothing to average")
    keys = set(state_dicts[0])
    out: dict[str, torch.Tensor] = {}
    for i, sd in enumerate(state_dicts[1:], 1):
        if set(sd) != keys:
            raise ValueError(f"checkpoint {i} has other parameters than checkpoint 0")
    for key, first in state_dicts[0].items():
        tensors = [sd[key] for sd in state_dicts]
        if any(t.shape != first.shape for t in tensors):
            raise ValueError(f"{key}: shapes differ between checkpoints")
        if first.is_floating_point():
            out[key] = torch.stack([t.double() for t in tensors]).mean(0).to(first.dtype)
        else:
            out[key] = tensors[-1].clone()
    return out


def average_checkpoints(paths: list[pathlib.Path], out: pathlib.Path) -> dict[str, Any]:
    """Write the average of ``paths`` (training or exported checkpoints of one network) to ``out``; the metadata
    (config, audio, text front end, iteration) is the last one's. Returns the written checkpoint as read back."""
    ckpts = [read_training_checkpoint(p) for p in paths]
    for path, ckpt in zip(paths, ckpts):
        if ckpt["config"] != ckpts[0]["config"]:
            raise ValueError(f"{path} has another model configuration than {paths[0]}")
    state = average_state_dicts([c["state_dict"] for c in ckpts])
    Tacotron2(Tacotron2Config.from_dict(ckpts[-1]["config"])).load_state_dict(
        {k: v.float() if v.is_floating_point() else v for k, v in state.items()})  # fails loudly on a mismatch
    last = ckpts[-1]
    iterations = [c.get("iteration") for c in ckpts]
    write_tacotron2(out, state_dict=state, config=last["config"], audio_config=last["audio_config"],
                    text_frontend=last["text_frontend"], iteration=last.get("iteration"),
                    averaged_iterations=iterations)
    return read_training_checkpoint(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", type=pathlib.Path, nargs="+")
    parser.add_argument("--out", type=pathlib.Path, required=True)
    args = parser.parse_args(argv)
    payload = average_checkpoints(args.checkpoints, args.out)
    print(f"wrote {args.out}: mean of iterations {payload['averaged_iterations']}")


if __name__ == "__main__":
    main()
