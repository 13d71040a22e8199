"""Inference fast paths that keep the reference architecture and weights.

* :class:`FusedLSTMCell` runs a decoder LSTM cell as one GEMM over ``[input, hidden]`` against the concatenated
  ``[W_ih, W_hh]`` (one matrix product per cell and step instead of two, plus one bias add). In ``float32`` it gives
  the eager numbers to rounding; in ``bfloat16`` only the GEMM weight is stored in bf16 (AMX / AVX512-BF16 on CPU),
  while the recurrent state and the gates' non-linearities stay in float32. In ``int8`` the weight is stored as int8
  with one float scale per output row (weight-only quantization, bf16 activations): at batch 1 a decoder step is a
  memory-bound matrix-vector product, so a quarter of the fp32 bytes makes it several times faster.
  :func:`fast_decoder` swaps these cells into a copy of the :class:`~.decoder.Decoder` (the step itself is the
  decoder's own), and :class:`TracedSteps` runs its free-running steps as traced TorchScript graphs.
* :class:`GemmWN` runs a WaveGlow coupling network as plain matrix products: each dilated kernel-3 convolution
  becomes one GEMM over the three shifted copies of its input stacked on the channel axis, the eight conditioning
  convolutions of a flow become one GEMM, and the in-layer and conditioning biases are added once. On CPU, bf16 GEMMs
  reach several times the throughput of bf16 dilated convolutions (AMX), which is what :func:`fast_waveglow` is for.

All return new modules and never modify the model they are given (it may be shared by other threads).
"""
from __future__ import annotations

import copy
import threading
import warnings
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..hardware import int8_matmul_available
from .decoder import Decoder, DecoderState
from .tacotron2 import Tacotron2
from .waveglow import WN, WaveGlow, fold_weight_norm

# torch._weight_int8pack_mm's CPU kernel reads the reduction axis in blocks of 16: other widths give wrong numbers
# (or crash), so the fused weight gets zero columns up to a multiple of 16 and the input is padded to match.
_INT8_K_MULTIPLE = 16
CELL_DTYPES = (torch.float32, torch.bfloat16, torch.int8)


