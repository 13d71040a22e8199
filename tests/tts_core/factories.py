"""Small random-weight models and checkpoints in every real format, for fast tests."""
from __future__ import annotations

import pathlib

import torch

from tts_core.models import AudioConfig, Tacotron2, Tacotron2Config, WaveGlow, WaveGlowConfig
from tts_core.checkpoints import write_tacotron2

TINY_TACOTRON = Tacotron2Config(
    symbols_embedding_dim=32, encoder_embedding_dim=32, attention_rnn_dim=48, decoder_rnn_dim=48, prenet_dim=16,
    attention_dim=16, attention_location_n_filters=4, attention_location_kernel_size=7, postnet_embedding_dim=16,
    max_decoder_steps=40,
)
TINY_WAVEGLOW = WaveGlowConfig(n_flows=4, n_early_every=2, wn_n_layers=2, wn_n_channels=16)


def tiny_tacotron(**overrides) -> Tacotron2:
    import dataclasses

    torch.manual_seed(1)
    return Tacotron2(dataclasses.replace(TINY_TACOTRON, **overrides)).eval()


def tiny_waveglow(weight_norm: bool = True, **overrides) -> WaveGlow:
    import dataclasses

    torch.manual_seed(2)
    model = WaveGlow(dataclasses.replace(TINY_WAVEGLOW, **overrides), weight_norm=weight_norm)
    # `end` starts at zero (identity couplings); give it weights so tests exercise every layer.
    for wn in model.WN:
        torch.nn.init.normal_(wn.end.weight, std=0.05)
        torch.nn.init.normal_(wn.end.bias, std=0.05)
    return model.eval()


def save_our_tacotron(path: pathlib.Path, model: Tacotron2, text_frontend: str = "characters") -> pathlib.Path:
    write_tacotron2(path, state_dict=model.state_dict(), config=model.cfg, audio_config=AudioConfig(),
                    text_frontend=text_frontend, iteration=7)
    return path
