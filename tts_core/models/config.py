"""Hyper-parameters: one frozen dataclass per model, with NVIDIA's published defaults."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

N_SYMBOLS = 148  # NVIDIA's English symbol table (see tts_core.text.symbols)


@dataclass(frozen=True)
class AudioConfig:
    """STFT / mel settings shared by Tacotron2 targets, WaveGlow conditioning and the vocoders."""

    sampling_rate: int = 22050
    filter_length: int = 1024
    hop_length: int = 256
    win_length: int = 1024
    n_mel_channels: int = 80
    mel_fmin: float = 0.0
    mel_fmax: float = 8000.0
    max_wav_value: float = 32768.0


@dataclass(frozen=True)
class Tacotron2Config:
    n_symbols: int = N_SYMBOLS
    symbols_embedding_dim: int = 512
    encoder_n_convolutions: int = 3
    encoder_kernel_size: int = 5
    encoder_embedding_dim: int = 512
    n_mel_channels: int = 80
    n_frames_per_step: int = 1
    attention_rnn_dim: int = 1024
    decoder_rnn_dim: int = 1024
    prenet_dim: int = 256
    prenet_dropout: float = 0.5  # NVIDIA keeps it on at inference too
    attention_dim: int = 128
    attention_location_n_filters: int = 32
    attention_location_kernel_size: int = 31
    postnet_embedding_dim: int = 512
    postnet_kernel_size: int = 5
    postnet_n_convolutions: int = 5
    p_attention_dropout: float = 0.1
    p_decoder_dropout: float = 0.1
    # Training-only regularisation; NVIDIA hard-codes 0.5. A small model on a deterministic teacher fits better
    # with less (the demo voice recipe sets them lower). Inference never applies them.
    p_encoder_dropout: float = 0.5
    p_postnet_dropout: float = 0.5
    max_decoder_steps: int = 2000
    gate_threshold: float = 0.5
    mask_padding: bool = True

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Tacotron2Config":
        """Build from a dict, ignoring keys that are not ours (DLE configs hold training options too)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class WaveGlowConfig:
    n_mel_channels: int = 80
    n_flows: int = 12
    n_group: int = 8
    n_early_every: int = 4
    n_early_size: int = 2
    wn_n_layers: int = 8
    wn_n_channels: int = 512  # DLE default; NVIDIA/waveglow and NGC's waveglow256pyt use 256
    wn_kernel_size: int = 3
    upsample_kernel: int = 1024  # NVIDIA hard-codes 1024 / 256
    upsample_stride: int = 256
    alternate_halves: bool = False  # legacy glow_old files swap the coupling halves on odd flows

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "WaveGlowConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        data = dict(data)
        wn = data.pop("WN_config", None) or {}
        aliases = {"n_layers": "wn_n_layers", "n_channels": "wn_n_channels", "kernel_size": "wn_kernel_size"}
        for key, value in wn.items():
            data.setdefault(aliases.get(key, key), value)
        for dle_key, ours in (("wn_channels", "wn_n_channels"), ("flows", "n_flows"), ("groups", "n_group"),
                              ("early_every", "n_early_every"), ("early_size", "n_early_size"),
                              ("wn_layers", "wn_n_layers"), ("wn_kernel", "wn_kernel_size")):
            if dle_key in data:
                data.setdefault(ours, data[dle_key])
        return cls(**{k: v for k, v in data.items() if k in names})
