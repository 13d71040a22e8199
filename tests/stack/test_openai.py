"""The OpenAI door through the live stack (Nginx + Gunicorn from the repository's files), with the real `openai`
SDK as the client and the bundled voice: every response_format decodes to the record's duration and the expected
rate, a streamed multi-sentence answer starts well before it ends, SSE parses, speed halves, bad input raises the
SDK's own exception types, and requests shaped like SillyTavern's and Open WebUI's work."""
from __future__ import annotations

import base64
import io
import json
import time

import av
import openai
import pytest

from .conftest import Stack, http, post_json

PARAGRAPH = ("The first sentence is short. The second sentence of this paragraph is a little longer than the first "
             "one. A third sentence follows it. And a fourth one ends the paragraph.")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("openai-stack"), tacotron=None, waveglow=None,  # the bundled voice
              extra_env={"TTS_TACOTRON2_CHECKPOINT": None, "TTS_WAVEGLOW_CHECKPOINT": None,
                         "NGINX_TTS_RATE": "100r/s", "NGINX_TTS_BURST": "100", "GUNICORN_THREADS": "4"})
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(stack):
    return openai.OpenAI(base_url=f"{stack.url}/v1", api_key="not-needed", max_retries=0, timeout=120)


def decode(data: bytes) -> tuple[float, int]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        return sum(f.samples for f in container.decode(stream)) / stream.rate, stream.rate


def record(stack: Stack, uuid: str) -> dict:
    status, _, body, _ = http("GET", f"{stack.url}/api/tts/{uuid}/")
    assert status == 200
    return json.loads(body)


# decoded rate per format: Opus decoders always give 48 kHz; pcm is OpenAI's 24 kHz
@pytest.mark.parametrize("fmt, rate", [("mp3", 22050), ("opus", 48000), ("aac", 22050), ("flac", 22050),
                                       ("wav", 22050), ("pcm", 24000)])
def test_every_response_format_decodes_to_the_records_duration_and_rate(stack, client, fmt, rate):
    raw = client.audio.speech.with_raw_response.create(model="tts-1", voice="alloy", input="Formats for all.",
                                                       response_format=fmt)
    data = raw.content
    sound = record(stack, raw.headers["x-tts-sound"])
    if fmt == "pcm":
        assert raw.headers["content-type"] == "audio/pcm"
        seconds, got = len(data) / 2 / 24000, 24000
    else:
        seconds, got = decode(data)
    assert got == rate
    # A stream cannot go back to write the encoder's delay and padding into a header (a stored file does): MP3
    # and AAC decode up to two codec frames longer (1152 / 1024 samples each), silence at the ends.
    slack = {"mp3": 2 * 1152 / 22050, "aac": 3 * 1024 / 22050}.get(fmt, 0.03)
    assert seconds == pytest.approx(sound["duration"], abs=slack)


def test_a_streamed_paragraph_starts_well_before_it_ends(client):
    started = time.perf_counter()
    first = None
    received = 0
    with client.audio.speech.with_streaming_response.create(model="tts-1", voice="alloy", input=PARAGRAPH,
                                                            response_format="pcm") as response:
        for piece in response.iter_bytes():
            if piece and first is None:
                first = time.perf_counter() - started
            received += len(piece)
    total = time.perf_counter() - started
    print(f"first audio {first:.3f} s, whole response {total:.3f} s, {received / 48000:.2f} s of audio")
    assert received / 48000 > 5  # four sentences of speech
    assert first < 0.5 * total


def test_sse_events_parse_into_the_audio(client):
    with client.audio.speech.with_streaming_response.create(model="gpt-4o-mini-tts", voice="nova", input=PARAGRAPH,
                                                            response_format="mp3", stream_format="sse") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        text = response.read().decode()
    events = [json.loads(line[len("data: "):]) for line in text.splitlines() if line.startswith("data: ")]
    assert len(events) > 2 and events[-1]["type"] == "speech.audio.done"
    assert {e["type"] for e in events[:-1]} == {"speech.audio.delta"}
    seconds, _ = decode(b"".join(base64.b64decode(e["audio"]) for e in events[:-1]))
    assert seconds > 5


def test_speed_two_halves_the_duration(stack, client):
    durations = {}
    for speed in (1.0, 2.0):
        raw = client.audio.speech.with_raw_response.create(model="tts-1", voice="alloy", input=PARAGRAPH,
                                                           response_format="wav", speed=speed)
        durations[speed] = decode(raw.content)[0]
    assert durations[2.0] == pytest.approx(durations[1.0] / 2, rel=0.15)


