"""A streaming job's sentences as an HTTP body: one encoder across the whole response (one valid file, its end
flushed), sent piece by piece as the sentences come; or, with stream_format=sse, the same bytes as base64
``speech.audio.delta`` events and a final ``speech.audio.done``."""
from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator

from django.http import StreamingHttpResponse

from tts_core.encoding import FORMATS, StreamEncoder

from ..exceptions import JobFailed
from ..streams import SpeechRelay

log = logging.getLogger(__name__)


class StreamBroken(Exception):
    """The job failed after audio was sent: the connection is dropped so the client sees an incomplete body."""


class _Body:
    """The response's iterable; Django calls close() when the response ends (sent, or the client went away), even
    if it was never iterated, and the relay then settles the job (API.services.tts_stream)."""

    def __init__(self, pieces: Iterator[bytes], relay: SpeechRelay) -> None:
        self._pieces, self._relay = pieces, relay

    def __iter__(self) -> Iterator[bytes]:
        return self._pieces

    def close(self) -> None:
        try:
            self._pieces.close()
        finally:
            self._relay.close()


def _encoded(relay: SpeechRelay, fmt: str, rate: int | None) -> Iterator[bytes]:
    encoder = None
    for chunk in relay:
        if encoder is None:
            encoder = StreamEncoder(fmt, chunk.sample_rate, out_rate=rate)
        data = encoder.write(chunk.audio)
        if data:
            yield data
    if encoder is not None:
        tail = encoder.close()
        if tail:
            yield tail


def _audio(relay: SpeechRelay, fmt: str, rate: int | None) -> Iterator[bytes]:
    try:
        yield from _encoded(relay, fmt, rate)
    except JobFailed as exc:
        log.warning("stream %s broke after its first audio: %s (%s)", relay.sound.pk, exc.error.code, exc)
        raise StreamBroken(exc.error.message) from exc


def _sse(relay: SpeechRelay, fmt: str, rate: int | None, characters: int) -> Iterator[bytes]:
    def event(payload: dict) -> bytes:
        return f"data: {json.dumps(payload)}\n\n".encode()

    try:
        for data in _encoded(relay, fmt, rate):
            yield event({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()})
    except JobFailed as exc:
        yield event({"type": "error", "error": {"message": exc.error.message, "code": exc.error.code}})
        return
    # usage: OpenAI counts tokens; here input characters in, nothing else is metered
    yield event({"type": "speech.audio.done",
                 "usage": {"input_tokens": characters, "output_tokens": 0, "total_tokens": characters}})


def speech_response(relay: SpeechRelay, *, fmt: str, rate: int | None, stream_format: str,
                    characters: int) -> StreamingHttpResponse:
    if stream_format == "sse":
        body, content_type = _sse(relay, fmt, rate, characters), "text/event-stream"
    else:
        body, content_type = _audio(relay, fmt, rate), FORMATS[fmt].mime
    response = StreamingHttpResponse(_Body(body, relay), content_type=content_type)
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx passes each piece on at once
    response["X-TTS-Sound"] = str(relay.sound.pk)
    return response
