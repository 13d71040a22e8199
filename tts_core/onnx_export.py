"""ONNX export as four graphs (encoder, one decoder iteration, postnet, WaveGlow) with dynamic axes, the layout of
NVIDIA's TensorRT path; :mod:`tts_core.onnx_runtime` loops the decoder in ONNX Runtime.

    python -m tts_core.onnx_export --tacotron2 CKPT [--waveglow CKPT] --out onnx/

The encoder graph runs one utterance at a time (no packed sequences in ONNX); prenet dropout masks are inputs of
the decoder graph, so the runner keeps NVIDIA's dropout at inference and tests can switch it off.
"""
from __future__ import annotations

import argparse
import pathlib

import torch
import torch.nn.functional as F
from torch import nn

from .models import Tacotron2, WaveGlow
from .models.decoder import DecoderState
from .models.fast import fast_decoder

OPSET = 17
STATE_NAMES = ["attention_hidden", "attention_cell", "decoder_hidden", "decoder_cell", "attention_weights",
               "attention_weights_cum", "attention_context"]


class EncoderGraph(nn.Module):
    """sequences (1, T_in) int64 -> memory (1, T_in, enc), processed_memory (1, T_in, att)."""

    def __init__(self, model: Tacotron2) -> None:
        super().__init__()
        self.embedding, self.encoder = model.embedding, model.encoder
        self.memory_layer = model.decoder.attention_layer.memory_layer

    def forward(self, sequences: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.embedding(sequences).transpose(1, 2)
        for conv in self.encoder.convolutions:
            x = F.relu(conv(x))
        memory, _ = self.encoder.lstm(x.transpose(1, 2))
        return memory, self.memory_layer(memory)


class DecoderIterGraph(nn.Module):
    """One decoder step with explicit state (see :class:`tts_core.models.decoder.DecoderState`)."""

    def __init__(self, model: Tacotron2) -> None:
        super().__init__()
        self.decoder = fast_decoder(model.decoder, torch.float32, trace=False)

    def forward(self, decoder_input, attention_hidden, attention_cell, decoder_hidden, decoder_cell,
                attention_weights, attention_weights_cum, attention_context, memory, processed_memory, mask,
                prenet_mask_1, prenet_mask_2):
        x = self.decoder.prenet(decoder_input, masks=(prenet_mask_1, prenet_mask_2))
        state = DecoderState(attention_hidden, attention_cell, decoder_hidden, decoder_cell, attention_weights,
                             attention_weights_cum, attention_context)
        mel, gate, new = self.decoder.step(x, state, memory, processed_memory, mask)
        return (mel, gate, *new)


class PostnetGraph(nn.Module):
    def __init__(self, model: Tacotron2) -> None:
        super().__init__()
        self.postnet = model.postnet

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return mel + self.postnet(mel)


class WaveGlowGraph(nn.Module):
    """mel (B, n_mel, frames) and scaled noise z (B, n_group, frames * hop / n_group) -> audio (B, frames * hop)."""

    def __init__(self, model: WaveGlow) -> None:
        super().__init__()
        self.model = model

    def forward(self, mel: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.model.infer(mel, sigma=1.0, noise=z)


def export_tacotron2(model: Tacotron2, out: pathlib.Path) -> dict[str, pathlib.Path]:
    model = model.eval()
    out.mkdir(parents=True, exist_ok=True)
    cfg = model.cfg
    paths = {name: out / f"{name}.onnx" for name in ("encoder", "decoder_iter", "postnet")}
    t_in = 13
    seq = torch.randint(12, cfg.n_symbols, (1, t_in))
    _export(EncoderGraph(model), (seq,), paths["encoder"], ["sequences"], ["memory", "processed_memory"],
            {"sequences": {1: "text"}, "memory": {1: "text"}, "processed_memory": {1: "text"}})
    with torch.no_grad():
        memory, processed = EncoderGraph(model)(seq)
    state = model.decoder.initial_state(memory)
    masks = [torch.ones(1, cfg.prenet_dim), torch.ones(1, cfg.prenet_dim)]
    args = (torch.zeros(1, cfg.n_mel_channels * cfg.n_frames_per_step), *state, memory, processed,
            torch.zeros(1, t_in, dtype=torch.bool), *masks)
    text_axes = {1: "text"}
    _export(DecoderIterGraph(model), args, paths["decoder_iter"],
            ["decoder_input", *STATE_NAMES, "memory", "processed_memory", "mask", "prenet_mask_1", "prenet_mask_2"],
            ["mel", "gate", *[f"out_{n}" for n in STATE_NAMES]],
            {"memory": text_axes, "processed_memory": text_axes, "mask": text_axes,
             "attention_weights": text_axes, "attention_weights_cum": text_axes,
             "out_attention_weights": text_axes, "out_attention_weights_cum": text_axes})
    _export(PostnetGraph(model), (torch.randn(1, cfg.n_mel_channels, 20),), paths["postnet"], ["mel"],
            ["mel_postnet"], {"mel": {0: "batch", 2: "frames"}, "mel_postnet": {0: "batch", 2: "frames"}})
    return paths


def export_waveglow(model: WaveGlow, out: pathlib.Path) -> pathlib.Path:
    model = model.eval()
    if model.has_weight_norm:
        model.remove_weightnorm()
    for conv in model.convinv:  # ONNX has no matrix inverse: the inverses enter the graph as constants
        conv.inverse_weight()
    out.mkdir(parents=True, exist_ok=True)
    frames = 8
    hop = model.upsample.stride[0]
    mel = torch.randn(1, model.cfg.n_mel_channels, frames)
    z = torch.randn(1, model.n_group, frames * hop // model.n_group)
    path = out / "waveglow.onnx"
    _export(WaveGlowGraph(model), (mel, z), path, ["mel", "z"], ["audio"],
            {"mel": {0: "batch", 2: "frames"}, "z": {0: "batch", 2: "groups"}, "audio": {0: "batch", 1: "samples"}})
    return path


def _export(module: nn.Module, args: tuple, path: pathlib.Path, inputs: list[str], outputs: list[str],
            dynamic_axes: dict) -> None:
    # The wrappers share submodules with the model: export restores the wrapper's training flag recursively
    # afterwards, so it must be eval, or the model's batch-norms would be left in training mode.
    module.eval()
    with torch.no_grad():
        torch.onnx.export(module, args, str(path), input_names=inputs, output_names=outputs,
                          dynamic_axes=dynamic_axes, opset_version=OPSET, dynamo=False)


def main(argv: list[str] | None = None) -> None:
    from .checkpoints import load_tacotron2, load_waveglow

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tacotron2", required=True)
    parser.add_argument("--waveglow")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("onnx"))
    args = parser.parse_args(argv)
    for name, path in export_tacotron2(load_tacotron2(args.tacotron2), args.out).items():
        print(f"{name}: {path}")
    if args.waveglow:
        print(f"waveglow: {export_waveglow(load_waveglow(args.waveglow), args.out)}")


if __name__ == "__main__":
    main()
