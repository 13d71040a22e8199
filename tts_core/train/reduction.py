"""Carry a trained Tacotron2 over to another number of frames per decoder step (reduction factor r).

Only two tensors depend on r: the prenet's first layer, which reads the previous step's r frames, and the linear
projection, which writes the next r frames; everything else (embedding, encoder, attention, LSTMs, gate, postnet)
is reused as it is. This is the warm start behind "gradual training" (a large r first for fast alignment, a
smaller r later for finer frames), so a smaller-r voice need not be trained from nothing.

Both tensors are frame-major: frame i of a step occupies entries ``[i * n_mel, (i + 1) * n_mel)``.
"""
from __future__ import annotations

import torch

PRENET_KEY = "decoder.prenet.layers.0.linear_layer.weight"
PROJECTION_KEYS = ("decoder.linear_projection.linear_layer.weight", "decoder.linear_projection.linear_layer.bias")


def _frames(t: torch.Tensor, n_mel: int, dim: int) -> list[torch.Tensor]:
    return list(torch.split(t, n_mel, dim=dim))


def change_reduction_factor(state_dict: dict[str, torch.Tensor], n_mel: int, old_r: int,
                            new_r: int) -> dict[str, torch.Tensor]:
    """A copy of ``state_dict`` for ``new_r`` frames per step, starting from weights trained with ``old_r``.

    Projection: step frame i keeps old frame i's rows; with a larger r the extra frames repeat the last one.
    Prenet: the new step input's frames line up with the most recent old input frames. With a smaller r the
    older frames the prenet no longer sees are approximated by the oldest frame it does see (neighbouring
    frames are alike), so their weights are added onto it and the prenet's activations keep their scale;
    with a larger r the extra (older) input frames start with zero weight.
    """
    if old_r < 1 or new_r < 1:
        raise ValueError("frames per step must be at least 1")
    out = dict(state_dict)
    if new_r == old_r:
        return out
    prenet = state_dict[PRENET_KEY]
    if prenet.size(1) != n_mel * old_r:
        raise ValueError(f"prenet input is {prenet.size(1)} wide, not {n_mel} x {old_r}")
    old_in = _frames(prenet, n_mel, 1)
    if new_r < old_r:
        kept = old_in[old_r - new_r:]
        kept[0] = sum(old_in[: old_r - new_r + 1])
        out[PRENET_KEY] = torch.cat(kept, 1)
    else:
        out[PRENET_KEY] = torch.cat([torch.zeros_like(old_in[0])] * (new_r - old_r) + old_in, 1)
    for key in PROJECTION_KEYS:
        rows = _frames(state_dict[key], n_mel, 0)
        rows = rows[:new_r] + [rows[-1]] * max(0, new_r - old_r)
        out[key] = torch.cat(rows, 0).clone()
    return out
