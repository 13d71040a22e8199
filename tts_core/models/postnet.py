"""Postnet: 5 x conv (512 channels, kernel 5) + batch-norm, tanh on all but the last."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import Tacotron2Config
from .layers import ConvNorm


class Postnet(nn.Module):
    def __init__(self, cfg: Tacotron2Config) -> None:
        super().__init__()
        n = cfg.postnet_n_convolutions
        self.p_dropout = cfg.p_postnet_dropout
        dims = [cfg.n_mel_channels] + [cfg.postnet_embedding_dim] * (n - 1) + [cfg.n_mel_channels]
        self.convolutions = nn.ModuleList(
            nn.Sequential(
                ConvNorm(dims[i], dims[i + 1], kernel_size=cfg.postnet_kernel_size,
                         w_init_gain="tanh" if i < n - 1 else "linear"),
                nn.BatchNorm1d(dims[i + 1]),
            )
            for i in range(n)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, n_mel, T) -> residual (B, n_mel, T)."""
        last = len(self.convolutions) - 1
        for i, conv in enumerate(self.convolutions):
            x = conv(x)
            if i < last:
                x = torch.tanh(x)
            x = F.dropout(x, self.p_dropout, self.training)
        return x