def quantize_rows_int8(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric per-row int8: ``weight ~= q * scale[:, None]`` with ``|q| <= 127``.

    The scales are rounded *up* to bfloat16 values, so they are exact in the bf16 the kernel takes and no row
    overflows 127.
    """
    weight = weight.detach().float()
    scale = (weight.abs().amax(dim=1) / 127.0).clamp(min=1e-12)
    scale_bf16 = scale.to(torch.bfloat16)
    low = scale_bf16.float() < scale
    scale_bf16[low] = torch.nextafter(scale_bf16[low], torch.full_like(scale_bf16[low], float("inf")))
    q = torch.round(weight / scale_bf16.float()[:, None]).clamp(-127, 127).to(torch.int8)
    return q.contiguous(), scale_bf16


class FusedLSTMCell(nn.Module):
    """Inference form of an ``nn.LSTMCell`` with the same call contract, ``(x, (h, c)) -> (h, c)``: ``[W_ih, W_hh]``
    as one matrix (float32, bfloat16 or per-row int8) plus the summed bias. Weights are buffers: no training."""

    def __init__(self, cell: nn.LSTMCell, dtype: torch.dtype) -> None:
        super().__init__()
        if dtype not in CELL_DTYPES:
            raise ValueError(f"FusedLSTMCell supports float32, bfloat16 and int8, not {dtype}")
        weight = torch.cat((cell.weight_ih, cell.weight_hh), dim=1).detach()
        self.register_buffer("bias", (cell.bias_ih + cell.bias_hh).detach().float())
        self.pad = 0
        if dtype == torch.int8:
            if not int8_matmul_available():
                raise RuntimeError("this PyTorch has no weight-only int8 matmul; use bf16 or fp32")
            self.pad = -weight.size(1) % _INT8_K_MULTIPLE
            q, scale = quantize_rows_int8(F.pad(weight, (0, self.pad)))
            self.register_buffer("weight", q)
            self.register_buffer("scale", scale)
        else:
            self.register_buffer("weight", weight.to(dtype).contiguous())
            self.scale = None

    def gates(self, xh: torch.Tensor) -> torch.Tensor:
        """(B, in + hidden) -> (B, 4 * hidden) float32 gate pre-activations, bias included."""
        if self.scale is not None:
            if self.pad:
                xh = F.pad(xh, (0, self.pad))
            return torch._weight_int8pack_mm(xh.to(torch.bfloat16).contiguous(), self.weight, self.scale).float() \
                + self.bias
        xh = xh.to(self.weight.dtype)
        if xh.size(0) == 1:  # batch 1: a matrix-vector product, ~1.5x faster than a 1-row GEMM in bf16 here
            return torch.mv(self.weight, xh[0]).unsqueeze(0).float() + self.bias
        return F.linear(xh, self.weight).float() + self.bias

    def forward(self, x: torch.Tensor, hc: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = hc
        # Gate order i, f, g, o as in torch.nn.LSTMCell.
        i, f, g, o = self.gates(torch.cat((x, h), -1)).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c


def _shallow_module_copy(module: nn.Module) -> nn.Module:
    """A copy that shares parameters and submodules but whose submodule table can be changed independently."""
    new = copy.copy(module)
    new._modules = dict(module._modules)
    new._parameters = dict(module._parameters)
    new._buffers = dict(module._buffers)
    return new


def fast_decoder(decoder: Decoder, dtype: torch.dtype = torch.float32, trace: bool = True) -> Decoder:
    """A copy of ``decoder`` for inference whose two LSTM cells are :class:`FusedLSTMCell` in ``dtype`` and whose
    free-running steps run as traced graphs (CPU, unless ``trace`` is False); every other layer is shared."""
    new = _shallow_module_copy(decoder)
    new.attention_rnn = FusedLSTMCell(decoder.attention_rnn, dtype)
    new.decoder_rnn = FusedLSTMCell(decoder.decoder_rnn, dtype)
    new.step_runner = None
    new.eval()
    if trace and new.attention_rnn.bias.device.type == "cpu":
        new.step_runner = TracedSteps(new)
    return new


def fast_tacotron2(model: Tacotron2, dtype: torch.dtype = torch.float32, trace: bool = True) -> Tacotron2:
    """``model`` with a :func:`fast_decoder`; the encoder and postnet are shared, ``model`` itself is unchanged."""
    new = _shallow_module_copy(model)
    new.decoder = fast_decoder(model.decoder, dtype, trace)
    return new.eval()


class TracedSteps:
    """:meth:`Decoder.infer_step` of one decoder as traced TorchScript graphs, with the same contract.

    At batch 1 a CPU decoder step is dozens of small operators around two matrix-vector products, and the Python
    between them costs about as much as the arithmetic; a graph runs the same operators (the same numbers, the same
    random draws) without it. A graph is traced on first use for each (batch 1 or not, prenet dropout, gate
    threshold, dropout masks given or drawn) and shares the decoder's tensors. Thread-safe.
    """

    def __init__(self, decoder: Decoder) -> None:
        self.decoder = decoder
        self.graphs: dict[tuple[bool, float, float, bool], torch.jit.ScriptModule] = {}
        self._lock = threading.Lock()

    def __call__(self, frame: torch.Tensor, p: float, threshold: float, state: DecoderState, memory: torch.Tensor,
                 processed_memory: torch.Tensor, mask: torch.Tensor, not_finished: torch.Tensor,
                 lengths: torch.Tensor, prenet_masks: Sequence[torch.Tensor] | None = None
                 ) -> tuple[torch.Tensor, torch.Tensor, DecoderState, torch.Tensor, torch.Tensor]:
        graph = self._graph(frame.size(0) == 1, p, threshold, prenet_masks is not None)
        out = graph(frame, *state, memory, processed_memory, mask, not_finished, lengths, *(prenet_masks or ()))
        return out[0], out[1], DecoderState(*out[2:9]), out[9], out[10]

    def _graph(self, batch_one: bool, p: float, threshold: float, with_masks: bool) -> torch.jit.ScriptModule:
        key = (batch_one, float(p), float(threshold), with_masks)
        graph = self.graphs.get(key)
        if graph is not None:
            return graph
        with self._lock:
            if key not in self.graphs:
                self.graphs[key] = self._trace(*key)
            return self.graphs[key]

    def _trace(self, batch_one: bool, p: float, threshold: float, with_masks: bool) -> torch.jit.ScriptModule:
        decoder = self.decoder
        cfg, b, t_in = decoder.cfg, 1 if batch_one else 2, 8  # the bf16/fp32 cells branch on batch 1
        # Tracing runs the step once on made-up inputs: keep the caller's random stream as it was.
        with torch.random.fork_rng(devices=[]), torch.inference_mode(False), torch.no_grad(), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit.trace's deprecation notice; the graph is checked in tests
            memory = torch.randn(b, t_in, cfg.encoder_embedding_dim)
            ones = torch.ones(b, dtype=torch.int32)
            masks = [torch.ones(b, layer.linear_layer.out_features) for layer in decoder.prenet.layers] \
                if with_masks else []
            example = (torch.zeros(b, cfg.n_mel_channels * cfg.n_frames_per_step), *decoder.initial_state(memory),
                       memory, decoder.attention_layer.memory_layer(memory), torch.zeros(b, t_in, dtype=torch.bool),
                       ones, ones, *masks)
            return torch.jit.trace(_FlatInferStep(decoder, p, threshold, len(masks)), example, check_trace=False)


class _FlatInferStep(nn.Module):
    """:meth:`Decoder.infer_step` with flat tensor arguments, the form ``torch.jit.trace`` takes; the prenet dropout
    and the gate threshold are constants of the graph, the last ``n_masks`` arguments the prenet's masks."""

    def __init__(self, decoder: Decoder, p: float, threshold: float, n_masks: int) -> None:
        super().__init__()
        self.decoder, self.p, self.threshold, self.n_masks = decoder, p, threshold, n_masks

    def forward(self, frame: torch.Tensor, *rest: torch.Tensor) -> tuple[torch.Tensor, ...]:
        state = DecoderState(*rest[:7])
        memory, processed_memory, mask, not_finished, lengths = rest[7:12]
        masks = list(rest[12:]) if self.n_masks else None
        mel, gate, new, not_finished, lengths = self.decoder.infer_step(
            frame, self.p, self.threshold, state, memory, processed_memory, mask, not_finished, lengths, masks)
        return (mel, gate, *new, not_finished, lengths)


class GemmWN(nn.Module):
    """Inference form of a weight-norm-free :class:`WN`, with its weights stored as GEMM matrices in ``dtype``.

    Takes and returns the same tensors as ``WN.forward``: audio (B, n_in, T), spect (B, n_cond, T) ->
    (B, 2 * n_in, T). Inside, activations are time-major (B * T, channels) matrices, the layout in which oneDNN's
    bf16 GEMMs run fastest here, and the gate ``tanh(a) * sigmoid(b)`` is computed from one sigmoid over a
    contiguous block, ``s = sigmoid([2 a, b])``, as ``-(s_b - 2 s_a s_b)`` (``tanh(a) = 2 sigmoid(2 a) - 1``): the
    factor 2 is folded exactly into the weights that make ``a``, the sign into the residual/skip weights. PyTorch's
    CPU sigmoid runs about 6x faster than its tanh (0.7 against 4.6 ms for one layer's 6400 x 512 block, AMD EPYC).
    """

    def __init__(self, wn: WN, dtype: torch.dtype) -> None:
        super().__init__()
        self.n_layers, self.n_channels = wn.n_layers, wn.n_channels
        self.dilations = [layer.dilation[0] for layer in wn.in_layers]
        if any(layer.kernel_size[0] != 3 for layer in wn.in_layers):
            raise ValueError("GemmWN supports kernel size 3 (NVIDIA's WaveGlow)")
        c = self.n_channels
        rows = torch.ones(2 * c, 1)
        rows[:c] = 2.0  # rows making a: tanh(a) = 2 sigmoid(2 a) - 1

        def mat(w: torch.Tensor) -> torch.Tensor:
            return w.detach().to(dtype).contiguous()

        self.register_buffer("start_w", mat(wn.start.weight.squeeze(2)))
        self.register_buffer("start_b", mat(wn.start.bias))
        # One GEMM for all layers' conditioning; each in-layer's bias joins its conditioning bias.
        self.register_buffer("cond_w", mat(torch.cat([c_.weight.squeeze(2) * rows for c_ in wn.cond_layers])))
        self.register_buffer("cond_b", mat(torch.cat([(c_.bias + i.bias) * rows.squeeze(1)
                                                      for c_, i in zip(wn.cond_layers, wn.in_layers)])))
        # Conv weight (out, in, k) -> (out, k * in), matching the stacked input [x(t - d), x(t), x(t + d)].
        self.register_buffer("in_w", mat(torch.stack([
            (i.weight * rows.unsqueeze(2)).permute(0, 2, 1).reshape(2 * c, -1) for i in wn.in_layers])))
        res = [-r.weight.squeeze(2) for r in wn.res_skip_layers]  # the rewritten gate is -tanh(a) sigmoid(b)
        res_b = [r.bias for r in wn.res_skip_layers]
        # The last layer has only skip outputs; a zero residual half lets all layers stack.
        if res[-1].size(0) == c:
            res[-1] = torch.cat([res[-1].new_zeros(c, c), res[-1]])
            res_b[-1] = torch.cat([res_b[-1].new_zeros(c), res_b[-1]])
        self.register_buffer("res_w", mat(torch.stack(res)))
        self.register_buffer("res_b", mat(torch.stack(res_b)))
        self.register_buffer("end_w", mat(wn.end.weight.squeeze(2)))
        self.register_buffer("end_b", mat(wn.end.bias))

    def forward(self, audio: torch.Tensor, spect: torch.Tensor) -> torch.Tensor:
        b, n_in, t = audio.shape
        c = self.n_channels
        # contiguous() matters: a strided (column-major) GEMM operand falls off oneDNN's fast path
        audio = audio.transpose(1, 2).contiguous().view(b * t, n_in)
        spect = spect.transpose(1, 2).contiguous().view(b * t, spect.size(1))
        x = F.linear(audio, self.start_w, self.start_b)
        cond = F.linear(spect, self.cond_w, self.cond_b)
        skip = None
        for i, d in enumerate(self.dilations):
            # [x(t - d), x(t), x(t + d)] with zeros beyond each utterance's ends
            rows = x.view(b, t, c)
            padded = F.pad(rows, (0, 0, d, d))
            stacked = torch.cat((padded[:, :t], rows, padded[:, 2 * d:]), dim=2).view(b * t, 3 * c)
            acts = torch.addmm(cond[:, 2 * c * i: 2 * c * (i + 1)], stacked, self.in_w[i].t())
            s = torch.sigmoid(acts.float())  # float32: faster than in bf16 on CPU
            gated = torch.addcmul(s[:, c:], s[:, :c], s[:, c:], value=-2.0).to(x.dtype)  # -tanh(a) sigmoid(b)
            res_skip = torch.addmm(self.res_b[i], gated, self.res_w[i].t())
            if i < self.n_layers - 1:
                x = x + res_skip[:, :c]
            skip = res_skip[:, c:] if skip is None else skip + res_skip[:, c:]
        out = F.linear(skip, self.end_w, self.end_b)
        return out.view(b, t, -1).transpose(1, 2)


def fast_waveglow(model: WaveGlow, dtype: torch.dtype = torch.bfloat16) -> WaveGlow:
    """A copy of ``model`` whose WN networks run as :class:`GemmWN` in ``dtype`` (float32 or bfloat16), or as
    :class:`~.quantized.Int8WN` for ``torch.int8``; ``model`` itself is unchanged.

    The upsampler, the coupling arithmetic and the invertible convolutions keep float32.
    """
    state = fold_weight_norm(model.state_dict())
    new = WaveGlow(model.cfg, weight_norm=False)
    new.load_state_dict(state, strict=True)
    device = next(model.parameters()).device
    if dtype == torch.int8:
        from .quantized import Int8WN  # it builds on GemmWN's matrices

        new.WN = nn.ModuleList(Int8WN(wn) for wn in new.WN)
    else:
        new.WN = nn.ModuleList(GemmWN(wn, dtype) for wn in new.WN)
    new = new.to(device).eval()
    for conv in new.convinv:
        conv.inverse_weight()  # computed once here, not inside the first request
    return new
