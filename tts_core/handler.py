"""TacotronHandler: text in, waveform out, with NVIDIA's checkpoints or the bundled demo voice.

Lifecycle as in a TorchServe handler: ``initialize()`` loads the models once (and warms them up), then each request
goes through ``preprocess`` -> ``inference`` -> ``postprocess``; ``synthesize(text, **options)`` does all three.
One handler instance may serve concurrent threads: no per-request state is kept on it. It is configured by a
:class:`~tts_core.config.HandlerConfig` alone (the service builds one from its settings) and reads no environment;
the precision it runs in is prepared by :mod:`tts_core.precision`.
"""
from __future__ import annotations

import dataclasses
import logging
import pathlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from . import audio as audio_mod
from .checkpoints import LoadedTacotron2, load_waveglow, read_tacotron2
from .config import VOCODERS, HandlerConfig
from .models import AudioConfig, WaveGlow
from .precision import PrecisionError, PreparedModels, prepare_models
from .text import TextError, TextTooLongError, UnspeakableTextError, cmudict, split_sentences, text_to_sequence
from .voices import DEMO_TACOTRON2

log = logging.getLogger("tts_core")

# progress(sentences_done, sentences_total), called as sentences finish; it may raise to stop the synthesis.
ProgressCallback = Callable[[int, int], None]

__all__ = ["Chunk", "HandlerConfig", "InferenceOutput", "ModelNotReadyError", "PreparedText", "SynthesisOptionError",
           "SynthesisResult", "TacotronHandler"]


class SynthesisOptionError(ValueError):
    """An option (sigma, denoiser strength, vocoder) is out of range or unavailable; safe to show to a user."""


class ModelNotReadyError(RuntimeError):
    """No usable checkpoint is configured or it failed to load."""


@dataclass(frozen=True)
class Chunk:
    text: str
    ids: list[int]


@dataclass(frozen=True)
class PreparedText:
    text: str
    chunks: list[Chunk]


@dataclass(frozen=True)
class InferenceOutput:
    """What :meth:`TacotronHandler.inference` returns: one waveform per chunk, before joining."""

    waves: list[torch.Tensor]  # per chunk, (samples,) float
    truncated: bool  # some sentence hit the decoder step limit
    mel_frames: int
    timings: dict[str, float]  # seconds: tacotron2, vocoder, denoiser
    vocoder: str
    sigma: float | None  # WaveGlow only
    denoiser_strength: float | None  # WaveGlow only


@dataclass
class SynthesisResult:
    audio: np.ndarray  # float32 mono in [-1, 1]
    sample_rate: int
    truncated: bool  # some sentence hit the decoder step limit
    timings: dict[str, float]  # seconds: preprocess, tacotron2, vocoder, denoiser, total
    mel_frames: int
    vocoder: str
    voice: str
    sigma: float | None = None
    denoiser_strength: float | None = None
    sentences: int = 1

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate

    @property
    def real_time_factor(self) -> float:
        """Audio seconds produced per second of compute (higher is faster)."""
        return self.duration / max(self.timings.get("total", 0.0), 1e-9)

    def pcm16(self) -> np.ndarray:
        return audio_mod.to_pcm16(self.audio)

    def wav_bytes(self) -> bytes:
        return audio_mod.wav_bytes(self.pcm16(), self.sample_rate)


