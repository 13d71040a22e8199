import io
import math
import wave

import numpy as np
import pytest
import torch

from tts_core.audio import (LOG_CLAMP, Denoiser, TacotronSTFT, griffin_lim, mel_basis, read_wav, to_pcm16,
                            trim_to_frames, wav_bytes, write_wav)
from tts_core.models import AudioConfig

from .factories import tiny_waveglow


def test_mel_basis_matches_librosa():
    librosa = pytest.importorskip("librosa")
    for sr, n_fft, n_mels, fmin, fmax in [(22050, 1024, 80, 0.0, 8000.0), (16000, 512, 40, 50.0, None)]:
        ours = mel_basis(sr, n_fft, n_mels, fmin, fmax)
        ref = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
        np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-9)


def _reference_magnitude(audio: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:
    """NVIDIA's formulation: conv1d of the reflect-padded signal with a Hann-windowed DFT basis."""
    basis = np.fft.fft(np.eye(n_fft))[: n_fft // 2 + 1]
    window = np.hanning(n_fft + 1)[:-1]  # periodic Hann
    real = torch.tensor(np.real(basis) * window, dtype=torch.float64)[:, None, :]
    imag = torch.tensor(np.imag(basis) * window, dtype=torch.float64)[:, None, :]
    x = torch.nn.functional.pad(audio[:, None, :].double(), (n_fft // 2, n_fft // 2), mode="reflect")
    re = torch.nn.functional.conv1d(x, real, stride=hop)
    im = torch.nn.functional.conv1d(x, imag, stride=hop)
    return torch.sqrt(re ** 2 + im ** 2).float()


def test_stft_magnitude_matches_nvidia_formulation():
    audio = torch.rand(2, 5000) * 2 - 1
    stft = TacotronSTFT()
    torch.testing.assert_close(stft.magnitude(audio), _reference_magnitude(audio, 1024, 256), rtol=1e-4, atol=1e-3)


def test_mel_spectrogram_shape_floor_and_peak_band():
    cfg = AudioConfig()
    stft = TacotronSTFT(cfg)
    t = torch.arange(cfg.sampling_rate) / cfg.sampling_rate
    tone = 0.5 * torch.sin(2 * math.pi * 1000 * t)[None]
    mel = stft.mel_spectrogram(tone)
    assert mel.shape == (1, 80, cfg.sampling_rate // cfg.hop_length + 1)
    silence = stft.mel_spectrogram(torch.zeros(1, 4096))
    assert torch.allclose(silence, torch.full_like(silence, math.log(LOG_CLAMP)))
    centres = torch.argmax(stft.mel_basis, dim=1) * cfg.sampling_rate / cfg.filter_length
    assert abs(float(centres[int(mel[0, :, 40].argmax())]) - 1000) < 120


def test_mel_spectrogram_rejects_unnormalised_audio():
    with pytest.raises(ValueError):
        TacotronSTFT().mel_spectrogram(torch.full((1, 2048), 2.0))


def test_griffin_lim_reconstructs_the_spectrogram():
    cfg = AudioConfig()
    stft = TacotronSTFT(cfg)
    t = torch.arange(cfg.sampling_rate // 2) / cfg.sampling_rate
    signal = (0.3 * torch.sin(2 * math.pi * 440 * t) + 0.2 * torch.sin(2 * math.pi * 1320 * t))[None]
    mel = stft.mel_spectrogram(signal)
    audio = griffin_lim(mel, stft, n_iters=30)
    assert audio.shape == (1, mel.size(2) * cfg.hop_length)
    assert float(audio.abs().max()) <= 1.0
    rebuilt = stft.mel_spectrogram(audio)
    # Compare shapes of the spectra (GL output is peak-normalised, so remove the level offset).
    n = mel.size(2)
    a, b = mel[0, :, 5:n - 5], rebuilt[0, :, 5:n - 5]
    corr = torch.corrcoef(torch.stack([a.flatten(), b.flatten()]))[0, 1]
    assert corr > 0.9
    assert torch.equal(griffin_lim(mel, stft, n_iters=5), griffin_lim(mel, stft, n_iters=5))  # deterministic


def test_denoiser_removes_the_zero_mel_bias_and_strength_zero_is_identity():
    wg = tiny_waveglow(weight_norm=False)
    for wn in wg.WN:  # a strong constant bias, like a real WaveGlow's hiss
        torch.nn.init.constant_(wn.end.bias, 0.3)
    den = Denoiser(wg)
    noisy = wg.infer(torch.zeros(1, 80, 40), sigma=0.0)
    assert torch.equal(den(noisy, 0.0), noisy)
    cleaned = den(noisy, 1.0)
    assert cleaned.shape == noisy.shape
    assert float(cleaned.pow(2).mean()) < 0.5 * float(noisy.pow(2).mean())


def test_trim_to_frames():
    assert trim_to_frames(torch.zeros(2, 1000), 3, 256).shape == (2, 768)
    assert trim_to_frames(torch.zeros(1000), 10, 256).shape == (1000,)


def test_to_pcm16_is_peak_safe():
    loud = np.array([0.0, 2.0, -4.0, np.nan, np.inf], dtype=np.float32)
    pcm = to_pcm16(loud)
    assert pcm.dtype == np.int16
    assert pcm[2] == -31129 and pcm[3] == 0 and pcm[4] == 0  # scaled to 0.95 peak, no wrap-around
    quiet = np.array([0.1, -0.05], dtype=np.float32)
    assert list(to_pcm16(quiet)) == [3277, -1638]
    assert int(np.abs(to_pcm16(quiet, normalize=True)).max()) == round(0.95 * 32767)


def test_wav_round_trip(tmp_path):
    pcm = (np.sin(np.arange(2205) / 10) * 20000).astype(np.int16)
    path = tmp_path / "x.wav"
    write_wav(str(path), pcm, 22050)
    audio, sr = read_wav(str(path))
    assert sr == 22050 and len(audio) == 2205
    np.testing.assert_allclose(audio * 32768, pcm, atol=0.5)
    with wave.open(io.BytesIO(wav_bytes(pcm, 16000))) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()) == (16000, 1, 2, 2205)


def test_vocoders_handle_very_short_outputs():
    stft = TacotronSTFT()
    for frames in (1, 2, 3):
        mel = torch.full((1, 80, frames), -5.0)
        assert griffin_lim(mel, stft, n_iters=2).shape == (1, frames * 256)
    den = Denoiser(tiny_waveglow(weight_norm=False))
    assert den(torch.rand(1, 256) - 0.5, 0.1).shape == (1, 256)


@pytest.mark.parametrize("frames, length, batch", [(2, None, 1), (7, 1500, 2), (40, 40 * 256, 1), (40, 39 * 256 + 7, 3),
                                                   (200, None, 2), (5, 2000, 1)])
def test_our_istft_is_torchs(frames, length, batch):
    """TacotronSTFT.istft (an overlap-add of our own, for Griffin-Lim's speed) gives torch.istft's result."""
    stft = TacotronSTFT()
    c = stft.cfg
    spec = torch.randn(batch, c.filter_length // 2 + 1, frames, dtype=torch.complex64)
    ours = stft.istft(spec, length)
    reference = torch.istft(spec, c.filter_length, c.hop_length, c.win_length, window=stft.window, center=True,
                            length=length)
    assert ours.shape == reference.shape
    assert (ours - reference).abs().max() < 1e-5 * max(1.0, reference.abs().max())
