"""TacotronHandler.stream: one chunk per sentence, in order, as each is made; speed; word timings from attention."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from tts_core import HandlerConfig, SynthesisOptionError, TacotronHandler
from tts_core.audio import TacotronSTFT, griffin_lim, time_scale_mel
from tts_core.models import AudioConfig
from tts_core.text import clean_text, text_to_sequence
from tts_core.timing import word_spans, word_timings
from tts_core.voices import DEMO_TACOTRON2

TEXT = "Hello there, my friend. This is the second sentence of the text. And a third one follows."


@pytest.fixture(scope="module")
def voice():
    if not DEMO_TACOTRON2.is_file():
        pytest.skip("bundled voice not exported")
    return TacotronHandler(HandlerConfig(seed=0, device="cpu")).initialize()


def test_chunks_come_per_sentence_in_order_and_make_up_the_result(voice):
    stream = voice.stream(TEXT)
    chunks = []
    for chunk in stream:
        chunks.append(chunk)
        # each chunk arrives before the next sentence is made: the stream holds only what it has yielded
        assert chunk.index == len(chunks) - 1 and chunk.total == 3
    result = stream.result()
    assert result.sentences == 3 and len(chunks) == 3
    np.testing.assert_array_equal(np.concatenate([c.audio for c in chunks]), result.audio)
    pause = int(voice.config.sentence_pause * 22050)
    assert not chunks[1].audio[:pause].any() and chunks[0].audio[:100].any()  # the pause leads later chunks
    assert result.duration == pytest.approx(sum(c.duration for c in chunks))


def test_a_low_latency_stream_decodes_the_first_sentence_alone(voice):
    data = voice.preprocess("One. Two. Three. Four. Five. Six.")
    assert voice._plan(data.chunks, first_alone=True)[0] == [0]
    assert [i for group in voice._plan(data.chunks, first_alone=True) for i in group] == list(range(6))
    assert sorted(i for group in voice._plan(data.chunks, first_alone=False) for i in group) == list(range(6))


def test_closing_a_stream_stops_the_synthesis(voice):
    heard = []
    stream = voice.stream(TEXT, progress=lambda done, total: heard.append(done))
    chunks = iter(stream)
    next(chunks)
    assert heard == [0, 1]  # lazy: the second sentence is made only when asked for
    stream.close()
    assert list(chunks) == [] and stream.result().sentences == 1 and heard == [0, 1]  # never made


@pytest.mark.parametrize("speed", [0.5, 1.5, 2.0, 4.0])
def test_speed_divides_the_duration(voice, speed):
    normal = voice.synthesize(TEXT, seed=1)
    fast = voice.synthesize(TEXT, seed=1, speed=speed)
    assert fast.duration == pytest.approx(normal.duration / speed, rel=0.02)
    assert fast.words[-1].end == pytest.approx(normal.words[-1].end / speed, rel=0.05)


@pytest.mark.parametrize("speed", [0.1, 5.0, float("nan")])
def test_speed_out_of_range_is_refused(voice, speed):
    with pytest.raises(SynthesisOptionError, match="speed must be between 0.25 and 4"):
        voice.synthesize("Hello.", speed=speed)


def test_time_scaling_the_mel_keeps_the_pitch():
    """A 440 Hz tone's mel, time-scaled by 2 and vocoded: half the frames, the same frequency."""
    cfg = AudioConfig()
    stft = TacotronSTFT(cfg)
    t = torch.arange(cfg.sampling_rate) / cfg.sampling_rate
    mel = stft.mel_spectrogram(0.5 * torch.sin(2 * torch.pi * 440 * t).unsqueeze(0))[0]
    fast = time_scale_mel(mel, 2.0)
    assert fast.size(1) == round(mel.size(1) / 2)
    for m in (mel, fast):
        wav = griffin_lim(m.unsqueeze(0), stft, 30)[0].numpy()
        peak = np.argmax(np.abs(np.fft.rfft(wav))) * cfg.sampling_rate / len(wav)
        assert peak == pytest.approx(440, abs=15)


def test_word_timings_are_the_spoken_words_monotonic_and_inside_the_audio(voice):
    result = voice.synthesize(TEXT)
    assert [w.word.strip(",.") for w in result.words] == clean_text(TEXT).replace(",", "").replace(".", "").split()
    starts = [w.start for w in result.words]
    assert starts == sorted(starts)
    for before, after in zip(result.words, result.words[1:]):
        assert before.start <= before.end <= after.start
    assert 0 <= result.words[0].start < 0.2 and result.words[-1].end <= result.duration + 1e-3
    # the pause between sentences: the last word of a sentence ends before the next starts, by about the pause
    gap = result.words[4].start - result.words[3].end
    assert gap >= voice.config.sentence_pause * 0.9


def test_word_timings_from_a_known_alignment():
    ids = text_to_sequence("ab cd")  # a b _ c d: words at symbols [0, 2) and [3, 5)
    spans = word_spans(ids)
    assert [(w, a, b) for w, a, b in spans] == [("ab", 0, 2), ("cd", 3, 5)]
    path = [0, 0, 1, 2, 1, 3, 4, 4]  # the attention glances back at step 4: ignored
    alignment = torch.zeros(len(path), len(ids))
    alignment[torch.arange(len(path)), torch.tensor(path)] = 1
    words = word_timings(alignment, spans, seconds_per_step=0.1, duration=0.8)
    assert [(w.word, w.start, w.end) for w in words] == [("ab", 0.0, 0.3), ("cd", 0.5, 0.8)]


@pytest.mark.parametrize("text", ["turn on the lights", "okay", "the year 1999", '"quoted words"'])
def test_a_sentence_without_an_end_mark_still_stops(voice, text):
    """Home Assistant commands and streamed text come unpunctuated; the voice would run to its step limit."""
    result = voice.synthesize(text)
    assert not result.truncated and result.duration < 4.0


@pytest.mark.parametrize("sentence, spoken", [
    ("turn on the lights", "turn on the lights."), ("done.", "done."), ("wait,", "wait,"), ("why?", "why?"),
    ('he said "go"', 'he said "go".'), ('he said "go."', 'he said "go."'), ("(aside)", "(aside)."),
    ("lights (kitchen)", "lights (kitchen)."), ("(an aside.)", "(an aside.)"),
])
def test_terminate_adds_a_full_stop_only_where_none_is(sentence, spoken):
    from tts_core.text import terminate

    assert terminate(sentence) == spoken
