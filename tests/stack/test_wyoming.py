"""The Wyoming server (manage.py wyoming_server) as Home Assistant uses it, with the `wyoming` library's own client
and events, the bundled voice, and the same database and media as the HTTP stack: describe, a plain synthesize,
and a streaming-text session that speaks each sentence as soon as it is complete."""
from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeStopped, \
    SynthesizeVoice

from .conftest import ROOT, Stack, WyomingServer, free_port


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("wyoming-stack"), tacotron=None, waveglow=None,
                  extra_env={"TTS_TACOTRON2_CHECKPOINT": None, "TTS_WAVEGLOW_CHECKPOINT": None})
    try:
        wyoming = WyomingServer(stack, "wyoming.log")
    except BaseException:
        stack.stop()
        raise
    yield stack, wyoming.port
    wyoming.stop()
    stack.stop()


async def events_until(client, last_type: str, timeout: float = 60) -> list:
    out = []
    while True:
        event = await asyncio.wait_for(client.read_event(), timeout)
        assert event is not None, "the server closed the connection"
        out.append(event)
        if event.type == last_type:
            return out


def audio_seconds(events) -> float:
    chunks = [AudioChunk.from_event(e) for e in events if AudioChunk.is_type(e.type)]
    return sum(c.seconds for c in chunks)


def test_describe_lists_our_voices_and_advertises_streaming(server):
    async def run():
        async with AsyncTcpClient("127.0.0.1", server[1]) as client:
            await client.write_event(Describe().event())
            return Info.from_event((await events_until(client, "info"))[-1])

    info = asyncio.run(run())
    (program,) = info.tts
    assert program.supports_synthesize_streaming and program.installed
    assert {"tacotron2", "tacotron2-griffinlim"} <= {v.name for v in program.voices}
    assert all(v.languages == ["en-US"] for v in program.voices)


def test_synthesize_streams_pcm_of_a_plausible_length(server):
    text = "Welcome home. The lights in the kitchen are on."

    async def run():
        async with AsyncTcpClient("127.0.0.1", server[1]) as client:
            await client.write_event(Synthesize(text=text, voice=SynthesizeVoice(name="alloy")).event())
            return await events_until(client, "audio-stop")

    events = asyncio.run(run())
    assert AudioStart.is_type(events[0].type) and AudioStop.is_type(events[-1].type)
    start = AudioStart.from_event(events[0])
    assert (start.rate, start.width, start.channels) == (22050, 2, 1)
    seconds = audio_seconds(events)
    assert len(text) / 30 < seconds < len(text) / 5  # speech, not silence or a runaway decoder
    assert stack_rows(server[0]) == []  # Wyoming requests are not recorded by default


def stack_rows(stack) -> list:
    return stack.rows()


def test_unspeakable_text_is_an_error_event(server):
    async def run():
        async with AsyncTcpClient("127.0.0.1", server[1]) as client:
            await client.write_event(Synthesize(text="🙂🙂").event())
            return await events_until(client, "audio-stop")

    error, start, stop = asyncio.run(run())  # Home Assistant waits for audio-stop: an empty stream ends it
    assert Error.is_type(error.type) and Error.from_event(error).code == "invalid_text"
    assert AudioStart.is_type(start.type) and AudioStop.is_type(stop.type)


def test_streaming_text_speaks_each_complete_sentence_before_the_text_ends(server):
    async def run():
        async with AsyncTcpClient("127.0.0.1", server[1]) as client:
            await client.write_event(SynthesizeStart(voice=SynthesizeVoice(name="tacotron2")).event())
            await client.write_event(SynthesizeChunk(text="The first sentence is complete. The sec").event())
            # audio for the first sentence comes while the second is still being written
            early = [await asyncio.wait_for(client.read_event(), 60) for _ in range(2)]
            await client.write_event(SynthesizeChunk(text="ond one ends here. And a").event())
            await client.write_event(SynthesizeChunk(text=" last few words").event())
            await client.write_event(Synthesize(text="ignored: the session's text, for older servers").event())
            await client.write_event(SynthesizeStop().event())
            return early, await events_until(client, "synthesize-stopped")

    early, rest = asyncio.run(run())
    assert AudioStart.is_type(early[0].type) and AudioChunk.is_type(early[1].type)
    types = [e.type for e in rest]
    assert types[-2:] == ["audio-stop", "synthesize-stopped"]
    assert "audio-start" not in types and "error" not in types  # one audio stream for the session
    seconds = audio_seconds(early + rest)
    assert 3.0 < seconds < 12.0  # three sentences' worth; the ignored synthesize added nothing
    assert SynthesizeStopped.is_type(rest[-1].type)


def test_the_compose_health_check_of_the_wyoming_service_runs_natively(server):
    import yaml

    check = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["wyoming"]["healthcheck"]["test"]
    assert check[0] == "CMD"
    command = [sys.executable if part == "python" else part.replace("10200", str(server[1])) for part in check[1:]]
    assert subprocess.run(command, timeout=10).returncode == 0
    dead = [part.replace(str(server[1]), str(free_port())) for part in command]
    assert subprocess.run(dead, timeout=10, capture_output=True).returncode != 0


def test_the_benchmark_measures_wyoming_first_audio_plain_and_streamed(server):
    import importlib.util

    stack, port = server
    spec = importlib.util.spec_from_file_location("bench_http", ROOT / "scripts/bench_http.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    levels = bench.main(["--url", stack.url, "--first-audio", "--requests", "1",
                         "--wyoming", f"tcp://127.0.0.1:{port}"])
    by_mode = {lv["mode"]: lv for lv in levels}
    assert set(by_mode) == {"stream", "whole", "wyoming", "wyoming-stream"}
    for mode in ("wyoming", "wyoming-stream"):
        lv = by_mode[mode]
        # the paragraph's first sentence is spoken before its last is made
        assert 0 < lv["first_audio_p50_s"] < lv["last_byte_p50_s"]
