"""Home Assistant's door: the Wyoming protocol (the `wyoming` library's server, events and types).

- ``describe`` -> ``info``: our voices (API.v1.voices), with streaming text advertised.
- ``synthesize`` -> ``audio-start``, ``audio-chunk`` * (16-bit mono PCM at the voice's rate), ``audio-stop``.
- Streaming text: ``synthesize-start``, ``synthesize-chunk`` *, ``synthesize-stop``. Each sentence is spoken as
  soon as it is complete (the text after it waits for more); one audio stream for the session; ``synthesize``
  events inside a session (sent for older servers) are ignored; ``synthesize-stopped`` ends it.

Synthesis goes through the same service as HTTP (services.tts_stream: a job on this server's backend, inline or
Celery), so audio leaves sentence by sentence. The Django work runs in threads (asyncio.to_thread): the ORM and
the relay block.
"""
from __future__ import annotations

import asyncio
import logging
import re

from django.conf import settings
from django.db import close_old_connections
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Attribution, Describe, Info, TtsProgram, TtsVoice
from wyoming.server import AsyncEventHandler
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeStopped

from rest_framework.exceptions import ValidationError

from tts_core.encoding import StreamEncoder

from ..exceptions import SERVICE_FAILURES, JobFailed, classify
from ..serializers import SpeakableTextField
from ..v1 import voices

log = logging.getLogger(__name__)

SAMPLES_PER_CHUNK = 1024  # per audio-chunk event, as Home Assistant's own servers send
_COMPLETE = re.compile(r"(?<=[.!?;])\s+|\n\s*\n")
ATTRIBUTION = Attribution(name="NVIDIA (Tacotron2, WaveGlow)",
                          url="https://github.com/NVIDIA/DeepLearningExamples")


def info() -> Info:
    return Info(tts=[TtsProgram(
        name="tacotron2-tts", attribution=ATTRIBUTION, installed=True, version="1.0",
        description="Tacotron2 text to speech (Griffin-Lim or WaveGlow)",
        voices=[TtsVoice(name=v.id, attribution=ATTRIBUTION, installed=True, version=None,
                         description=v.description, languages=["en-US"]) for v in voices.voices()],
        supports_synthesize_streaming=True)])


def complete_sentences(text: str) -> tuple[list[str], str]:
    """The sentences of ``text`` that are known to be complete (an end mark followed by space), and the rest."""
    pieces = _COMPLETE.split(text)
    return [p for p in pieces[:-1] if p.strip()], pieces[-1]


class SpeechError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _start(text: str, voice_name: str | None):
    """Validate and start one synthesis (a thread: the ORM); the relay of its sentences."""
    from ..services import tts_stream

    close_old_connections()
    if not settings.TTS["ANONYMOUS_SYNTHESIS"]:  # Wyoming has no authentication: it is anonymous use
        raise SpeechError("not_authenticated", "anonymous synthesis is turned off on this server")
    voice = voices.resolve(voice_name) if voice_name else voices.resolve(voices.DEFAULT_VOICE)
    if voice is None:
        raise SpeechError("invalid_voice", f"unknown voice '{voice_name}'")
    try:
        text = SpeakableTextField().run_validation(text)  # the HTTP doors' own check
    except ValidationError as exc:
        raise SpeechError("invalid_text", str(exc.detail[0])) from exc
    try:
        return tts_stream(text=text, vocoder=voice.vocoder, format="wav", keep=settings.TTS["WYOMING_RECORD"])
    except JobFailed as exc:
        raise SpeechError(exc.error.code, exc.error.message) from exc
    except SERVICE_FAILURES as exc:
        error = classify(exc)
        raise SpeechError(error.code, error.message) from exc


def _next(chunks):
    try:
        return next(chunks, None)
    except JobFailed as exc:
        raise SpeechError(exc.error.code, exc.error.message) from exc


def _close(relay) -> None:
    relay.close()
    close_old_connections()


