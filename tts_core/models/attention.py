"""Location-sensitive attention (Chorowski et al.) as used by Tacotron2."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .layers import ConvNorm, LinearNorm


class LocationLayer(nn.Module):
    def __init__(self, n_filters: int, kernel_size: int, attention_dim: int) -> None:
        super().__init__()
        self.location_conv = ConvNorm(2, n_filters, kernel_size=kernel_size, bias=False)
        self.location_dense = LinearNorm(n_filters, attention_dim, bias=False, w_init_gain="tanh")

    def forward(self, weights_cat: torch.Tensor) -> torch.Tensor:
        """(B, 2, T_in) previous + cumulative weights -> (B, T_in, attention_dim)."""
        return self.location_dense(self.location_conv(weights_cat).transpose(1, 2))


class Attention(nn.Module):
    def __init__(self, query_dim: int, memory_dim: int, attention_dim: int,
                 n_filters: int, kernel_size: int) -> None:
        super().__init__()
        self.query_layer = LinearNorm(query_dim, attention_dim, bias=False, w_init_gain="tanh")
        self.memory_layer = LinearNorm(memory_dim, attention_dim, bias=False, w_init_gain="tanh")
        self.v = LinearNorm(attention_dim, 1, bias=False)
        self.location_layer = LocationLayer(n_filters, kernel_size, attention_dim)

    def forward(self, query: torch.Tensor, memory: torch.Tensor, processed_memory: torch.Tensor,
                weights_cat: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """query (B, query_dim); memory (B, T_in, memory_dim); processed_memory (B, T_in, attention_dim);
        weights_cat (B, 2, T_in); mask (B, T_in) True on padding.
        Returns context (B, memory_dim) and weights (B, T_in)."""
        energies = self.v(torch.tanh(
            self.query_layer(query.unsqueeze(1)) + self.location_layer(weights_cat) + processed_memory
        )).squeeze(2)
        if mask is not None:
            energies = energies.masked_fill(mask, float("-inf"))
        weights = F.softmax(energies, dim=1)
        context = torch.bmm(weights.unsqueeze(1), memory).squeeze(1)
        return context, weights
