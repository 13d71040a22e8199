"""/v1/: OpenAI's speech endpoint in-process (the live stack with the real SDK is tests/stack/test_openai.py):
request fields, voice names, Bearer tokens, OpenAI's error shape, recording, streaming bodies."""
from __future__ import annotations

import base64
import io
import json
import threading

import av
import pytest
from rest_framework.authtoken.models import Token

from API.models import TTSound

pytestmark = pytest.mark.django_db(transaction=True)

SPEECH = "/v1/audio/speech"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def decode(data: bytes) -> tuple[float, int]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        return sum(f.samples for f in container.decode(stream)) / stream.rate, stream.rate


def speak(client, **fields):
    payload = {"model": "tts-1", "input": "Hello from the OpenAI door. A second sentence.", "voice": "alloy",
               **fields}
    return client.post(SPEECH, payload, format="json", HTTP_ACCEPT="application/octet-stream")


@pytest.mark.parametrize("fmt, mime", [("mp3", "audio/mpeg"), ("opus", "audio/ogg"), ("aac", "audio/aac"),
                                       ("flac", "audio/flac"), ("wav", "audio/wav")])
def test_each_response_format_is_audio_of_the_recorded_duration(client, fmt, mime):
    r = speak(client, response_format=fmt)
    assert r.status_code == 200 and r["Content-Type"] == mime and r["X-Accel-Buffering"] == "no"
    seconds, _ = decode(body(r))  # the record is done once the whole body is read
    sound = TTSound.objects.get(pk=r["X-TTS-Sound"])
    assert sound.status == "done" and sound.audio_format == fmt
    assert seconds == pytest.approx(sound.duration, abs=0.15)


def test_mp3_is_the_default_and_pcm_is_raw_24_khz(client):
    first = speak(client)
    assert first["Content-Type"] == "audio/mpeg"
    body(first)
    r = speak(client, response_format="pcm")
    data = body(r)
    sound = TTSound.objects.get(pk=r["X-TTS-Sound"])
    assert r["Content-Type"] == "audio/pcm" and sound.audio_format == "wav"  # stored as wav
    assert len(data) % 2 == 0 and len(data) / 2 / 24000 == pytest.approx(sound.duration, abs=0.01)


def test_sample_rate_and_speed(client, set_tts):
    set_tts(handler={"seed": 0})  # the same decoding both times: only the speed differs
    normal = speak(client, response_format="wav")
    normal_seconds, _ = decode(body(normal))
    r = speak(client, response_format="flac", sample_rate=16000, speed=2.0)
    seconds, rate = decode(body(r))
    assert rate == 16000 and seconds == pytest.approx(normal_seconds / 2, rel=0.05)
    assert TTSound.objects.get(pk=r["X-TTS-Sound"]).sample_rate == 16000


def test_sse_sends_base64_deltas_then_done(client):
    r = speak(client, response_format="wav", stream_format="sse")
    assert r["Content-Type"] == "text/event-stream"
    events = [json.loads(line[6:]) for line in body(r).decode().splitlines() if line.startswith("data: ")]
    assert [e["type"] for e in events][-1] == "speech.audio.done"
    audio = b"".join(base64.b64decode(e["audio"]) for e in events if e["type"] == "speech.audio.delta")
    assert decode(audio)[0] > 0.1


@pytest.mark.parametrize("voice, vocoder", [("alloy", "waveglow"), ("tacotron2-griffinlim", "griffinlim"),
                                            ({"id": "tacotron2-waveglow"}, "waveglow"), ("echo", "griffinlim")])
def test_voice_names_map_to_voices(client, settings, voice, vocoder):
    settings.TTS = dict(settings.TTS, OPENAI_VOICES={"echo": "tacotron2-griffinlim"})
    r = speak(client, voice=voice, model="whatever-the-operator-typed")
    assert r.status_code == 200, r.content
    body(r)
    assert TTSound.objects.get(pk=r["X-TTS-Sound"]).vocoder == vocoder


