"""Tacotron2 autoregressive decoder.

All recurrent state lives in a :class:`DecoderState` value that is passed in and returned by :meth:`Decoder.step`,
never stored on the module, so one model instance can serve concurrent calls from several threads.

The step is written once, here. Its parts are replaceable: ``attention_rnn`` and ``decoder_rnn`` are any modules
with ``nn.LSTMCell``'s call contract ``(x, (h, c)) -> (h, c)`` (the inference fast paths swap in fused, bf16 or int8
cells, :mod:`.fast`), and ``step_runner``, when set, runs :meth:`Decoder.infer_step` in its place (traced graphs).
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .attention import Attention
from .config import Tacotron2Config
from .layers import LinearNorm, sequence_mask


class Prenet(nn.Module):
    """2 x (linear without bias + ReLU + dropout). Dropout is applied whenever ``p > 0``, also at inference.

    The dropout masks come from the global random stream (``F.dropout``, NVIDIA's draws) unless they are given:
    :meth:`draw_masks` draws them from a generator of the caller's, which makes a seeded request reproducible
    whatever other threads draw, and lets traced graphs and ONNX take them as inputs.
    """

    def __init__(self, in_dim: int, sizes: list[int]) -> None:
        super().__init__()
        in_sizes = [in_dim] + sizes[:-1]
        self.layers = nn.ModuleList(LinearNorm(i, o, bias=False) for i, o in zip(in_sizes, sizes))

    def forward(self, x: torch.Tensor, p: float = 0.5, masks: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
        """x (..., in_dim) -> (..., sizes[-1]); ``masks``: one scaled keep-mask per layer (see :meth:`draw_masks`)."""
        for i, linear in enumerate(self.layers):
            x = F.relu(linear(x))
            x = x * masks[i].to(x.dtype) if masks is not None else F.dropout(x, p=p, training=p > 0)
        return x

    def draw_masks(self, batch: int, p: float, generator: torch.Generator | None,
                   device: torch.device) -> list[torch.Tensor]:
        """One (batch, width) keep-mask per layer, scaled by 1 / (1 - p) as dropout scales what it keeps."""
        masks = []
        for linear in self.layers:
            keep = torch.empty(batch, linear.linear_layer.out_features, device=device).bernoulli_(1 - p,
                                                                                               generator=generator)
            masks.append(keep / (1 - p) if p < 1 else keep)
        return masks


class DecoderState(NamedTuple):
    attention_hidden: torch.Tensor  # (B, attention_rnn_dim)
    attention_cell: torch.Tensor  # (B, attention_rnn_dim)
    decoder_hidden: torch.Tensor  # (B, decoder_rnn_dim)
    decoder_cell: torch.Tensor  # (B, decoder_rnn_dim)
    attention_weights: torch.Tensor  # (B, T_in)
    attention_weights_cum: torch.Tensor  # (B, T_in)
    attention_context: torch.Tensor  # (B, encoder_dim)


class DecoderOutput(NamedTuple):
    mel_outputs: torch.Tensor  # (B, n_mel, T_out) before the postnet
    gate_outputs: torch.Tensor  # (B, T_out / r) gate logits, one per decoder step
    alignments: torch.Tensor  # (B, T_out / r, T_in)
    mel_lengths: torch.Tensor  # (B,) int32 frames (inference only)
    truncated: torch.Tensor  # (B,) bool: hit max_decoder_steps before the stop gate fired (inference only)


class Decoder(nn.Module):
    def __init__(self, cfg: Tacotron2Config) -> None:
        super().__init__()
        self.cfg = cfg
        r, n_mel, enc = cfg.n_frames_per_step, cfg.n_mel_channels, cfg.encoder_embedding_dim
        self.prenet = Prenet(n_mel * r, [cfg.prenet_dim, cfg.prenet_dim])
        self.attention_rnn = nn.LSTMCell(cfg.prenet_dim + enc, cfg.attention_rnn_dim)
        self.attention_layer = Attention(cfg.attention_rnn_dim, enc, cfg.attention_dim,
                                         cfg.attention_location_n_filters, cfg.attention_location_kernel_size)
        self.decoder_rnn = nn.LSTMCell(cfg.attention_rnn_dim + enc, cfg.decoder_rnn_dim)
        self.linear_projection = LinearNorm(cfg.decoder_rnn_dim + enc, n_mel * r)
        self.gate_layer = LinearNorm(cfg.decoder_rnn_dim + enc, 1, w_init_gain="sigmoid")
        # Runs infer_step's contract in its place when set (models.fast traces it); a plain attribute, not a module.
        self.step_runner: Callable[..., tuple] | None = None

    def initial_state(self, memory: torch.Tensor) -> DecoderState:
        b, t_in, _ = memory.shape
        cfg = self.cfg

        def zeros(*shape: int) -> torch.Tensor:
            return memory.new_zeros(shape)

        return DecoderState(zeros(b, cfg.attention_rnn_dim), zeros(b, cfg.attention_rnn_dim),
                            zeros(b, cfg.decoder_rnn_dim), zeros(b, cfg.decoder_rnn_dim),
                            zeros(b, t_in), zeros(b, t_in), zeros(b, cfg.encoder_embedding_dim))

    def step(self, prenet_out: torch.Tensor, state: DecoderState, memory: torch.Tensor,
             processed_memory: torch.Tensor, mask: torch.Tensor | None
             ) -> tuple[torch.Tensor, torch.Tensor, DecoderState]:
        """One decoder step. prenet_out (B, prenet_dim) -> mel (B, n_mel * r), gate logit (B, 1), new state."""
        cell_input = torch.cat((prenet_out, state.attention_context), -1)
        att_h, att_c = self.attention_rnn(cell_input, (state.attention_hidden, state.attention_cell))
        if self.training:  # no dropout op at all at inference (one less operator in each traced step)
            att_h = F.dropout(att_h, self.cfg.p_attention_dropout, True)
        weights_cat = torch.stack((state.attention_weights, state.attention_weights_cum), dim=1)
        context, weights = self.attention_layer(att_h, memory, processed_memory, weights_cat, mask)
        weights_cum = state.attention_weights_cum + weights
        dec_h, dec_c = self.decoder_rnn(torch.cat((att_h, context), -1), (state.decoder_hidden, state.decoder_cell))
        if self.training:
            dec_h = F.dropout(dec_h, self.cfg.p_decoder_dropout, True)
        hidden_context = torch.cat((dec_h, context), dim=1)
        mel = self.linear_projection(hidden_context)
        gate = self.gate_layer(hidden_context)
        return mel, gate, DecoderState(att_h, att_c, dec_h, dec_c, weights, weights_cum, context)

    def _frames_to_mels(self, mels: list[torch.Tensor]) -> torch.Tensor:
        # list of T_steps x (B, n_mel * r) -> (B, n_mel, T_steps * r)
        b = mels[0].size(0)
        return torch.stack(mels, dim=1).view(b, -1, self.cfg.n_mel_channels).transpose(1, 2)

    def forward(self, memory: torch.Tensor, targets: torch.Tensor, memory_lengths: torch.Tensor,
                prenet_dropout: float | None = None) -> DecoderOutput:
        """Teacher-forced decoding. memory (B, T_in, enc); targets (B, n_mel, T_out) with T_out a multiple of r."""
        cfg = self.cfg
        b = memory.size(0)
        r = cfg.n_frames_per_step
        # (B, n_mel, T) -> (T / r, B, n_mel * r): each step sees the previous group of r frames.
        groups = targets.transpose(1, 2).reshape(b, targets.size(2) // r, -1).transpose(0, 1)
        inputs = torch.cat((memory.new_zeros(1, b, cfg.n_mel_channels * r), groups[:-1]), dim=0)
        p = cfg.prenet_dropout if prenet_dropout is None else prenet_dropout
        prenet_out = self.prenet(inputs, p)
        mask = ~sequence_mask(memory_lengths, memory.size(1))
        processed_memory = self.attention_layer.memory_layer(memory)
        state = self.initial_state(memory)
        mels, gates, aligns = [], [], []
        for t in range(prenet_out.size(0)):
            mel, gate, state = self.step(prenet_out[t], state, memory, processed_memory, mask)
            mels.append(mel)
            gates.append(gate.squeeze(1))
            aligns.append(state.attention_weights)
        empty = memory_lengths.new_zeros(b)
        return DecoderOutput(self._frames_to_mels(mels), torch.stack(gates, 1), torch.stack(aligns, 1),
                             empty.int(), empty.bool())

    def infer(self, memory: torch.Tensor, memory_lengths: torch.Tensor, max_decoder_steps: int | None = None,
              gate_threshold: float | None = None, prenet_dropout: float | None = None,
              stop_check_every: int = 1, generator: torch.Generator | None = None) -> DecoderOutput:
        """Free-running decoding until every utterance's stop gate fires or the step limit is reached.

        ``stop_check_every`` > 1 reads the stop condition back from the device only every that many steps (no
        host synchronisation on the other steps, which keeps a GPU busy); lengths are counted on the device, so
        they and every frame within them are unchanged, only up to ``stop_check_every - 1`` extra frames follow.
        ``generator``: the prenet dropout masks are drawn from it instead of the global random stream.
        """
        cfg = self.cfg
        b = memory.size(0)
        r = cfg.n_frames_per_step
        max_steps = cfg.max_decoder_steps if max_decoder_steps is None else max_decoder_steps
        threshold = cfg.gate_threshold if gate_threshold is None else gate_threshold
        p = cfg.prenet_dropout if prenet_dropout is None else prenet_dropout
        mask = ~sequence_mask(memory_lengths, memory.size(1))
        processed_memory = self.attention_layer.memory_layer(memory)
        state = self.initial_state(memory)
        frame = memory.new_zeros(b, cfg.n_mel_channels * r)
        lengths = torch.zeros(b, dtype=torch.int32, device=memory.device)
        not_finished = torch.ones(b, dtype=torch.int32, device=memory.device)
        run_step = self.step_runner or self.infer_step
        masks = None
        mels, gates, aligns = [], [], []
        while True:
            if generator is not None and p > 0:
                masks = self.prenet.draw_masks(b, p, generator, memory.device)
            mel, gate, state, not_finished, lengths = run_step(
                frame, p, threshold, state, memory, processed_memory, mask, not_finished, lengths, masks)
            mels.append(mel)
            gates.append(gate.squeeze(1))
            aligns.append(state.attention_weights)
            if len(mels) == max_steps:
                break
            if len(mels) % stop_check_every == 0 and not bool(not_finished.any()):
                break
            frame = mel
        truncated = not_finished.bool()
        return DecoderOutput(self._frames_to_mels(mels), torch.stack(gates, 1), torch.stack(aligns, 1),
                             lengths * r, truncated)

    def infer_step(self, frame: torch.Tensor, p: float, threshold: float, state: DecoderState,
                   memory: torch.Tensor, processed_memory: torch.Tensor, mask: torch.Tensor,
                   not_finished: torch.Tensor, lengths: torch.Tensor,
                   prenet_masks: Sequence[torch.Tensor] | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor, DecoderState, torch.Tensor, torch.Tensor]:
        """One free-running step: prenet, :meth:`step`, stop bookkeeping.
        frame (B, n_mel * r) previous output; not_finished, lengths (B,) int32; prenet_masks as
        :meth:`Prenet.draw_masks` (None: dropout from the global stream).
        Returns mel (B, n_mel * r), gate (B, 1), the new state, not_finished and lengths."""
        mel, gate, state = self.step(self.prenet(frame, p, prenet_masks), state, memory, processed_memory, mask)
        # Same counting as NVIDIA: a step is counted while no stop has been predicted up to and including it.
        not_finished = not_finished * (torch.sigmoid(gate.squeeze(1)) <= threshold).to(torch.int32)
        return mel, gate, state, not_finished, lengths + not_finished
