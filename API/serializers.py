from __future__ import annotations

import math

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tts_core.encoding import SAMPLE_RATES
from tts_core.text import TextError, check_speakable

from .models import TTSound
from .selectors import tts_audio_url


class StrictCharField(serializers.CharField):
    """A string, and only a string (DRF's CharField would turn 123 into '123')."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class SpeakableTextField(StrictCharField):
    """Text to synthesize: a non-blank string within TTS_MAX_TEXT_LENGTH that the voice can speak. Checked here,
    before anything is queued (a worker would only find the same error later), for every door."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", settings.TTS["HANDLER"].max_text_length)
        super().__init__(trim_whitespace=True, allow_blank=False, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            check_speakable(value)
        except TextError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value


class StrictFloatField(serializers.FloatField):
    """A JSON number (not a string or a boolean), finite."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float)) or not math.isfinite(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class RejectUnknownFieldsMixin:
    def validate(self, attrs):
        unknown = set(getattr(self, "initial_data", {}) or {}) - set(self.fields)
        if unknown:
            raise serializers.ValidationError({name: "Unknown field." for name in sorted(unknown)})
        return super().validate(attrs)


class TTSCreateInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    text = SpeakableTextField()
    sigma = StrictFloatField(required=False, min_value=0.0, max_value=2.0,
                             help_text="WaveGlow noise scale (default 0.666)")
    denoiser_strength = StrictFloatField(required=False, min_value=0.0, max_value=1.0,
                                         help_text="WaveGlow denoiser strength (default 0.01)")
    vocoder = serializers.ChoiceField(choices=TTSound.Vocoder.choices, required=False,
                                      help_text="waveglow (when configured) or griffinlim")
    format = serializers.ChoiceField(choices=TTSound.AudioFormat.choices, required=False, default="wav",
                                     help_text="the stored file's format: wav (default), mp3, opus (Ogg), aac, flac")
    speed = StrictFloatField(required=False, default=1.0, min_value=0.25, max_value=4.0,
                             help_text="0.25-4: the duration is divided by it, at the same pitch (default 1)")
    sample_rate = serializers.ChoiceField(choices=SAMPLE_RATES, required=False,
                                          help_text="the file's rate in Hz (default: the voice's own; opus takes "
                                                    "8000, 16000, 24000 or 48000 and goes up to the next)")
    timestamps = serializers.BooleanField(required=False, default=False,
                                          help_text="true: the record keeps word timings (words)")

    def get_fields(self):
        fields = super().get_fields()
        # "async" is a Python keyword: the field is added by name.
        fields["async"] = serializers.BooleanField(
            required=False, default=False,
            help_text="true: answer 202 at once with the queued job (also: header Prefer: respond-async)")
        return fields

    def validate_vocoder(self, value: str) -> str:
        if value not in settings.TTS["HANDLER"].vocoders:
            raise serializers.ValidationError(f"vocoder '{value}' is not available: no WaveGlow checkpoint is "
                                              "configured")
        return value


class TTSListFilterSerializer(serializers.Serializer):
    search = serializers.CharField(required=False, max_length=200)
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)
    status = serializers.ChoiceField(choices=TTSound.Status.choices, required=False)
    page = serializers.IntegerField(required=False, min_value=1)


class TTSCleanFilterSerializer(TTSListFilterSerializer):
    """Bulk deletion must say what it deletes: a date bound, or everything with all=true."""

    page = None  # not paginated

    all = serializers.BooleanField(required=False, default=False,
                                   help_text="true: delete every record that matches the other filters")

    def validate(self, attrs):
        if not attrs.get("all") and not (attrs.get("created_before") or attrs.get("created_after")):
            raise serializers.ValidationError(
                "say what to delete: created_before and/or created_after, or all=true for everything")
        return attrs


class JobErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ProgressSerializer(serializers.Serializer):
    sentences_done = serializers.IntegerField()
    sentences_total = serializers.IntegerField(help_text="0 until the text is split, when the job starts")


class WordSerializer(serializers.Serializer):
    word = serializers.CharField()
    start = serializers.FloatField(help_text="seconds from the start of the audio")
    end = serializers.FloatField()


class TTSoundOutputSerializer(serializers.ModelSerializer):
    audio_url = serializers.SerializerMethodField()
    format = serializers.CharField(source="audio_format", read_only=True)
    owner = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    words = WordSerializer(many=True, allow_null=True, read_only=True,
                           help_text="word timings, when asked for (timestamps: true) and done; null otherwise")

    class Meta:
        model = TTSound
        fields = ["uuid", "status", "text_content", "audio_url", "format", "duration", "sample_rate", "inference_time",
                  "voice", "vocoder", "sigma", "denoiser_strength", "truncated", "owner", "created_at", "progress",
                  "error", "started_at", "finished_at", "speed", "words"]

    def get_audio_url(self, obj: TTSound) -> str | None:
        """The access-checked audio URL (signed and expiring for owned records), once done; absolute when there is
        a request."""
        if obj.status != TTSound.Status.DONE:
            return None
        url = tts_audio_url(sound=obj)
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url

    def get_owner(self, obj: TTSound) -> str | None:
        return obj.owner.get_username() if obj.owner_id else None

    @extend_schema_field(JobErrorSerializer(allow_null=True))
    def get_error(self, obj: TTSound) -> dict | None:
        """Why the job failed (or, while queued again, why it is retried); null otherwise."""
        return {"code": obj.error_code, "message": obj.error} if obj.error else None

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, obj: TTSound) -> dict:
        return {"sentences_done": obj.sentences_done, "sentences_total": obj.sentences_total}
