"""Linear and 1-d convolution wrappers whose parameter names match NVIDIA's (``linear_layer``, ``conv``)."""
from __future__ import annotations

import torch
from torch import nn


class LinearNorm(nn.Module):
    """nn.Linear with Xavier-uniform initialisation; weight lives at ``linear_layer.weight``."""

    def __init__(self, in_dim: int, out_dim: int, bias: bool = True, w_init_gain: str = "linear") -> None:
        super().__init__()
        self.linear_layer = nn.Linear(in_dim, out_dim, bias=bias)
        nn.init.xavier_uniform_(self.linear_layer.weight, gain=nn.init.calculate_gain(w_init_gain))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear_layer(x)


class ConvNorm(nn.Module):
    """nn.Conv1d with 'same' padding for odd kernels and Xavier-uniform initialisation; weight at ``conv.weight``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1, stride: int = 1,
                 padding: int | None = None, dilation: int = 1, bias: bool = True,
                 w_init_gain: str = "linear") -> None:
        super().__init__()
        if padding is None:
            if kernel_size % 2 != 1:
                raise ValueError("ConvNorm needs an odd kernel size for 'same' padding")
            padding = dilation * (kernel_size - 1) // 2
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size=kernel_size, stride=stride,
                              padding=padding, dilation=dilation, bias=bias)
        nn.init.xavier_uniform_(self.conv.weight, gain=nn.init.calculate_gain(w_init_gain))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


def sequence_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """(B,) lengths -> (B, max_len) bool mask, True on the valid positions (the one mask helper of the package)."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]
