"""The stored file's format: every format is written by the real encoders, named with its extension, described by
its MIME type, and decodes to the record's duration."""
from __future__ import annotations

import av
import pytest

from API import backends
from API.models import TTSound

pytestmark = pytest.mark.django_db(transaction=True)


def decoded_seconds(path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return sum(frame.samples for frame in container.decode(stream)) / stream.rate


@pytest.mark.parametrize("fmt, mime, ext, slack", [
    ("wav", "audio/wav", "wav", 0.0), ("mp3", "audio/mpeg", "mp3", 0.0), ("opus", "audio/ogg", "opus", 0.0),
    ("aac", "audio/aac", "aac", 0.1), ("flac", "audio/flac", "flac", 0.0),
])
@pytest.mark.parametrize("asynchronous", [False, True])
def test_each_format_is_stored_named_served_and_decodes_to_the_records_duration(
        as_user, media_files, settings, fmt, mime, ext, slack, asynchronous):
    settings.TTS = dict(settings.TTS, AUDIO_SENDER="django")
    r = as_user.post("/api/tts/", {"text": "Formats for every client. Two sentences.", "format": fmt,
                                   "async": asynchronous}, format="json")
    assert r.status_code in (201, 202), r.content
    backends.wait_for_inline_jobs_for_tests()
    body = as_user.get(r["Location"]).json()
    assert body["status"] == "done" and body["format"] == fmt
    (path,) = media_files()
    assert path.name == f"{body['uuid']}.{ext}"
    assert body["duration"] - 0.01 <= decoded_seconds(path) <= body["duration"] + slack + 0.01
    audio = as_user.get(body["audio_url"])
    assert audio.status_code == 200 and audio["Content-Type"] == mime
    assert audio["Content-Disposition"] == f'inline; filename="{body["uuid"]}.{ext}"'
    assert b"".join(audio.streaming_content) == path.read_bytes()


def test_an_unknown_format_is_a_400_and_nothing_is_kept(as_user, media_files):
    r = as_user.post("/api/tts/", {"text": "Hello.", "format": "pcm"}, format="json")  # raw PCM is not stored
    assert r.status_code == 400 and "format" in r.json()["error"]["details"]
    assert TTSound.objects.count() == 0 and media_files() == []


def test_records_from_before_formats_are_wav(user):
    assert TTSound.objects.create(text_content="old").audio_format == "wav"


@pytest.mark.parametrize("asynchronous", [False, True])
def test_speed_sample_rate_and_word_timings_on_api_tts(as_user, media_files, set_tts, asynchronous):
    set_tts(handler={"seed": 0}, AUDIO_SENDER="django")  # the same decoding each time: only the options differ
    plain = as_user.post("/api/tts/", {"text": "Timed words here. And more."}, format="json").json()
    assert plain["words"] is None and plain["speed"] == 1.0
    r = as_user.post("/api/tts/", {"text": "Timed words here. And more.", "format": "flac", "speed": 2.0,
                                   "sample_rate": 16000, "timestamps": True, "async": asynchronous}, format="json")
    backends.wait_for_inline_jobs_for_tests()
    body = as_user.get(r["Location"]).json()
    assert body["status"] == "done" and body["speed"] == 2.0 and body["sample_rate"] == 16000
    assert body["duration"] == pytest.approx(plain["duration"] / 2, rel=0.05)
    path = next(p for p in media_files() if p.name.startswith(body["uuid"]))
    with av.open(str(path)) as container:
        assert container.streams.audio[0].rate == 16000
    words = body["words"]
    assert [w["word"] for w in words] == ["timed", "words", "here.", "and", "more."]
    assert all(0 <= w["start"] <= w["end"] <= body["duration"] + 1e-3 for w in words)
    assert [w["start"] for w in words] == sorted(w["start"] for w in words)


@pytest.mark.parametrize("fields", [{"speed": 0.1}, {"speed": "2"}, {"sample_rate": 11025}, {"timestamps": "maybe"}])
def test_bad_speed_rate_or_timestamps_are_400(as_user, fields):
    r = as_user.post("/api/tts/", {"text": "Hello.", **fields}, format="json")
    assert r.status_code == 400 and next(iter(fields)) in r.json()["error"]["details"]
