"""WaveGlow (Prenger et al. 2019) with the parameter layout of NVIDIA's DeepLearningExamples.

Layout per flow ``k``: ``WN.{k}.start``, ``WN.{k}.in_layers.{i}``, ``WN.{k}.cond_layers.{i}``,
``WN.{k}.res_skip_layers.{i}``, ``WN.{k}.end`` and ``convinv.{k}.conv``; plus ``upsample``. Other published layouts
(NVIDIA/waveglow's fused ``cond_layer``, glow_old's ``res_layers``/``skip_layers``) are converted on load by
:mod:`tts_core.checkpoints`.
"""
from __future__ import annotations

import itertools
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from .config import WaveGlowConfig


def _weight_norm(module: nn.Module) -> nn.Module:
    # The legacy hook keeps NVIDIA's key names (weight_g / weight_v); the parametrization API renames them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return nn.utils.weight_norm(module, name="weight")


def fold_weight_norm(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Replace ``X.weight_g`` / ``X.weight_v`` pairs by ``X.weight = g * v / ||v||`` (norm over all but dim 0)."""
    out = {}
    for key, value in sd.items():
        if key.endswith(".weight_g"):
            base = key[: -len("_g")]
            v = sd[base + "_v"].float()
            g = value.float()
            norm = v.flatten(1).norm(dim=1).view(-1, *([1] * (v.dim() - 1)))
            out[base] = (v * (g / norm)).to(sd[base + "_v"].dtype)
        elif not key.endswith(".weight_v"):
            out[key] = value
    return out


def gated_activation(in_act: torch.Tensor, cond: torch.Tensor, n_channels: int) -> torch.Tensor:
    acts = in_act + cond
    return torch.tanh(acts[:, :n_channels]) * torch.sigmoid(acts[:, n_channels:])


class Invertible1x1Conv(nn.Module):
    """1x1 convolution with an orthonormal initial weight (determinant +1); its inverse is used at inference."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, kernel_size=1, bias=False)
        w = torch.linalg.qr(torch.randn(channels, channels))[0]
        if torch.det(w) < 0:
            w[:, 0] = -w[:, 0]
        self.conv.weight.data = w.view(channels, channels, 1).contiguous()
        self._inverse: torch.Tensor | None = None

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Training direction: z (B, C, T) -> (W z, log|det W| * B * T)."""
        b, _, t = z.shape
        w = self.conv.weight.squeeze(2)
        log_det = b * t * torch.slogdet(w.float())[1]
        return self.conv(z), log_det

    def inverse_weight(self) -> torch.Tensor:
        """W^-1 computed once in float32 (numerically fragile), shaped as a conv weight."""
        w = self.conv.weight
        inv = self._inverse
        if inv is None or inv.device != w.device:
            # Idempotent: two threads racing here both compute the same matrix; no lock needed.
            inv = torch.linalg.inv(w.detach().squeeze(2).float()).unsqueeze(2)
            self._inverse = inv
        return inv

    def infer(self, z: torch.Tensor) -> torch.Tensor:
        """Inverse direction, computed in float32 whatever the input precision (also under autocast)."""
        with torch.autocast(device_type=z.device.type, enabled=False):
            return F.conv1d(z.float(), self.inverse_weight()).to(z.dtype)


class WN(nn.Module):
    """Non-causal WaveNet-like network of an affine coupling layer; dilation doubles on every layer."""

    def __init__(self, n_in_channels: int, n_cond_channels: int, n_layers: int, n_channels: int,
                 kernel_size: int, weight_norm: bool = True) -> None:
        super().__init__()
        if kernel_size % 2 != 1 or n_channels % 2 != 0:
            raise ValueError("WN needs an odd kernel size and an even channel count")
        wn = _weight_norm if weight_norm else (lambda m: m)
        self.n_layers = n_layers
        self.n_channels = n_channels
        self.start = wn(nn.Conv1d(n_in_channels, n_channels, 1))
        self.end = nn.Conv1d(n_channels, 2 * n_in_channels, 1)
        # A zero last layer makes every coupling start as the identity (training stability).
        self.end.weight.data.zero_()
        self.end.bias.data.zero_()
        self.in_layers = nn.ModuleList()
        self.cond_layers = nn.ModuleList()
        self.res_skip_layers = nn.ModuleList()
        for i in range(n_layers):
            dilation = 2 ** i
            self.in_layers.append(wn(nn.Conv1d(n_channels, 2 * n_channels, kernel_size, dilation=dilation,
                                               padding=dilation * (kernel_size - 1) // 2)))
            self.cond_layers.append(wn(nn.Conv1d(n_cond_channels, 2 * n_channels, 1)))
            out = 2 * n_channels if i < n_layers - 1 else n_channels
            self.res_skip_layers.append(wn(nn.Conv1d(n_channels, out, 1)))

    def forward(self, audio: torch.Tensor, spect: torch.Tensor) -> torch.Tensor:
        """audio (B, n_in, T'); spect (B, n_mel * n_group, T') -> (B, 2 * n_in, T') = [b ; log s]."""
        audio = self.start(audio)
        output = torch.zeros_like(audio)
        c = self.n_channels
        for i, (in_layer, cond_layer, res_skip) in enumerate(zip(self.in_layers, self.cond_layers,
                                                                 self.res_skip_layers)):
            acts = res_skip(gated_activation(in_layer(audio), cond_layer(spect), c))
            if i < self.n_layers - 1:
                audio = audio + acts[:, :c]
                output = output + acts[:, c:]
            else:
                output = output + acts
        return self.end(output)


class WaveGlow(nn.Module):
    def __init__(self, cfg: WaveGlowConfig | None = None, weight_norm: bool = True) -> None:
        super().__init__()
        cfg = cfg or WaveGlowConfig()
        if cfg.n_group % 2:
            raise ValueError("n_group must be even")
        self.cfg = cfg
        self.n_flows, self.n_group = cfg.n_flows, cfg.n_group
        self.n_early_every, self.n_early_size = cfg.n_early_every, cfg.n_early_size
        self.upsample = nn.ConvTranspose1d(cfg.n_mel_channels, cfg.n_mel_channels, cfg.upsample_kernel,
                                           stride=cfg.upsample_stride)
        self.WN = nn.ModuleList()
        self.convinv = nn.ModuleList()
        n_half = cfg.n_group // 2
        remaining = cfg.n_group
        for k in range(cfg.n_flows):
            if k % cfg.n_early_every == 0 and k > 0:
                n_half -= cfg.n_early_size // 2
                remaining -= cfg.n_early_size
            self.convinv.append(Invertible1x1Conv(remaining))
            self.WN.append(WN(n_half, cfg.n_mel_channels * cfg.n_group, cfg.wn_n_layers, cfg.wn_n_channels,
                              cfg.wn_kernel_size, weight_norm))
        self.n_remaining_channels = remaining

    def _group_spect(self, spect: torch.Tensor, n_samples: int | None) -> torch.Tensor:
        """(B, n_mel, T_frames) -> upsampled and grouped (B, n_mel * n_group, T_samples / n_group)."""
        spect = self.upsample(spect)
        if n_samples is None:
            cutoff = self.upsample.kernel_size[0] - self.upsample.stride[0]  # transposed-conv tail
            spect = spect[:, :, :-cutoff]
        else:
            spect = spect[:, :, :n_samples]
        # (B, C, T) -> (B, C * n_group, T / n_group), grouping n_group consecutive samples (a reshape rather than
        # unfold, which ONNX cannot export with dynamic sizes; the same numbers).
        b, c, t = spect.shape
        t = t // self.n_group * self.n_group
        spect = spect[:, :, :t].reshape(b, c, t // self.n_group, self.n_group).permute(0, 2, 1, 3)
        return spect.reshape(b, t // self.n_group, c * self.n_group).permute(0, 2, 1)

    def _halves(self, audio: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        n_half = audio.size(1) // 2
        if self.cfg.alternate_halves and k % 2 == 1:
            return audio[:, n_half:], audio[:, :n_half]
        return audio[:, :n_half], audio[:, n_half:]

    def _join(self, audio_0: torch.Tensor, audio_1: torch.Tensor, k: int) -> torch.Tensor:
        if self.cfg.alternate_halves and k % 2 == 1:
            return torch.cat([audio_1, audio_0], 1)
        return torch.cat([audio_0, audio_1], 1)

    def forward(self, spect: torch.Tensor, audio: torch.Tensor
                ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        """Training direction: mel (B, n_mel, T) and audio (B, samples) -> (z, log_s list, log_det_W list)."""
        spect = self._group_spect(spect, audio.size(1))
        audio = audio.unfold(1, self.n_group, self.n_group).permute(0, 2, 1)
        outputs, log_s_list, log_det_list = [], [], []
        for k in range(self.n_flows):
            if k % self.n_early_every == 0 and k > 0:
                outputs.append(audio[:, : self.n_early_size])
                audio = audio[:, self.n_early_size:]
            audio, log_det = self.convinv[k](audio)
            log_det_list.append(log_det)
            audio_0, audio_1 = self._halves(audio, k)
            out = self.WN[k](audio_0, spect)
            n_half = audio_0.size(1)
            log_s, b = out[:, n_half:], out[:, :n_half]
            audio = self._join(audio_0, torch.exp(log_s) * audio_1 + b, k)
            log_s_list.append(log_s)
        outputs.append(audio)
        return torch.cat(outputs, 1), log_s_list, log_det_list

    @torch.no_grad()
    def infer(self, spect: torch.Tensor, sigma: float = 0.666, generator: torch.Generator | None = None,
              noise: torch.Tensor | None = None) -> torch.Tensor:
        """mel (B, n_mel, T_frames) -> audio (B, T_frames * hop) in roughly [-1, 1].

        Noise is drawn in the same order as NVIDIA's code, so equal seeds give equal audio. ``noise``
        (B, n_group, T_frames * hop / n_group) gives it explicitly instead: the first ``n_remaining_channels``
        rows start the flow and the following rows are consumed ``n_early_size`` at a time (NVIDIA's ONNX order).
        """
        spect = self._group_spect(spect, None)
        b, _, t = spect.shape
        consumed = 0
        # The WN networks may run in a lower precision (see `set_wn_dtype`); the coupling arithmetic, the noise
        # and the invertible convolutions stay in the input precision.
        wn_dtype = self.wn_dtype
        # An int8 WN quantizes the conditioning once for all flows (Int8WN.prepare_spect); others take a tensor.
        prepare = getattr(self.WN[0], "prepare_spect", None)
        spect_wn = prepare(spect) if prepare is not None else spect.to(wn_dtype)

        def draw(channels: int) -> torch.Tensor:
            nonlocal consumed
            if noise is not None:
                z = noise[:, consumed: consumed + channels, :t]
                consumed += channels
                return z.to(spect.dtype)
            return torch.randn(b, channels, t, device=spect.device, generator=generator).to(spect.dtype)

        audio = sigma * draw(self.n_remaining_channels)
        for k in reversed(range(self.n_flows)):
            audio_0, audio_1 = self._halves(audio, k)
            out = self.WN[k](audio_0.to(wn_dtype), spect_wn).to(audio.dtype)
            n_half = audio_0.size(1)
            s, bias = out[:, n_half:], out[:, :n_half]
            audio = self._join(audio_0, (audio_1 - bias) / torch.exp(s), k)
            audio = self.convinv[k].infer(audio)
            if k % self.n_early_every == 0 and k > 0:
                audio = torch.cat((sigma * draw(self.n_early_size), audio), 1)
        return audio.permute(0, 2, 1).contiguous().view(b, -1)

    @property
    def wn_dtype(self) -> torch.dtype:
        """The precision the WN networks compute in (their first weight's dtype)."""
        wn = self.WN[0]
        return next(itertools.chain(wn.parameters(), wn.buffers())).dtype

    def set_wn_dtype(self, dtype: torch.dtype) -> "WaveGlow":
        """Run the WN (affine coupling) networks in ``dtype`` (e.g. bfloat16 on CPUs with AMX, float16 on GPUs);
        the upsampler and the invertible 1x1 convolutions keep their precision."""
        if self.has_weight_norm:
            self.remove_weightnorm()
        for wn in self.WN:
            wn.to(dtype)
        return self

    def remove_weightnorm(self) -> "WaveGlow":
        """Fold weight norm into plain weights (inference speed); a no-op where it is already removed."""
        for wn in self.WN:
            for module in [wn.start, *wn.in_layers, *wn.cond_layers, *wn.res_skip_layers]:
                if hasattr(module, "weight_g"):
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", FutureWarning)
                        nn.utils.remove_weight_norm(module)
        return self

    @property
    def has_weight_norm(self) -> bool:
        return hasattr(self.WN[0].start, "weight_g")
