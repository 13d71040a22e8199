"""OpenAI's speech request, field for field (https://platform.openai.com/docs/api-reference/audio/createSpeech),
plus this server's extensions, which OpenAI SDKs send in ``extra_body``: sample_rate, sigma, denoiser_strength,
timestamps.
Unknown fields are ignored, as OpenAI-compatible servers do (clients add their own)."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tts_core.encoding import FORMATS, SAMPLE_RATES

from ..serializers import SpeakableTextField, StrictCharField, StrictFloatField
from . import voices

RESPONSE_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
assert set(RESPONSE_FORMATS) <= set(FORMATS)


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "object", "required": ["id"],
                                                     "properties": {"id": {"type": "string"}}}]})
class VoiceField(serializers.Field):
    """A voice name, or OpenAI's custom-voice object {"id": ...}."""

    default_error_messages = {"invalid": "voice must be a string or an object with an id",
                              "unknown": "unknown voice '{name}'; voices here: {choices}"}

    def to_internal_value(self, data) -> voices.Voice:
        if isinstance(data, dict):
            data = data.get("id")
        if not isinstance(data, str) or not data.strip():
            self.fail("invalid")
        voice = voices.resolve(data.strip())
        if voice is None:
            self.fail("unknown", name=data[:100],
                      choices=", ".join([v.id for v in voices.voices()] + list(voices.OPENAI_VOICES)))
        return voice

    def to_representation(self, value):
        return value.id


class SpeechInputSerializer(serializers.Serializer):
    model = StrictCharField(max_length=200, help_text=f"any model name ({', '.join(voices.OPENAI_MODELS)}, "
                                                      f"{voices.MODEL_ID}, ...): there is one model")
    input = SpeakableTextField()
    voice = VoiceField(help_text="a voice id (GET /v1/audio/voices) or an OpenAI voice name")
    instructions = StrictCharField(required=False, allow_blank=True, max_length=4096,
                                   help_text="accepted and ignored (as by OpenAI's tts-1 models)")
    response_format = serializers.ChoiceField(choices=RESPONSE_FORMATS, default="mp3", required=False)
    speed = StrictFloatField(required=False, default=1.0, min_value=0.25, max_value=4.0)
    stream_format = serializers.ChoiceField(choices=("audio", "sse"), default="audio", required=False)
    sample_rate = serializers.ChoiceField(choices=SAMPLE_RATES, required=False,
                                          help_text="extension: output rate in Hz (default: 24000 for pcm, as "
                                                    "OpenAI's; the voice's own for the others)")
    sigma = StrictFloatField(required=False, min_value=0.0, max_value=2.0, help_text="extension: WaveGlow noise")
    denoiser_strength = StrictFloatField(required=False, min_value=0.0, max_value=1.0,
                                         help_text="extension: WaveGlow denoiser")
    timestamps = serializers.BooleanField(required=False, default=False,
                                          help_text="extension: the record (X-TTS-Sound) keeps word timings")
