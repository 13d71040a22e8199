"""Audio front and back end: NVIDIA-identical STFT / mel features, Griffin-Lim, WaveGlow denoiser, PCM and WAV.

The mel filterbank reproduces ``librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax)`` (Slaney scale and area
normalisation, librosa's defaults) without importing librosa; a test compares the two when librosa is installed.
"""
from __future__ import annotations

import io
import math
import wave
from typing import BinaryIO

import numpy as np
import torch

from .models.config import AudioConfig

LOG_CLAMP = 1e-5  # NVIDIA's dynamic range compression floor: log(1e-5) ~ -11.51 is the mel "silence" value


# --------------------------------------------------------------------------------------------------- mel basis
def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    f = np.asanyarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, mels)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asanyarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    freqs = f_sp * m
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), freqs)


def mel_basis(sampling_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None) -> np.ndarray:
    """(n_mels, 1 + n_fft // 2) float32 triangular filters on the Slaney mel scale with area normalisation."""
    fmax = sampling_rate / 2.0 if fmax is None else fmax
    fft_freqs = np.linspace(0, sampling_rate / 2.0, 1 + n_fft // 2)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fft_freqs)
    weights = np.zeros((n_mels, 1 + n_fft // 2), dtype=np.float32)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2: n_mels + 2] - mel_f[:n_mels])
    weights *= enorm[:, np.newaxis]
    return weights


# --------------------------------------------------------------------------------------------------- STFT
class TacotronSTFT(torch.nn.Module):
    """Magnitude STFT (Hann window, centre reflect padding) and log-mel features as in NVIDIA's TacotronSTFT."""

    def __init__(self, cfg: AudioConfig | None = None) -> None:
        super().__init__()
        cfg = cfg or AudioConfig()
        self.cfg = cfg
        basis = mel_basis(cfg.sampling_rate, cfg.filter_length, cfg.n_mel_channels, cfg.mel_fmin, cfg.mel_fmax)
        self.register_buffer("mel_basis", torch.from_numpy(basis), persistent=False)
        # Computed once: every Griffin-Lim call needs it.
        self.register_buffer("mel_basis_pinv", torch.linalg.pinv(self.mel_basis), persistent=False)
        self.register_buffer("window", torch.hann_window(cfg.win_length, periodic=True), persistent=False)
        # the window centred in n_fft samples, as torch.istft pads a shorter one; and the inverse STFT's
        # overlap-added squared window per frame count (Griffin-Lim asks for the same one every iteration)
        left = (cfg.filter_length - cfg.win_length) // 2
        self.register_buffer("full_window", torch.nn.functional.pad(
            self.window, (left, cfg.filter_length - cfg.win_length - left)), persistent=False)
        self._envelopes: dict[tuple[int, torch.device], torch.Tensor] = {}

    def stft(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, T) -> complex (B, 1 + n_fft // 2, frames)."""
        c = self.cfg
        return torch.stft(audio.float(), c.filter_length, c.hop_length, c.win_length, window=self.window,
                          center=True, pad_mode="reflect", return_complex=True)

    def istft(self, spec: torch.Tensor, length: int | None = None) -> torch.Tensor:
        """Complex (B, 1 + n_fft // 2, frames) -> (B, length) audio: torch.istft's result (center=True), computed
        as an inverse real FFT and an overlap-add of hop-sized blocks with the window envelope cached per length.
        Why our own: Griffin-Lim calls it every iteration, and torch.istft rebuilds the envelope each call."""
        c = self.cfg
        n_fft, hop = c.filter_length, c.hop_length
        if n_fft % hop:
            return torch.istft(spec, n_fft, hop, c.win_length, window=self.window, center=True, length=length)
        frames = spec.size(-1)
        blocks = torch.fft.irfft(spec, n=n_fft, dim=-2) * self.full_window[:, None]  # (B, n_fft, frames)
        out = self._overlap_add(blocks)
        envelope = self._envelope(frames, out.device)
        start = n_fft // 2
        end = start + length if length is not None else out.size(-1) - n_fft // 2
        if end > out.size(-1):  # torch.istft pads with zeros past the last frame
            out = torch.nn.functional.pad(out, (0, end - out.size(-1)))
            envelope = torch.nn.functional.pad(envelope, (0, end - envelope.size(-1)), value=1.0)
        return out[..., start:end] / envelope[start:end]

    def _overlap_add(self, blocks: torch.Tensor) -> torch.Tensor:
        n_fft, hop = self.cfg.filter_length, self.cfg.hop_length
        k, frames = n_fft // hop, blocks.size(-1)
        pieces = blocks.reshape(*blocks.shape[:-2], k, hop, frames).transpose(-1, -2)  # (B, k, frames, hop)
        out = blocks.new_zeros(*blocks.shape[:-2], frames + k - 1, hop)
        for j in range(k):
            out[..., j:j + frames, :] += pieces[..., j, :, :]
        return out.flatten(-2)

    def _envelope(self, frames: int, device: torch.device) -> torch.Tensor:
        key, cache = (frames, device), self._envelopes
        if key not in cache:
            if len(cache) > 64:
                cache.clear()
            square = (self.full_window ** 2).to(device)[:, None].expand(-1, frames)
            envelope = self._overlap_add(square)
            inner = envelope[self.cfg.filter_length // 2: -(self.cfg.filter_length // 2) or None]
            if inner.numel() and inner.min() < 1e-11:
                raise ValueError("window overlap-add is zero somewhere: not invertible")
            cache[key] = envelope.clamp(min=1e-11)
        return cache[key]

    def magnitude(self, audio: torch.Tensor) -> torch.Tensor:
        return self.stft(audio).abs()

    def mel_spectrogram(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, T) float audio in [-1, 1] -> (B, n_mel, 1 + T // hop) natural-log mel magnitudes."""
        if audio.numel() and (audio.min() < -1 or audio.max() > 1):
            raise ValueError("audio must be float in [-1, 1]")
        return dynamic_range_compression(torch.matmul(self.mel_basis, self.magnitude(audio)))

    def mel_to_linear(self, mel: torch.Tensor) -> torch.Tensor:
        """Approximate linear magnitudes from log-mel (non-negative least squares by pseudo-inverse + clamp)."""
        return torch.clamp(torch.matmul(self.mel_basis_pinv, dynamic_range_decompression(mel.float())), min=1e-10)


def dynamic_range_compression(x: torch.Tensor, clip_val: float = LOG_CLAMP) -> torch.Tensor:
    return torch.log(torch.clamp(x, min=clip_val))


def dynamic_range_decompression(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(x)


# --------------------------------------------------------------------------------------------------- vocoders
def griffin_lim(mel: torch.Tensor, stft: TacotronSTFT, n_iters: int = 60, power: float = 1.3,
                momentum: float = 0.99, seed: int = 0) -> torch.Tensor:
    """Invert (B, n_mel, frames) log-mel to (B, frames * hop) audio with fast Griffin-Lim (Perraudin et al.).

    ``power`` > 1 sharpens the magnitudes, which reduces the phasey sound; the seed makes output deterministic.
    """
    frames = mel.size(-1)
    # One silent frame more gives frames x hop samples (as WaveGlow); short inputs get enough padding for the
    # STFT's reflect padding (n_fft / 2 samples).
    target = max(frames + 1, stft.cfg.filter_length // stft.cfg.hop_length + 2)
    mel = torch.nn.functional.pad(mel, (0, target - frames), value=math.log(LOG_CLAMP))
    magnitude = stft.mel_to_linear(mel) ** power
    # frequency-contiguous, the layout torch.stft returns: every tensor of the loop keeps it, and the FFTs along
    # the frequency axis run on contiguous memory (about 10% faster per iteration)
    magnitude = magnitude.transpose(-1, -2).contiguous().transpose(-1, -2)
    length = (mel.size(-1) - 1) * stft.cfg.hop_length
    gen = torch.Generator(device="cpu").manual_seed(seed)
    angles = torch.exp(2j * math.pi * torch.rand(magnitude.shape, generator=gen)).to(magnitude.device)
    spec = magnitude * angles
    previous = torch.zeros_like(spec)
    for _ in range(n_iters):
        rebuilt = stft.stft(stft.istft(spec, length))
        accelerated = torch.add(rebuilt, previous, alpha=-(momentum / (1 + momentum)))
        previous = rebuilt
        spec = magnitude * torch.sgn(accelerated)  # the phase of each bin: z / |z| (0 where z is 0), one kernel
    audio = stft.istft(spec, length)[..., : frames * stft.cfg.hop_length]
    return audio / audio.abs().amax(dim=-1, keepdim=True).clamp(min=1e-8) * 0.95


class Denoiser(torch.nn.Module):
    """Removes WaveGlow's constant bias: subtracts ``strength`` x the spectrum WaveGlow makes from a zero mel."""

    def __init__(self, waveglow: torch.nn.Module, cfg: AudioConfig | None = None, frames: int = 88) -> None:
        super().__init__()
        cfg = cfg or AudioConfig()
        self.stft = TacotronSTFT(cfg)
        param = next(waveglow.parameters())
        mel = torch.zeros((1, cfg.n_mel_channels, frames), dtype=param.dtype, device=param.device)
        with torch.no_grad():
            bias_audio = waveglow.infer(mel, sigma=0.0).float()
        self.stft.to(param.device)
        bias_spec = self.stft.magnitude(bias_audio)[:, :, 0:1]
        self.register_buffer("bias_spec", bias_spec)

    @torch.no_grad()
    def forward(self, audio: torch.Tensor, strength: float = 0.01) -> torch.Tensor:
        """(B, T) -> (B, T) denoised; strength 0 returns the input unchanged."""
        if strength <= 0:
            return audio
        n = audio.size(-1)
        padded = torch.nn.functional.pad(audio.float(), (0, max(0, self.stft.cfg.filter_length - n)))
        spec = self.stft.stft(padded)
        magnitude = torch.clamp(spec.abs() - self.bias_spec * strength, min=0.0)
        out = self.stft.istft(torch.polar(magnitude, spec.angle()), padded.size(-1))
        return out[..., :n].to(audio.dtype)


# --------------------------------------------------------------------------------------------------- output
def trim_to_frames(audio: torch.Tensor, n_frames: int, hop_length: int) -> torch.Tensor:
    """Keep the samples that belong to the first ``n_frames`` mel frames (DLE trims to mel_length x hop)."""
    return audio[..., : max(0, n_frames) * hop_length]


def to_pcm16(audio: np.ndarray | torch.Tensor, normalize: bool = False, peak: float = 0.95) -> np.ndarray:
    """Float audio -> int16 without wrap-around: NaN/inf become 0, loud audio is scaled down instead of clipped.

    With ``normalize`` the peak is set to ``peak`` (full scale = 1.0) whatever the input level.
    """
    if isinstance(audio, torch.Tensor):
        audio = audio.detach().float().cpu().numpy()
    x = np.nan_to_num(np.asarray(audio, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    top = float(np.abs(x).max()) if x.size else 0.0
    if top > 0 and (normalize or top > 1.0):
        x = x * (peak / top)
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)


def write_wav(target: str | BinaryIO, pcm: np.ndarray, sampling_rate: int) -> None:
    """Write mono 16-bit PCM to a path or binary file object."""
    pcm = np.asarray(pcm, dtype=np.int16).reshape(-1)
    with wave.open(target, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(int(sampling_rate))
        wav.writeframes(pcm.astype("<i2").tobytes())


def wav_bytes(pcm: np.ndarray, sampling_rate: int) -> bytes:
    buf = io.BytesIO()
    write_wav(buf, pcm, sampling_rate)
    return buf.getvalue()


def read_wav(path: str) -> tuple[np.ndarray, int]:
    """Read a 16-bit PCM WAV (mono, or the first channel) -> float32 in [-1, 1] and its sampling rate."""
    with wave.open(path, "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM WAV is supported")
        frames = wav.readframes(wav.getnframes())
        data = np.frombuffer(frames, dtype="<i2").reshape(-1, wav.getnchannels())[:, 0]
        return data.astype(np.float32) / 32768.0, wav.getframerate()


def time_scale_mel(mel: torch.Tensor, speed: float) -> torch.Tensor:
    """Mel frames (n_mel, T) resampled in time to round(T / speed) frames: the vocoder then makes 1/speed of the
    duration at the same pitch (pitch lives in each frame's spectrum, not in the frame rate). Linear interpolation
    of the log-mel values, as a phase vocoder would interpolate magnitudes."""
    if speed == 1.0:
        return mel
    frames = max(1, round(mel.size(-1) / speed))
    return torch.nn.functional.interpolate(mel.unsqueeze(0), size=frames, mode="linear",
                                           align_corners=False).squeeze(0)
