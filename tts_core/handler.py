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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import torch

from . import audio as audio_mod
from .batching import ModelOwner
from .checkpoints import LoadedTacotron2, load_waveglow, read_tacotron2
from .config import VOCODERS, HandlerConfig
from .errors import ModelNotReadyError, SynthesisOptionError
from .models import AudioConfig, WaveGlow
from .precision import PrecisionError, PreparedModels, prepare_models
from .text import (
    TextError,
    TextTooLongError,
    UnspeakableTextError,
    clean_text,
    cmudict,
    split_sentences,
    terminate,
    text_to_sequence,
)
from .results import AudioChunk, SynthesisResult, WordTiming
from .timing import label_words, word_spans, word_timings
from .voices import DEMO_TACOTRON2

log = logging.getLogger("tts_core")
T = TypeVar("T")

# progress(sentences_done, sentences_total), called as sentences finish; it may raise to stop the synthesis.
ProgressCallback = Callable[[int, int], None]

__all__ = ["AudioChunk", "Chunk", "HandlerConfig", "InferenceOutput", "ModelNotReadyError", "PreparedText",
           "SynthesisOptionError", "SynthesisResult", "TacotronHandler", "WordTiming"]

SPEED_RANGE = (0.25, 4.0)


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
    words: list[list[WordTiming]] = field(default_factory=list)  # per chunk, from the chunk's start


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
        self.owner: ModelOwner | None = None  # with dynamic batching: the thread that runs all model work
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
                self.models = prepare_models(loaded.model, waveglow, cfg.precision, self.device, owned=True,
                                             cuda_graphs=cfg.cuda_graphs)
            except PrecisionError as exc:
                raise ModelNotReadyError(str(exc)) from exc
            self.tacotron = dataclasses.replace(loaded, model=self.models.tacotron2)
            self.waveglow = self.models.waveglow
            self.precision = self.models.precision
            if cfg.default_vocoder and cfg.default_vocoder not in self.vocoders:
                raise ModelNotReadyError(f"default vocoder '{cfg.default_vocoder}' is not available")
            log.info("TTS voice active: %s (Tacotron2 %s, text %s, vocoder %s, device %s, precision %s)", self.voice,
                     path, self.tacotron.text_frontend, self.default_vocoder, self.device, self.precision)
            if cfg.dynamic_batch_size > 1:
                self.owner = ModelOwner(self._decode_now, cfg.dynamic_batch_size, cfg.dynamic_batch_wait_ms / 1000)
            self.initialized = True
        if self.config.warmup:
            try:
                self._on_owner(self._warmup)
            except BaseException:
                if self.owner is not None:
                    self.owner.close()  # the caller drops this handler: its thread must not keep the models alive
                raise
        return self

    def _on_owner(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run model work on the owner thread with dynamic batching, else right here."""
        if self.owner is None:
            return fn(*args, **kwargs)
        return self.owner.call(fn, *args, **kwargs)

    def _decode_now(self, chunks: list[Chunk], max_steps: int | None = None,
                    generator: torch.Generator | None = None) -> list[tuple[torch.Tensor, bool, torch.Tensor]]:
        with self.models.context():
            return self._run_tacotron(chunks, max_steps=max_steps, generator=generator)

    def _decode(self, chunks: list[Chunk], generator: torch.Generator | None
                ) -> list[tuple[torch.Tensor, bool, torch.Tensor]]:
        """Decode one request's sentences: batched with other requests' where dynamic batching is on, except for a
        seeded request (its dropout draws are its own: alone, they give the same audio as without batching)."""
        if self.owner is None or generator is not None:
            return self._on_owner(self._decode_now, chunks, None, generator)
        return self.owner.decode(chunks, key=None)

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
            sentence = terminate(sentence)  # a sentence without an end mark would not stop
            try:
                chunks.append(Chunk(sentence, text_to_sequence(sentence, arpabet=arpabet, lexicon=self.lexicon)))
            except UnspeakableTextError:
                continue  # e.g. a sentence of only emoji between two real ones
        if not chunks:
            raise UnspeakableTextError("the text contains nothing an English voice can speak")
        return PreparedText(text, chunks)

    def _run_tacotron(self, chunks: list[Chunk], max_steps: int | None = None,
                      generator: torch.Generator | None = None) -> list[tuple[torch.Tensor, bool, torch.Tensor]]:
        """Decode chunks as one batch -> per chunk (mel (n_mel, frames), truncated, alignment (steps, symbols))."""
        model = self.tacotron.model
        max_steps = max_steps or self.config.max_decoder_steps  # None: the checkpoint's own limit
        lengths = torch.tensor([len(c.ids) for c in chunks])
        seqs = torch.zeros(len(chunks), int(lengths.max()), dtype=torch.long)
        for row, chunk in enumerate(chunks):
            seqs[row, : lengths[row]] = torch.tensor(chunk.ids)
        # On CUDA, read the stop flag back every 16 steps instead of every step (no per-step host sync).
        out = model.infer_full(seqs.to(self.device), lengths.to(self.device), max_decoder_steps=max_steps,
                               stop_check_every=16 if self.device.type == "cuda" else 1, generator=generator)
        mels = out.mel_outputs_postnet.float()
        r = max(1, mels.size(2) // max(1, out.alignments.size(1)))  # frames per decoder step
        results = []
        for row, chunk in enumerate(chunks):
            truncated = bool(out.truncated[row])
            frames = max(mels.size(2) if truncated else int(out.mel_lengths[row]), 1)
            steps = max(1, -(-frames // r))
            results.append((mels[row, :, :frames], truncated, out.alignments[row, :steps, : len(chunk.ids)]))
        return results

    def _plan(self, chunks: list[Chunk], first_alone: bool) -> list[list[int]]:
        """Which sentences decode together. For a whole result, length-sorted batches (least padding); for a stream,
        in order with the first sentence alone, so that the first audio waits for one sentence only."""
        size = self.config.batch_size
        if first_alone:
            order = list(range(len(chunks)))
            return [order[:1]] + [order[i: i + size] for i in range(1, len(order), size)]
        order = sorted(range(len(chunks)), key=lambda i: len(chunks[i].ids))
        return [order[i: i + size] for i in range(0, len(order), size)]

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

    def _vocode_now(self, *args: Any) -> torch.Tensor:
        with self.models.context():
            return self._vocode(*args)

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

    def _sentences(self, data: PreparedText, vocoder: str, sigma: float, strength: float, seed: int | None,
                   speed: float, first_alone: bool, timings: dict[str, float],
                   progress: ProgressCallback | None) -> Iterator[tuple[torch.Tensor, bool, int, list[WordTiming]]]:
        """Per sentence, in the text's order: (waveform, truncated, mel frames, word timings from its start).
        Sentences are vocoded in the text's order whatever the plan, so the vocoder noise of a seed is the same; the
        decoder's dropout draws follow the batches, so a seed gives the same audio for the same plan (a stream and a
        whole synthesis of one seeded text may differ)."""
        decoder_noise, vocoder_noise = self._generator(seed), self._generator(seed)
        hop, sr = self.audio_config.hop_length, self.audio_config.sampling_rate
        decoded: dict[int, tuple[torch.Tensor, bool, torch.Tensor]] = {}
        plan, total, next_index = self._plan(data.chunks, first_alone), len(data.chunks), 0
        for group in plan:
            t0 = time.perf_counter()
            for i, out in zip(group, self._decode([data.chunks[i] for i in group], decoder_noise)):
                decoded[i] = out
            timings["tacotron2"] += time.perf_counter() - t0
            while next_index in decoded:
                mel, truncated, alignment = decoded.pop(next_index)
                frames = mel.size(1)
                mel = audio_mod.time_scale_mel(mel, speed)
                wav = self._on_owner(self._vocode_now, mel, vocoder, sigma, strength, timings, vocoder_noise)
                chunk = data.chunks[next_index]
                spans = word_spans(chunk.ids)
                if self.tacotron.text_frontend == "arpabet":
                    spans = label_words(spans, _cleaned_words(chunk.text))
                step_seconds = frames / max(1, alignment.size(0)) * hop / sr / speed
                words = word_timings(alignment, spans, step_seconds, len(wav) / sr)
                next_index += 1
                if progress is not None:
                    progress(next_index, total)
                yield wav, truncated, frames, words

    def check_speed(self, speed: float | None) -> float:
        speed = 1.0 if speed is None else float(speed)
        if not np.isfinite(speed) or not SPEED_RANGE[0] <= speed <= SPEED_RANGE[1]:
            raise SynthesisOptionError(f"speed must be between {SPEED_RANGE[0]} and {SPEED_RANGE[1]}")
        return speed

    def inference(self, data: PreparedText, sigma: float | None = None, denoiser_strength: float | None = None,
                  vocoder: str | None = None, seed: int | None = None,
                  progress: ProgressCallback | None = None, speed: float | None = None) -> InferenceOutput:
        """Mel spectrograms and waveforms for prepared text. ``seed`` (default: the config's) fixes the prenet
        dropout and the vocoder noise of this request only: the same seed gives the same audio, whatever other
        threads are doing. ``progress`` hears of each sentence once it is vocoded. ``speed`` scales the mel frames
        in time before vocoding (duration / speed, the same pitch)."""
        if not self.initialized:
            self.initialize()
        sigma, strength, vocoder = self.check_options(sigma, denoiser_strength, vocoder)
        speed = self.check_speed(speed)
        seed = self.config.seed if seed is None else seed
        timings = {"tacotron2": 0.0, "vocoder": 0.0, "denoiser": 0.0}
        waves, words, truncated, frames = [], [], False, 0
        for wav, cut, n, timed in self._sentences(data, vocoder, sigma, strength, seed, speed, False, timings,
                                                  progress):
            waves.append(wav)
            words.append(timed)
            truncated, frames = truncated or cut, frames + n
        waveglow = vocoder == "waveglow"
        return InferenceOutput(waves, truncated, frames, timings, vocoder, sigma if waveglow else None,
                               strength if waveglow else None, words)

    def stream(self, text: str, sigma: float | None = None, denoiser_strength: float | None = None,
               vocoder: str | None = None, seed: int | None = None, speed: float | None = None,
               progress: ProgressCallback | None = None, low_latency: bool = True) -> "SpeechStream":
        """Text -> a :class:`SpeechStream`: iterate it for an :class:`AudioChunk` per sentence, each as soon as it
        is vocoded, then ask it for the whole :class:`SynthesisResult`. ``low_latency``: the first sentence decodes
        alone (the first audio waits for one sentence); otherwise length-sorted batches (throughput). Options and
        errors as :meth:`synthesize`; they are checked here, before any audio is made. A chunk louder than full
        scale is scaled down on its own (a stream cannot wait for the loudest sentence)."""
        if not self.initialized:
            self.initialize()
        t0 = time.perf_counter()
        data = self.preprocess(text)
        sigma, strength, vocoder = self.check_options(sigma, denoiser_strength, vocoder)
        speed = self.check_speed(speed)
        seed = self.config.seed if seed is None else seed
        preprocess = time.perf_counter() - t0
        if progress is not None:
            progress(0, len(data.chunks))
        waveglow = vocoder == "waveglow"
        return SpeechStream(self, data, vocoder, sigma if waveglow else None, strength if waveglow else None,
                            self._chunks(data, vocoder, sigma, strength, seed, speed, low_latency, progress),
                            speed, t0, preprocess)

    def _chunks(self, data, vocoder, sigma, strength, seed, speed, low_latency,
                progress) -> Iterator[tuple[AudioChunk, dict[str, float]]]:
        sr = self.audio_config.sampling_rate
        pause = np.zeros(int(self.config.sentence_pause / speed * sr), dtype=np.float32)
        timings = {"tacotron2": 0.0, "vocoder": 0.0, "denoiser": 0.0}
        total = len(data.chunks)
        for i, (wav, truncated, frames, words) in enumerate(
                self._sentences(data, vocoder, sigma, strength, seed, speed, low_latency, timings, progress)):
            samples = _finite(wav.detach().float().cpu().numpy())
            top = float(np.abs(samples).max()) if samples.size else 0.0
            if top > 1.0:
                samples = samples / top * 0.99  # never wrap around in 16-bit output
            lead = pause if i else pause[:0]
            offset = len(lead) / sr
            yield AudioChunk(i, total, np.concatenate([lead, samples]).astype(np.float32), sr,
                             [w.shifted(offset) for w in words], truncated, frames), timings

    def postprocess(self, output: InferenceOutput, speed: float = 1.0) -> SynthesisResult:
        sr = self.audio_config.sampling_rate
        pause = np.zeros(int(self.config.sentence_pause / speed * sr), dtype=np.float32)
        pieces: list[np.ndarray] = []
        words: list[WordTiming] = []
        offset = 0
        for i, wav in enumerate(output.waves):
            if i:
                pieces.append(pause)
                offset += len(pause)
            pieces.append(wav.detach().float().cpu().numpy())
            if i < len(output.words):
                words += [w.shifted(offset / sr) for w in output.words[i]]
            offset += len(pieces[-1])
        joined = _finite(np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32))
        top = float(np.abs(joined).max()) if joined.size else 0.0
        if top > 1.0:
            joined = joined / top * 0.99  # never wrap around in 16-bit output
        return SynthesisResult(joined.astype(np.float32), sr, output.truncated, dict(output.timings),
                               output.mel_frames, output.vocoder, self.voice, output.sigma,
                               output.denoiser_strength, len(output.waves), words, speed)

    def synthesize(self, text: str, sigma: float | None = None, denoiser_strength: float | None = None,
                   vocoder: str | None = None, seed: int | None = None,
                   progress: ProgressCallback | None = None, speed: float | None = None) -> SynthesisResult:
        """Text -> :class:`SynthesisResult` (audio samples, sample rate, timings, truncation flag, word timings):
        the whole :meth:`stream`, collected. ``progress`` first hears (0, sentences) once the text is split, then
        of each sentence once it is vocoded (it may raise to stop); ``speed`` (0.25-4) divides the duration, pauses
        included, at the same pitch."""
        return self.stream(text, sigma, denoiser_strength, vocoder, seed, speed, progress, low_latency=False).result()


class SpeechStream:
    """One synthesis as it happens: iterate for its :class:`AudioChunk` s (once), then :meth:`result` for all of
    it (the chunks not iterated yet are made first)."""

    def __init__(self, handler: TacotronHandler, data: PreparedText, vocoder: str, sigma: float | None,
                 denoiser_strength: float | None, chunks: Iterator, speed: float, t0: float, preprocess: float):
        self._handler, self._chunks, self._made = handler, chunks, []
        self.vocoder, self.sigma, self.denoiser_strength, self.speed = vocoder, sigma, denoiser_strength, speed
        self.sentences = len(data.chunks)
        self.sample_rate = handler.audio_config.sampling_rate
        self._t0, self._preprocess, self._timings, self._end = t0, preprocess, {}, None

    def __iter__(self) -> Iterator[AudioChunk]:
        for chunk, timings in self._chunks:
            self._made.append(chunk)
            self._timings = timings
            yield chunk
        self._end = time.perf_counter()

    def close(self) -> None:
        """Stop making audio (a client that went away)."""
        self._chunks.close()

    def result(self) -> SynthesisResult:
        for _ in self:
            pass
        made = self._made
        audio = np.concatenate([c.audio for c in made]) if made else np.zeros(0, dtype=np.float32)
        words, offset = [], 0.0
        for c in made:
            words += [w.shifted(offset) for w in c.words]
            offset += c.duration
        end = self._end or time.perf_counter()
        timings = {**self._timings, "preprocess": self._preprocess, "total": end - self._t0}
        return SynthesisResult(audio, self.sample_rate, any(c.truncated for c in made), timings,
                               sum(c.mel_frames for c in made), self.vocoder, self._handler.voice, self.sigma,
                               self.denoiser_strength, len(made), words, self.speed)


def _finite(samples: np.ndarray) -> np.ndarray:
    return np.nan_to_num(samples, nan=0.0, posinf=0.0, neginf=0.0)


def _cleaned_words(text: str) -> list[str]:
    try:
        return clean_text(text).split()
    except TextError:
        return []
