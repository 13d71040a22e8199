"""Tacotron2 encoder: 3 x (conv 5 + batch-norm + ReLU) then a bidirectional LSTM."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import Tacotron2Config
from .layers import ConvNorm, sequence_mask


class Encoder(nn.Module):
    def __init__(self, cfg: Tacotron2Config) -> None:
        super().__init__()
        dim = cfg.encoder_embedding_dim
        self.p_dropout = cfg.p_encoder_dropout
        in_dims = [cfg.symbols_embedding_dim] + [dim] * (cfg.encoder_n_convolutions - 1)
        self.convolutions = nn.ModuleList(
            nn.Sequential(
                ConvNorm(in_dim, dim, kernel_size=cfg.encoder_kernel_size, w_init_gain="relu"),
                nn.BatchNorm1d(dim),
            )
            for in_dim in in_dims
        )
        self.lstm = nn.LSTM(dim, dim // 2, num_layers=1, batch_first=True, bidirectional=True)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """x: (B, embedding_dim, T_in) embedded symbols; lengths: (B,) -> (B, T_in, encoder_dim).

        Padded positions are zeroed before every convolution, so a padded utterance in a batch gets exactly the
        result it gets alone (NVIDIA's encoder lets the padding embedding leak into the last positions).
        """
        keep = sequence_mask(lengths.to(x.device), x.size(2)).unsqueeze(1)
        for conv in self.convolutions:
            x = F.dropout(F.relu(conv(x * keep)), self.p_dropout, self.training)
        x = x.transpose(1, 2)
        total = x.size(1)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        outputs, _ = self.lstm(packed)
        outputs, _ = nn.utils.rnn.pad_packed_sequence(outputs, batch_first=True, total_length=total)
        return outputs
