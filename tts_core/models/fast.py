"""Inference fast paths that keep the reference architecture and weights.

* :class:`FastDecoder` runs each decoder LSTM cell as one GEMM over ``[input, hidden]`` against the concatenated
  ``[W_ih, W_hh]`` (one matrix product per cell and step instead of two, plus one bias add). In ``float32`` it gives
  the eager numbers to rounding; in ``bfloat16`` only the two big GEMM weights are stored in bf16 (AMX / AVX512-BF16
  on CPU), while the recurrent state, the gates' non-linearities, attention and projections stay in float32.
* :func:`fast_waveglow` runs the WN coupling networks in a lower precision (see ``WaveGlow.set_wn_dtype``).

Both return new modules and never modify the model they are given (it may be shared by other threads).
"""
from __future__ import annotations

import copy
import functools

import torch
import torch.nn.functional as F
from torch import nn

from .decoder import Decoder, DecoderState
from .tacotron2 import Tacotron2
from .waveglow import WaveGlow


@functools.lru_cache(maxsize=1)
def cpu_has_bf16() -> bool:
    """True when this CPU runs bf16 matrix products natively (AVX512-BF16 or AMX), so bf16 is a speed-up."""
    try:
        flags = open("/proc/cpuinfo", encoding="ascii", errors="ignore").read()
    except OSError:
        return False
    return any(flag in flags.split() for flag in ("avx512_bf16", "amx_bf16"))


def _fused_lstm_weights(cell: nn.LSTMCell, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    weight = torch.cat((cell.weight_ih, cell.weight_hh), dim=1).detach().to(dtype).contiguous()
    bias = (cell.bias_ih + cell.bias_hh).detach().float()
    return weight, bias


def _lstm_step(x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
    # Gate order i, f, g, o as in torch.nn.LSTMCell.
    gates = F.linear(torch.cat((x, h), -1).to(weight.dtype), weight).float() + bias
    i, f, g, o = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


class FastDecoder(Decoder):
    """A :class:`Decoder` for inference with fused LSTM GEMMs; shares every other layer with ``decoder``."""

    def __init__(self, decoder: Decoder, dtype: torch.dtype = torch.float32) -> None:
        nn.Module.__init__(self)  # not Decoder.__init__: the layers come from ``decoder``, not new ones
        self.cfg = decoder.cfg
        self.prenet = decoder.prenet
        self.attention_layer = decoder.attention_layer
        self.linear_projection = decoder.linear_projection
        self.gate_layer = decoder.gate_layer
        att_w, att_b = _fused_lstm_weights(decoder.attention_rnn, dtype)
        dec_w, dec_b = _fused_lstm_weights(decoder.decoder_rnn, dtype)
        self.register_buffer("att_weight", att_w)
        self.register_buffer("att_bias", att_b)
        self.register_buffer("dec_weight", dec_w)
        self.register_buffer("dec_bias", dec_b)
        self.eval()

    def step(self, prenet_out: torch.Tensor, state: DecoderState, memory: torch.Tensor,
             processed_memory: torch.Tensor, mask: torch.Tensor | None
             ) -> tuple[torch.Tensor, torch.Tensor, DecoderState]:
        """Same contract as :meth:`Decoder.step` (inference only: no dropout inside the decoder)."""
        att_h, att_c = _lstm_step(torch.cat((prenet_out, state.attention_context), -1), state.attention_hidden,
                                  state.attention_cell, self.att_weight, self.att_bias)
        weights_cat = torch.stack((state.attention_weights, state.attention_weights_cum), dim=1)
        context, weights = self.attention_layer(att_h, memory, processed_memory, weights_cat, mask)
        dec_h, dec_c = _lstm_step(torch.cat((att_h, context), -1), state.decoder_hidden, state.decoder_cell,
                                  self.dec_weight, self.dec_bias)
        hidden_context = torch.cat((dec_h, context), dim=1)
        mel = self.linear_projection(hidden_context)
        gate = self.gate_layer(hidden_context)
        return mel, gate, DecoderState(att_h, att_c, dec_h, dec_c, weights, state.attention_weights_cum + weights,
                                       context)

    def forward(self, *args, **kwargs):  # type: ignore[override]
        raise RuntimeError("FastDecoder is for inference; train with the eager Decoder")


def _shallow_module_copy(module: nn.Module) -> nn.Module:
    """A copy that shares parameters and submodules but whose submodule table can be changed independently."""
    new = copy.copy(module)
    new._modules = dict(module._modules)
    new._parameters = dict(module._parameters)
    new._buffers = dict(module._buffers)
    return new


def fast_tacotron2(model: Tacotron2, dtype: torch.dtype = torch.float32) -> Tacotron2:
    """``model`` with a :class:`FastDecoder`; the encoder and postnet are shared, ``model`` itself is unchanged."""
    new = _shallow_module_copy(model)
    new.decoder = FastDecoder(model.decoder, dtype)
    return new.eval()


def fast_waveglow(model: WaveGlow, dtype: torch.dtype = torch.bfloat16) -> WaveGlow:
    """A copy of ``model`` without weight norm whose WN networks run in ``dtype``; ``model`` itself is unchanged."""
    state = {}
    source = model.state_dict()
    for key, value in source.items():
        if key.endswith("weight_v"):
            prefix = key[: -len("weight_v")]
            # weight norm with dim=0, as nn.utils.weight_norm registers it
            state[prefix + "weight"] = torch._weight_norm(value, source[prefix + "weight_g"], 0)
        elif not key.endswith("weight_g"):
            state[key] = value
    new = WaveGlow(model.cfg, weight_norm=False)
    new.load_state_dict(state, strict=True)
    device = next(model.parameters()).device
    return new.to(device).eval().set_wn_dtype(dtype)
