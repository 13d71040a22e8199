"""tts_core.encoding: every format decodes (with FFmpeg, through PyAV) to the audio that went in: its length, its
rate, its end; streamed in chunks it is one valid file whose first bytes come before the end."""
from __future__ import annotations

import io
import struct
import wave

import av
import numpy as np
import pytest

from tts_core.encoding import FORMATS, EncodingError, StreamEncoder, codec_rate, encode

SR = 22050


def tone(seconds: float, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(SR * seconds)) / SR
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def decode(data: bytes) -> tuple[np.ndarray, int]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        frames = [f.to_ndarray().reshape(-1) for f in container.decode(stream)]
        audio = np.concatenate(frames)
        if np.issubdtype(audio.dtype, np.integer):  # s16/s32 decoders: back to [-1, 1]
            audio = audio / float(np.iinfo(audio.dtype).max + 1)
        return audio.astype(np.float32), stream.rate


# Encoder priming/padding that a format cannot signal: AAC in ADTS adds up to two frames at the start.
SLACK_S = {"aac": 0.1, "mp3": 0.0}


@pytest.mark.parametrize("name", [n for n in FORMATS if n != "pcm"])
def test_every_format_decodes_to_the_duration_and_rate_it_was_given(name):
    audio, rate = decode(encode(tone(1.5), SR, name))
    # Opus decoders always give 48 kHz (the encoded rate is a hint in its header)
    assert rate == (48000 if name == "opus" else codec_rate(FORMATS[name], SR))
    assert 1.5 - 1e-3 <= len(audio) / rate <= 1.5 + SLACK_S.get(name, 1e-3)
    assert 0.3 < np.abs(audio).max() < 0.6  # the tone, not silence or clipping


def test_pcm_is_raw_16_bit_little_endian():
    x = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 2.0], dtype=np.float32)
    assert np.frombuffer(encode(x, SR, "pcm"), dtype="<i2").tolist() == [0, 16384, -16384, 32767, -32767, 32767]


@pytest.mark.parametrize("name", [n for n in FORMATS if n != "pcm"])
def test_the_end_of_the_audio_survives_the_encoder(name):
    # silence, then a loud last 100 ms: an encoder that is not flushed loses exactly that
    x = np.concatenate([np.zeros(SR, np.float32), tone(0.1, 1000.0)])
    encoder = StreamEncoder(name, SR)
    data = b"".join(encoder.write(x[i:i + 2205]) for i in range(0, len(x), 2205)) + encoder.close()
    audio, rate = decode(data)
    slack = int(SLACK_S.get(name, 0.0) * rate)
    tail = audio[int(1.02 * rate) + slack: int(1.08 * rate) + slack]
    assert np.sqrt(np.mean(tail ** 2)) > 0.2, name


@pytest.mark.parametrize("name", ["wav", "flac", "opus", "mp3", "aac", "pcm"])
def test_a_streamed_file_is_one_valid_stream_and_its_bytes_come_before_the_end(name):
    encoder = StreamEncoder(name, SR)
    chunks = [encoder.write(tone(0.5)) for _ in range(4)]
    chunks.append(encoder.close())
    assert any(chunks[:-1]), "nothing came out before close"
    data = b"".join(chunks)
    if name == "pcm":
        assert len(data) == 2 * 4 * len(tone(0.5))
        return
    audio, rate = decode(data)
    assert 2.0 - 1e-3 <= len(audio) / rate <= 2.0 + 0.1


def test_a_stored_wav_has_its_sizes_and_a_streamed_one_says_unknown():
    stored = encode(tone(1.0), SR, "wav")
    with wave.open(io.BytesIO(stored)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()) == (SR, 1, 2, SR)
    assert struct.unpack("<I", stored[4:8])[0] == len(stored) - 8
    # its samples are the streamed WAV's and the raw PCM's, non-finite values as silence, clipped to full scale
    samples = tone(0.2)
    samples[:3] = [np.nan, 2.0, -np.inf]
    with wave.open(io.BytesIO(encode(samples, SR, "wav"))) as w:
        frames = w.readframes(w.getnframes())
    assert frames == encode(samples, SR, "pcm")
    assert np.frombuffer(frames[:6], "<i2").tolist() == [0, 32767, -32767]
    streamed = StreamEncoder("wav", SR)
    tail = np.frombuffer((streamed.write(samples) + streamed.close())[-len(frames):], "<i2").astype(int)
    assert np.abs(tail - np.frombuffer(frames, "<i2")).max() <= 1  # FFmpeg's s16 conversion truncates
    encoder = StreamEncoder("wav", SR)
    first = encoder.write(tone(0.1))
    assert first[:4] == b"RIFF" and struct.unpack("<I", first[4:8])[0] == 0xFFFFFFFF


def test_unknown_formats_and_writes_after_close_are_refused():
    with pytest.raises(EncodingError, match="unknown audio format 'ogg'"):
        StreamEncoder("ogg", SR)
    encoder = StreamEncoder("mp3", SR)
    encoder.close()
    with pytest.raises(EncodingError):
        encoder.write(tone(0.1))
    assert encoder.close() == b""


def test_rates_a_codec_cannot_take_go_up_to_the_next_one():
    assert codec_rate(FORMATS["opus"], 22050) == 24000
    assert codec_rate(FORMATS["opus"], 16000) == 16000
    assert codec_rate(FORMATS["mp3"], 22050) == 22050 and codec_rate(FORMATS["flac"], 22050) == 22050


@pytest.mark.parametrize("name", ["wav", "mp3", "flac", "aac", "pcm"])
@pytest.mark.parametrize("rate", [8000, 16000, 24000, 44100, 48000])
def test_the_output_rate_is_the_one_asked_for_and_the_duration_is_kept(name, rate):
    data = encode(tone(1.0), SR, name, out_rate=rate)
    if name == "pcm":
        assert len(data) // 2 == pytest.approx(rate, abs=rate * 0.01)  # raw s16: 1 s at the new rate
        return
    audio, got = decode(data)
    assert got == rate
    slack = 3 * 1024 / rate if name == "aac" else 0.03  # AAC: priming and the last frame's padding, 1024 samples each
    assert len(audio) / got == pytest.approx(1.0, abs=slack)


def test_resampled_pcm_keeps_the_tone_and_a_stream_of_it_equals_the_whole():
    encoder = StreamEncoder("pcm", SR, out_rate=24000)
    pieces = [encoder.write(part) for part in np.array_split(tone(1.0), 5)] + [encoder.close()]
    assert all(len(p) % 2 == 0 for p in pieces)  # never half a sample
    streamed = np.frombuffer(b"".join(pieces), "<i2").astype(np.float32) / 32768
    whole = np.frombuffer(encode(tone(1.0), SR, "pcm", out_rate=24000), "<i2").astype(np.float32) / 32768
    assert len(streamed) == len(whole) and np.abs(streamed - whole).max() < 1e-3
    spectrum = np.abs(np.fft.rfft(whole))
    assert np.argmax(spectrum) * 24000 / len(whole) == pytest.approx(440, abs=2)


def test_a_sample_rate_nobody_asks_for_is_refused():
    with pytest.raises(EncodingError, match="unsupported sample rate"):
        StreamEncoder("mp3", SR, out_rate=12345)
