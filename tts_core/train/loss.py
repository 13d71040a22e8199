"""Tacotron2 training loss: masked MSE (or L1) before/after the postnet, stop-gate BCE and guided attention."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..models.layers import sequence_mask
from ..models.tacotron2 import TacotronOutput
from .data import Batch


@dataclass
class LossTerms:
    total: torch.Tensor
    mel: torch.Tensor
    postnet: torch.Tensor
    gate: torch.Tensor
    attention: torch.Tensor


def guided_attention_weights(text_lengths: torch.Tensor, step_lengths: torch.Tensor, t_in: int, t_steps: int,
                             g: float = 0.2) -> torch.Tensor:
    """(B, T_steps, T_in) penalty 1 - exp(-(n/N - t/T)^2 / 2g^2), zero outside each utterance (Tachibana et al.)."""
    n = torch.arange(t_in, device=text_lengths.device)[None, None, :] / text_lengths[:, None, None]
    t = torch.arange(t_steps, device=text_lengths.device)[None, :, None] / step_lengths[:, None, None]
    w = 1.0 - torch.exp(-((n - t) ** 2) / (2 * g * g))
    valid = sequence_mask(text_lengths, t_in)[:, None, :] & sequence_mask(step_lengths, t_steps)[:, :, None]
    return w * valid


MEL_LOSSES = ("mse", "l1", "l1+mse")


def tacotron2_loss(out: TacotronOutput, batch: Batch, n_frames_per_step: int, gate_pos_weight: float = 5.0,
                   attention_weight: float = 1.0, attention_g: float = 0.2, mel_loss: str = "mse") -> LossTerms:
    """Masked losses; ``mel_loss`` is NVIDIA's "mse", "l1" (Coqui's default) or their sum (ESPnet's "L1+L2").

    L1 is minimised by the median rather than the mean of what the frames could be, so it should smooth less
    (the demo voice's model card has the one comparison made here: about the same as MSE).
    """
    if mel_loss not in MEL_LOSSES:
        raise ValueError(f"mel_loss must be one of {MEL_LOSSES}, not {mel_loss!r}")
    frames = batch.mels.size(2)
    frame_mask = sequence_mask(batch.mel_lengths, frames)
    mask = frame_mask[:, None, :].expand_as(batch.mels).float()
    denom = mask.sum().clamp(min=1)

    def distance(pred: torch.Tensor) -> torch.Tensor:
        diff = pred - batch.mels
        value = torch.zeros((), device=diff.device)
        if "mse" in mel_loss:
            value = value + ((diff ** 2) * mask).sum() / denom
        if "l1" in mel_loss:
            value = value + (diff.abs() * mask).sum() / denom
        return value

    mel = distance(out.mel_outputs)
    post = distance(out.mel_outputs_postnet)
    r = n_frames_per_step
    step_lengths = (batch.mel_lengths + r - 1) // r
    step_mask = sequence_mask(step_lengths, batch.gates.size(1))
    gate = F.binary_cross_entropy_with_logits(
        out.gate_outputs[step_mask], batch.gates[step_mask],
        pos_weight=torch.tensor(gate_pos_weight, device=batch.gates.device))
    if attention_weight > 0:
        w = guided_attention_weights(batch.text_lengths, step_lengths, out.alignments.size(2),
                                     out.alignments.size(1), attention_g)
        attention = (out.alignments * w).sum() / step_lengths.sum().clamp(min=1)
    else:
        attention = torch.zeros((), device=mel.device)
    total = mel + post + gate + attention_weight * attention
    return LossTerms(total, mel.detach(), post.detach(), gate.detach(), attention.detach())