@pytest.mark.parametrize("kwargs, error", [
    ({"input": ""}, openai.BadRequestError),
    ({"input": "🙂"}, openai.BadRequestError),
    ({"voice": "no-such-voice"}, openai.BadRequestError),
    ({"speed": 9.0}, openai.BadRequestError),
    ({"response_format": "ogg"}, openai.BadRequestError),
    ({"input": "x" * 3000}, openai.BadRequestError),
])
def test_bad_input_raises_the_sdks_own_exceptions(client, kwargs, error):
    with pytest.raises(error) as caught:
        client.audio.speech.create(**{"model": "tts-1", "voice": "alloy", "input": "Hello.", **kwargs})
    body = caught.value.body
    assert set(body) == {"message", "type", "param", "code"} and body["type"] == "invalid_request_error"
    assert body["param"] == next(iter(kwargs))


def test_a_body_nginx_refuses_is_openai_shaped_too(stack, client):
    with pytest.raises(openai.APIStatusError) as caught:
        client.audio.speech.create(model="tts-1", voice="alloy", input="x" * 70_000)  # over nginx's 64 KiB
    assert caught.value.status_code == 413 and caught.value.body["code"] == "too_large"


def test_throttling_raises_rate_limit_error(stack):
    url = stack.another_nginx(NGINX_TTS_RATE="1r/m", NGINX_TTS_BURST="1")
    limited = openai.OpenAI(base_url=f"{url}/v1", api_key="not-needed", max_retries=0)
    for text in ("Once.", "Twice."):  # the rate's one and the burst's one
        limited.audio.speech.create(model="tts-1", voice="alloy", input=text)
    with pytest.raises(openai.RateLimitError) as caught:
        limited.audio.speech.create(model="tts-1", voice="alloy", input="Three times.")
    assert caught.value.body["type"] == "rate_limit_error"


def test_an_api_token_as_bearer_key_owns_the_record(stack):
    stack.manage("shell", "-c", "from django.contrib.auth.models import User; "
                                "User.objects.filter(username='sdk').delete(); "
                                "User.objects.create_user('sdk', password='pw-sdk-12345')")
    _, _, token, _ = post_json(f"{stack.url}/api/auth/token/", {"username": "sdk", "password": "pw-sdk-12345"})
    sdk = openai.OpenAI(base_url=f"{stack.url}/v1", api_key=token["token"], max_retries=0)
    raw = sdk.audio.speech.with_raw_response.create(model="tts-1", voice="alloy", input="Mine.")
    raw.content  # noqa: B018 - the whole body: the record is done
    status, _, body, _ = http("GET", f"{stack.url}/api/tts/{raw.headers['x-tts-sound']}/",
                              headers={"Authorization": f"Token {token['token']}"})
    assert status == 200 and json.loads(body)["owner"] == "sdk"


def test_a_sillytavern_shaped_request(stack):
    """SillyTavern's "OpenAI Compatible" provider: the full URL, mp3 hard-coded, its speed field."""
    status, headers, data, _ = http("POST", f"{stack.url}/v1/audio/speech", json.dumps(
        {"model": "tts-1", "input": "Hello from the tavern.", "voice": "nova", "response_format": "mp3",
         "speed": 1}).encode(), {"Content-Type": "application/json", "Authorization": "Bearer "})
    assert status == 200 and headers["Content-Type"] == "audio/mpeg" and decode(data)[0] > 0.5


def test_an_open_webui_shaped_request(stack):
    """Open WebUI proxies {base}/audio/speech with its admin's model, a Bearer key and no response_format, reads
    the whole body as mp3; it may list voices and models first."""
    status, _, body, _ = http("GET", f"{stack.url}/v1/audio/voices")
    assert status == 200 and json.loads(body)["voices"][0]["id"]
    assert http("GET", f"{stack.url}/v1/audio/models")[0] == 200
    status, headers, data, _ = http("POST", f"{stack.url}/v1/audio/speech", json.dumps(
        {"model": "my-operators-model", "input": "Hello from the web UI.", "voice": "alloy"}).encode(),
        {"Content-Type": "application/json", "Authorization": "Bearer sk-open-webui", "Accept": "*/*"})
    assert status == 200 and headers["Content-Type"] == "audio/mpeg" and decode(data)[0] > 0.5


def test_models_are_listed_through_the_sdk(client):
    assert {"tts-1", "tts-1-hd", "tacotron2"} <= {m.id for m in client.models.list()}


def test_the_http_benchmark_measures_first_audio_streamed_and_whole(stack, capsys):
    import importlib.util

    from .conftest import ROOT

    spec = importlib.util.spec_from_file_location("bench_http", ROOT / "scripts/bench_http.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    stream, whole = bench.main(["--url", stack.url, "--first-audio", "--requests", "2", "--format", "mp3"])
    assert (stream["mode"], whole["mode"]) == ("stream", "whole")
    # streamed audio starts before the whole file could; both end with all of it
    assert stream["first_audio_p50_s"] < whole["first_audio_p50_s"]
    assert 0 < stream["first_audio_p50_s"] <= stream["last_byte_p50_s"]
    assert "first p50" in capsys.readouterr().out