class TtsEventHandler(AsyncEventHandler):
    def __init__(self, reader, writer) -> None:
        super().__init__(reader, writer)
        self._session: dict | None = None  # a streaming-text session: voice, text not yet spoken, audio started

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(info().event())
        elif SynthesizeStart.is_type(event.type):
            start = SynthesizeStart.from_event(event)
            self._session = {"voice": start.voice.name if start.voice else None, "text": "", "started": False}
        elif SynthesizeChunk.is_type(event.type) and self._session is not None:
            session = self._session
            session["text"] += SynthesizeChunk.from_event(event).text
            sentences, session["text"] = complete_sentences(session["text"])
            limit = settings.TTS["HANDLER"].max_text_length
            if len(session["text"]) > limit:  # no sentence end for too long: speak up to the last space
                cut = session["text"].rfind(" ", 0, limit)
                cut = cut if cut > 0 else limit
                sentences.append(session["text"][:cut])
                session["text"] = session["text"][cut:]
            for sentence in sentences:
                await self._speak_in_session(session, sentence)
        elif Synthesize.is_type(event.type):
            if self._session is None:  # inside a session it repeats the chunks for older servers
                request = Synthesize.from_event(event)
                started = await self._speak(request.text, request.voice.name if request.voice else None,
                                            start=True)
                if not started:  # refused or failed before any audio: the error event, then an empty stream
                    await self.write_event(AudioStart(rate=self._rate(), width=2, channels=1).event())
                await self.write_event(AudioStop().event())
        elif SynthesizeStop.is_type(event.type) and self._session is not None:
            session, self._session = self._session, None
            if session["text"].strip():
                await self._speak_in_session(session, session["text"])
            if not session["started"]:
                await self.write_event(AudioStart(rate=self._rate(), width=2, channels=1).event())
            await self.write_event(AudioStop().event())
            await self.write_event(SynthesizeStopped().event())
        return True

    def _rate(self) -> int:
        return 22050  # the voices' rate (announced for a stream that has no audio)

    async def _speak_in_session(self, session: dict, text: str) -> None:
        """One sentence of a session; one that cannot be spoken (e.g. only emoji) is skipped, the session goes on."""
        started = await self._speak(text, session["voice"], start=not session["started"], quiet=True)
        session["started"] = session["started"] or started

    async def _speak(self, text: str, voice: str | None, *, start: bool, quiet: bool = False) -> bool:
        """One text as audio-chunk events (after an audio-start when ``start``); an error event when it cannot be
        spoken (not ``quiet``). Returns whether an audio-start was written."""
        try:
            relay = await asyncio.to_thread(_start, text, voice)
        except SpeechError as exc:
            log.info("wyoming: refused (%s): %s", exc.code, exc.message)
            if not quiet:
                await self.write_event(Error(text=exc.message, code=exc.code).event())
            return False
        started = False
        try:
            chunks, encoder = iter(relay), None
            while True:
                chunk = await asyncio.to_thread(_next, chunks)
                if chunk is None:
                    break
                if encoder is None:
                    encoder = StreamEncoder("pcm", chunk.sample_rate)
                    if start:
                        await self.write_event(AudioStart(rate=chunk.sample_rate, width=2, channels=1).event())
                        started = True
                pcm = encoder.write(chunk.audio)
                step = SAMPLES_PER_CHUNK * 2
                for i in range(0, len(pcm), step):
                    await self.write_event(AudioChunk(rate=chunk.sample_rate, width=2, channels=1,
                                                      audio=pcm[i: i + step]).event())
        except SpeechError as exc:  # after audio began: say so; the caller ends the audio
            log.warning("wyoming: failed mid-speech (%s): %s", exc.code, exc.message)
            if not quiet:
                await self.write_event(Error(text=exc.message, code=exc.code).event())
        finally:
            await asyncio.to_thread(_close, relay)
        return started