class TacotronHandler:
    def __init__(self, config: HandlerConfig | None = None) -> None:
        self.config = config or HandlerConfig()
        self.initialized = False
        self.tacotron: LoadedTacotron2 | None = None  # .model is the prepared (precision) model
        self.waveglow: WaveGlow | None = None  # prepared for the precision
        self.models: PreparedModels | None = None
        self.denoiser: audio_mod.Denoiser | None = None
        self.stft: audio_mod.TacotronSTFT | None = None
        self.lexicon: dict[str, str] | None = None  # CMU dictionary, for ARPAbet voices
        self.device = torch.device("cpu")
        self.voice = ""
        self.precision = "fp32"
        self._init_lock = threading.Lock()

    # ------------------------------------------------------------------------------------------ lifecycle
    @property
    def audio_config(self) -> AudioConfig:
        return self.tacotron.audio_config if self.tacotron else AudioConfig()

    @property
    def vocoders(self) -> tuple[str, ...]:
        return VOCODERS if self.waveglow is not None else ("griffinlim",)

    def initialize(self) -> "TacotronHandler":
        with self._init_lock:
            if self.initialized:
                return self
            cfg = self.config
            self.device = torch.device(cfg.device or ("cuda" if torch.cuda.is_available() else "cpu"))
            path = cfg.tacotron2_checkpoint
            if path:
                self.voice = pathlib.Path(path).name
            elif DEMO_TACOTRON2.is_file():
                path, self.voice = str(DEMO_TACOTRON2), "demo (bundled)"
            else:
                raise ModelNotReadyError("no Tacotron2 checkpoint: set TTS_TACOTRON2_CHECKPOINT "
                                         f"(the bundled voice {DEMO_TACOTRON2} is missing)")
            loaded = read_tacotron2(path, self.device)
            waveglow = None
            if cfg.waveglow_checkpoint:
                waveglow = load_waveglow(cfg.waveglow_checkpoint, self.device)
                self.denoiser = audio_mod.Denoiser(waveglow, loaded.audio_config).to(self.device)
            self.stft = audio_mod.TacotronSTFT(loaded.audio_config).to(self.device)
            if loaded.text_frontend == "arpabet":
                try:
                    self.lexicon = cmudict.load(cfg.cmudict_path)
                except cmudict.CMUDictUnavailable as exc:
                    raise ModelNotReadyError(f"this voice reads ARPAbet: {exc}") from exc
            try:
                self.models = prepare_models(loaded.model, waveglow, cfg.precision, self.device, owned=True)
            except PrecisionError as exc:
                raise ModelNotReadyError(str(exc)) from exc
            self.tacotron = dataclasses.replace(loaded, model=self.models.tacotron2)
            self.waveglow = self.models.waveglow
            self.precision = self.models.precision
            if cfg.default_vocoder and cfg.default_vocoder not in self.vocoders:
                raise ModelNotReadyError(f"default vocoder '{cfg.default_vocoder}' is not available")
            log.info("TTS voice active: %s (Tacotron2 %s, text %s, vocoder %s, device %s, precision %s)", self.voice,
                     path, self.tacotron.text_frontend, self.default_vocoder, self.device, self.precision)
            self.initialized = True
        if self.config.warmup:
            self._warmup()
        return self

    def _warmup(self) -> None:
        """Run (and trace) the decoder once, with dropout from the global stream and, for seeded requests, from a
        generator, so the first request of either kind is not the slow one."""
        data = self.preprocess("Hello.")
        with self.models.context():
            self._run_tacotron(data.chunks, max_steps=10)
            self._run_tacotron(data.chunks, max_steps=10, generator=self._generator(0))

    @property
    def default_vocoder(self) -> str:
        return self.config.default_vocoder or ("waveglow" if self.waveglow is not None else "griffinlim")

    # ------------------------------------------------------------------------------------------ stages
    def preprocess(self, text: str) -> PreparedText:
        """Validate and split text; raises :class:`TextError` subclasses with user-safe messages."""
        if not isinstance(text, str):
            raise TextError("text must be a string")
        if len(text) > self.config.max_text_length:
            raise TextTooLongError(f"text is {len(text)} characters; the maximum is {self.config.max_text_length}")
        arpabet = bool(self.tacotron and self.tacotron.text_frontend == "arpabet")
        chunks = []
        for sentence in split_sentences(text):
            try:
                chunks.append(Chunk(sentence, text_to_sequence(sentence, arpabet=arpabet, lexicon=self.lexicon)))
            except UnspeakableTextError:
                continue  # e.g. a sentence of only emoji between two real ones
        if not chunks:
            raise UnspeakableTextError("the text contains nothing an English voice can speak")
        return PreparedText(text, chunks)

    def _run_tacotron(self, chunks: list[Chunk], max_steps: int | None = None,
                      generator: torch.Generator | None = None) -> list[tuple[torch.Tensor, bool]]:
        """Decode chunks in length-sorted batches -> per chunk (mel (n_mel, frames), truncated)."""
        model = self.tacotron.model
        max_steps = max_steps or self.config.max_decoder_steps  # None: the checkpoint's own limit
        order = sorted(range(len(chunks)), key=lambda i: len(chunks[i].ids))
        results: list[tuple[torch.Tensor, bool] | None] = [None] * len(chunks)
        for start in range(0, len(order), self.config.batch_size):
            idx = order[start: start + self.config.batch_size]
            lengths = torch.tensor([len(chunks[i].ids) for i in idx])
            seqs = torch.zeros(len(idx), int(lengths.max()), dtype=torch.long)
            for row, i in enumerate(idx):
                seqs[row, : lengths[row]] = torch.tensor(chunks[i].ids)
            # On CUDA, read the stop flag back every 16 steps instead of every step (no per-step host sync).
            out = model.infer_full(seqs.to(self.device), lengths.to(self.device), max_decoder_steps=max_steps,
                                   stop_check_every=16 if self.device.type == "cuda" else 1, generator=generator)
            mels = out.mel_outputs_postnet.float()
            for row, i in enumerate(idx):
                truncated = bool(out.truncated[row])
                frames = mels.size(2) if truncated else int(out.mel_lengths[row])
                results[i] = (mels[row, :, : max(frames, 1)], truncated)
        return [r for r in results if r is not None]

    def _vocode(self, mel: torch.Tensor, vocoder: str, sigma: float, strength: float,
                timings: dict[str, float], generator: torch.Generator | None) -> torch.Tensor:
        hop = self.audio_config.hop_length
        t0 = time.perf_counter()
        if vocoder == "waveglow":
            wav = self.waveglow.infer(mel.unsqueeze(0).float(), sigma=sigma, generator=generator).float()
            timings["vocoder"] += time.perf_counter() - t0
            t1 = time.perf_counter()
            wav = self.denoiser(wav, strength) if strength > 0 else wav
            timings["denoiser"] += time.perf_counter() - t1
        else:
            wav = audio_mod.griffin_lim(mel.unsqueeze(0).float(), self.stft, self.config.griffin_lim_iters)
            timings["vocoder"] += time.perf_counter() - t0
        return audio_mod.trim_to_frames(wav[0], mel.size(1), hop)

    def check_options(self, sigma: float | None = None, denoiser_strength: float | None = None,
                      vocoder: str | None = None) -> tuple[float, float, str]:
        vocoder = vocoder or self.default_vocoder
        if vocoder not in VOCODERS:
            raise SynthesisOptionError(f"unknown vocoder '{vocoder}'; choose one of {', '.join(VOCODERS)}")
        if vocoder not in self.vocoders:
            raise SynthesisOptionError(f"vocoder '{vocoder}' is not available: no WaveGlow checkpoint is loaded")
        sigma = 0.666 if sigma is None else float(sigma)
        strength = 0.01 if denoiser_strength is None else float(denoiser_strength)
        if not 0.0 <= sigma <= 2.0 or not np.isfinite(sigma):
            raise SynthesisOptionError("sigma must be between 0 and 2")
        if not 0.0 <= strength <= 1.0 or not np.isfinite(strength):
            raise SynthesisOptionError("denoiser_strength must be between 0 and 1")
        return sigma, strength, vocoder

    def _generator(self, seed: int | None) -> torch.Generator | None:
        return None if seed is None else torch.Generator(device=self.device).manual_seed(seed)

    def inference(self, data: PreparedText, sigma: float | None = None, denoiser_strength: float | None = None,
                  vocoder: str | None = None, seed: int | None = None,
                  progress: ProgressCallback | None = None) -> InferenceOutput:
        """Mel spectrograms and waveforms for prepared text. ``seed`` (default: the config's) fixes the prenet
        dropout and the vocoder noise of this request only: the same seed gives the same audio, whatever other
        threads are doing. ``progress`` hears of each sentence once it is vocoded (a batch decodes together)."""
        if not self.initialized:
            self.initialize()
        sigma, strength, vocoder = self.check_options(sigma, denoiser_strength, vocoder)
        seed = self.config.seed if seed is None else seed
        timings = {"tacotron2": 0.0, "vocoder": 0.0, "denoiser": 0.0}
        with self.models.context():
            t0 = time.perf_counter()
            decoded = self._run_tacotron(data.chunks, generator=self._generator(seed))
            timings["tacotron2"] = time.perf_counter() - t0
            noise = self._generator(seed)
            waves = []
            for mel, _ in decoded:
                waves.append(self._vocode(mel, vocoder, sigma, strength, timings, noise))
                if progress is not None:
                    progress(len(waves), len(decoded))
        waveglow = vocoder == "waveglow"
        return InferenceOutput(waves, any(t for _, t in decoded), sum(int(m.size(1)) for m, _ in decoded), timings,
                               vocoder, sigma if waveglow else None, strength if waveglow else None)

    def postprocess(self, output: InferenceOutput) -> SynthesisResult:
        sr = self.audio_config.sampling_rate
        pause = np.zeros(int(self.config.sentence_pause * sr), dtype=np.float32)
        pieces: list[np.ndarray] = []
        for i, wav in enumerate(output.waves):
            if i:
                pieces.append(pause)
            pieces.append(wav.detach().float().cpu().numpy())
        joined = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
        joined = np.nan_to_num(joined, nan=0.0, posinf=0.0, neginf=0.0)
        top = float(np.abs(joined).max()) if joined.size else 0.0
        if top > 1.0:
            joined = joined / top * 0.99  # never wrap around in 16-bit output
        return SynthesisResult(joined.astype(np.float32), sr, output.truncated, dict(output.timings),
                               output.mel_frames, output.vocoder, self.voice, output.sigma,
                               output.denoiser_strength, len(output.waves))

    def synthesize(self, text: str, sigma: float | None = None, denoiser_strength: float | None = None,
                   vocoder: str | None = None, seed: int | None = None,
                   progress: ProgressCallback | None = None) -> SynthesisResult:
        """Text -> :class:`SynthesisResult` (audio samples, sample rate, timings, truncation flag). ``progress``
        (see :meth:`inference`) first hears (0, sentences) once the text is split."""
        if not self.initialized:
            self.initialize()
        t0 = time.perf_counter()
        data = self.preprocess(text)
        if progress is not None:
            progress(0, len(data.chunks))
        t1 = time.perf_counter()
        output = self.inference(data, sigma, denoiser_strength, vocoder, seed, progress)
        result = self.postprocess(output)
        result.timings["preprocess"] = t1 - t0
        result.timings["total"] = time.perf_counter() - t0
        return result
