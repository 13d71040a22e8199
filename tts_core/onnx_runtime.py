"""Run the exported graphs (:mod:`tts_core.onnx_export`) with ONNX Runtime, looping the decoder in Python."""
from __future__ import annotations

import pathlib
from dataclasses import dataclass

import numpy as np

from .onnx_export import STATE_NAMES


def _session(path: pathlib.Path, providers: list[str] | None):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=providers or ["CPUExecutionProvider"])


@dataclass
class OnnxTacotronOutput:
    mel_postnet: np.ndarray  # (1, n_mel, frames)
    mel_length: int
    alignments: np.ndarray  # (steps, T_in)
    truncated: bool


class OnnxTacotron2:
    def __init__(self, folder: str | pathlib.Path, n_frames_per_step: int = 1, prenet_dropout: float = 0.5,
                 providers: list[str] | None = None) -> None:
        folder = pathlib.Path(folder)
        self.encoder = _session(folder / "encoder.onnx", providers)
        self.decoder = _session(folder / "decoder_iter.onnx", providers)
        self.postnet = _session(folder / "postnet.onnx", providers)
        self.r = n_frames_per_step
        self.prenet_dropout = prenet_dropout
        shapes = {i.name: i.shape for i in self.decoder.get_inputs()}
        self.n_mel_r = shapes["decoder_input"][1]
        self.prenet_dim = shapes["prenet_mask_1"][1]
        self.state_dims = {n: shapes[n][1] for n in STATE_NAMES if n not in ("attention_weights",
                                                                          "attention_weights_cum")}

    def _mask(self, rng: np.random.Generator, p: float) -> np.ndarray:
        if p <= 0:
            return np.ones((1, self.prenet_dim), np.float32)
        return ((rng.random((1, self.prenet_dim)) >= p) / (1 - p)).astype(np.float32)

    def infer(self, sequence: list[int] | np.ndarray, max_decoder_steps: int = 1000, gate_threshold: float = 0.5,
              prenet_dropout: float | None = None, seed: int | None = None) -> OnnxTacotronOutput:
        """One utterance: symbol ids -> mel after the postnet, with NVIDIA's stop rule and length counting."""
        p = self.prenet_dropout if prenet_dropout is None else prenet_dropout
        rng = np.random.default_rng(seed)
        seq = np.asarray(sequence, dtype=np.int64).reshape(1, -1)
        memory, processed = self.encoder.run(None, {"sequences": seq})
        t_in = seq.shape[1]
        state = {n: np.zeros((1, d), np.float32) for n, d in self.state_dims.items()}
        state["attention_weights"] = np.zeros((1, t_in), np.float32)
        state["attention_weights_cum"] = np.zeros((1, t_in), np.float32)
        mask = np.zeros((1, t_in), dtype=bool)
        frame = np.zeros((1, self.n_mel_r), np.float32)
        mels, aligns = [], []
        length, finished = 0, False
        for _ in range(max_decoder_steps):
            outs = self.decoder.run(None, {"decoder_input": frame, **state, "memory": memory,
                                           "processed_memory": processed, "mask": mask,
                                           "prenet_mask_1": self._mask(rng, p), "prenet_mask_2": self._mask(rng, p)})
            mel, gate, new_state = outs[0], outs[1], outs[2:]
            state = dict(zip(STATE_NAMES, new_state))
            mels.append(mel)
            aligns.append(state["attention_weights"][0])
            if 1 / (1 + np.exp(-gate[0, 0])) > gate_threshold:
                finished = True
                break
            length += 1
            frame = mel
        mel = np.concatenate(mels, 0).reshape(1, -1, mel.shape[1] // self.r).transpose(0, 2, 1)
        (mel_post,) = self.postnet.run(None, {"mel": np.ascontiguousarray(mel, dtype=np.float32)})
        return OnnxTacotronOutput(mel_post, length * self.r, np.stack(aligns), not finished)


class OnnxWaveGlow:
    def __init__(self, path: str | pathlib.Path, n_group: int = 8, hop_length: int = 256,
                 providers: list[str] | None = None) -> None:
        self.session = _session(pathlib.Path(path), providers)
        self.n_group, self.hop = n_group, hop_length

    def noise(self, batch: int, frames: int, sigma: float, seed: int | None = None) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return (sigma * rng.standard_normal((batch, self.n_group, frames * self.hop // self.n_group))
                ).astype(np.float32)

    def infer(self, mel: np.ndarray, sigma: float = 0.666, z: np.ndarray | None = None,
              seed: int | None = None) -> np.ndarray:
        mel = np.ascontiguousarray(mel, dtype=np.float32)
        if z is None:
            z = self.noise(mel.shape[0], mel.shape[2], sigma, seed)
        (audio,) = self.session.run(None, {"mel": mel, "z": z})
        return audio