@pytest.mark.parametrize("fields, param", [
    ({"input": ""}, "input"), ({"input": "🙂🙂"}, "input"), ({"input": 5}, "input"), ({"voice": "nobody"}, "voice"),
    ({"speed": 5.0}, "speed"), ({"speed": "fast"}, "speed"), ({"response_format": "ogg"}, "response_format"),
    ({"stream_format": "chunks"}, "stream_format"), ({"model": None}, "model"), ({"sample_rate": 12345}, "sample_rate"),
    ({"input": "x" * 5000}, "input"),
])
def test_bad_requests_are_400_in_openais_shape_and_keep_nothing(client, fields, param, media_files):
    r = speak(client, **fields)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param and error["message"]
    assert set(error) == {"message", "type", "param", "code"}
    assert not TTSound.objects.exists() and not media_files()


def test_a_body_that_is_not_json_is_a_400_in_openais_shape(client):
    r = client.post(SPEECH, b"\xff\xfe not json", content_type="application/json")
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"


def test_bearer_tokens_are_the_services_api_tokens(client, user, set_tts):
    set_tts(ANONYMOUS_SYNTHESIS=False)
    r = speak(client)
    assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert speak(client).status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {Token.objects.create(user=user).key}")
    r = speak(client)
    assert r.status_code == 200
    body(r)
    assert TTSound.objects.get(pk=r["X-TTS-Sound"]).owner == user


def test_a_dummy_key_is_anonymous_where_anonymous_use_is_allowed(client):
    client.credentials(HTTP_AUTHORIZATION="Bearer not-needed")
    r = speak(client)
    assert r.status_code == 200
    body(r)
    assert TTSound.objects.get(pk=r["X-TTS-Sound"]).owner is None


def test_throttling_applies_and_is_a_429_in_openais_shape(client, throttle_rates):
    with throttle_rates(synthesis_anon="1/min"):
        body(speak(client))
        r = speak(client)
    assert r.status_code == 429 and r.json()["error"]["type"] == "rate_limit_error"


def test_recording_can_be_turned_off(client, set_tts, media_files):
    set_tts(OPENAI_RECORD=False)
    r = speak(client, response_format="mp3")
    assert decode(body(r))[0] > 0.1
    r.close()
    assert not TTSound.objects.exists() and not media_files()


def test_a_listener_that_leaves_cancels_the_job(client, media_files, monkeypatch):
    from tts_core import TacotronHandler

    vocoded, original = [], TacotronHandler._vocode

    def counting(self, *args, **kwargs):  # the real vocoder, counted
        vocoded.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(TacotronHandler, "_vocode", counting)
    r = speak(client, input="One sentence here. " * 12)
    next(iter(r.streaming_content))  # the first sentence, then the client hangs up
    r.close()
    assert not TTSound.objects.exists()
    for thread in threading.enumerate():  # the job notices at its next sentence and ends
        if thread.name.startswith("tts-stream-"):
            thread.join(30)
    assert len(vocoded) < 12 and not media_files()


def test_a_synchronous_request_the_busy_model_thread_cannot_start_in_time_is_503_busy_and_never_runs(
        client, set_tts):
    from API import engine

    set_tts(SYNC_TIMEOUT=0.2)
    engine.get_handler()
    release = threading.Event()
    engine._model_executor().submit(release.wait, 10)  # a long synthesis holds the model thread
    try:
        r = client.post("/api/tts/", {"text": "Waiting in line."}, format="json")
    finally:
        release.set()
    assert r.status_code == 503 and r.json()["error"]["code"] == "busy" and r["Retry-After"]
    assert not TTSound.objects.exists()
    assert client.post("/api/tts/", {"text": "Now it is free."}, format="json").status_code == 201


def test_models_and_voices_are_listed(client):
    models = client.get("/v1/models").json()
    assert models["object"] == "list" and {"tts-1", "tts-1-hd", "tacotron2"} <= {m["id"] for m in models["data"]}
    assert all(m["object"] == "model" for m in models["data"])
    voices = client.get("/v1/audio/voices").json()["voices"]
    assert {v["id"] for v in voices} == {"tacotron2", "tacotron2-griffinlim", "tacotron2-waveglow"}
    assert "alloy" in next(v for v in voices if v["id"] == "tacotron2")["aliases"]
    assert client.get("/v1/audio/models").json()["models"][0]["id"] == "tacotron2"


def test_unknown_v1_paths_are_404_in_openais_shape(client):
    r = client.get("/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["type"] == "invalid_request_error"
