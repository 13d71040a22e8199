"""Tacotron2 (Shen et al. 2018) with NVIDIA's parameter layout."""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

from .config import Tacotron2Config
from .decoder import Decoder
from .encoder import Encoder
from .layers import sequence_mask
from .postnet import Postnet


class TacotronOutput(NamedTuple):
    mel_outputs: torch.Tensor  # (B, n_mel, T_out) before the postnet
    mel_outputs_postnet: torch.Tensor  # (B, n_mel, T_out)
    gate_outputs: torch.Tensor  # (B, T_out / r) logits
    alignments: torch.Tensor  # (B, T_out / r, T_in)
    mel_lengths: torch.Tensor  # (B,) int32 (inference)
    truncated: torch.Tensor  # (B,) bool (inference)


class Tacotron2(nn.Module):
    def __init__(self, cfg: Tacotron2Config | None = None) -> None:
        super().__init__()
        cfg = cfg or Tacotron2Config()
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg.n_symbols, cfg.symbols_embedding_dim)
        bound = math.sqrt(3.0) * math.sqrt(2.0 / (cfg.n_symbols + cfg.symbols_embedding_dim))
        nn.init.uniform_(self.embedding.weight, -bound, bound)
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.postnet = Postnet(cfg)

    @property
    def n_frames_per_step(self) -> int:
        return self.cfg.n_frames_per_step

    @property
    def max_decoder_steps(self) -> int:
        """The config's step limit. Read-only: pass ``max_decoder_steps=`` to each inference call instead (a shared
        model must not be changed by one request for the others)."""
        return self.cfg.max_decoder_steps

    @max_decoder_steps.setter
    def max_decoder_steps(self, value: int) -> None:
        raise AttributeError("max_decoder_steps is set per call: infer_full(..., max_decoder_steps=N)")

    def encode(self, sequences: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, T_in) int64 symbol ids -> (B, T_in, encoder_dim)."""
        return self.encoder(self.embedding(sequences).transpose(1, 2), lengths)

    def forward(self, sequences: torch.Tensor, lengths: torch.Tensor, targets: torch.Tensor,
                target_lengths: torch.Tensor | None = None) -> TacotronOutput:
        """Teacher-forced pass used for training. targets (B, n_mel, T_out), T_out a multiple of r."""
        memory = self.encode(sequences, lengths)
        dec = self.decoder(memory, targets, lengths)
        mel_post = dec.mel_outputs + self.postnet(dec.mel_outputs)
        mel, gates = dec.mel_outputs, dec.gate_outputs
        if self.cfg.mask_padding and target_lengths is not None:
            frame_mask = ~sequence_mask(target_lengths.to(mel.device), mel.size(2))
            mel = mel.masked_fill(frame_mask[:, None, :], 0.0)
            mel_post = mel_post.masked_fill(frame_mask[:, None, :], 0.0)
            r = self.cfg.n_frames_per_step
            step_mask = frame_mask[:, r - 1::r][:, : gates.size(1)]
            gates = gates.masked_fill(step_mask, 1e3)
        return TacotronOutput(mel, mel_post, gates, dec.alignments, dec.mel_lengths, dec.truncated)

    @torch.no_grad()
    def infer_full(self, sequences: torch.Tensor, lengths: torch.Tensor, max_decoder_steps: int | None = None,
                   gate_threshold: float | None = None, prenet_dropout: float | None = None,
                   stop_check_every: int = 1, generator: torch.Generator | None = None) -> TacotronOutput:
        """Free-running synthesis for a padded batch; reports per-utterance truncation.

        Options left as None come from the model's config (``max_decoder_steps``, ``gate_threshold``,
        ``prenet_dropout``); ``generator`` draws the prenet dropout masks (see :meth:`Decoder.infer`)."""
        memory = self.encode(sequences, lengths)
        dec = self.decoder.infer(memory, lengths, max_decoder_steps, gate_threshold, prenet_dropout,
                                 stop_check_every, generator)
        mel = dec.mel_outputs
        if mel.size(0) > 1:
            # Frames decoded after an utterance's stop step are not part of it: hide them from the postnet so
            # each utterance's output does not depend on its batch neighbours.
            r = self.cfg.n_frames_per_step
            valid = torch.where(dec.truncated, mel.size(2), dec.mel_lengths + r)
            mel = mel * sequence_mask(valid, mel.size(2)).unsqueeze(1)
        mel_post = mel + self.postnet(mel)
        return TacotronOutput(mel, mel_post, dec.gate_outputs, dec.alignments, dec.mel_lengths, dec.truncated)

    def infer(self, sequences: torch.Tensor, lengths: torch.Tensor, max_decoder_steps: int | None = None
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """NVIDIA-compatible: returns (mel_outputs_postnet, mel_lengths, alignments)."""
        out = self.infer_full(sequences, lengths, max_decoder_steps)
        return out.mel_outputs_postnet, out.mel_lengths, out.alignments
