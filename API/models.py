from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from tts_core.encoding import FORMATS


def audio_upload_to(instance: "TTSound", filename: str) -> str:
    """Relative to MEDIA_ROOT: tts/YYYY/MM/DD/<uuid>.<ext> (the format's extension), or <uuid>-<n>.<ext> for a job's
    n-th attempt (n > 1), so an attempt that takes over from a dead one never writes, or deletes, the other's file."""
    day = instance.created_at or timezone.now()
    suffix = f"-{instance.attempts}" if instance.attempts > 1 else ""
    return f"tts/{day:%Y/%m/%d}/{instance.uuid}{suffix}.{FORMATS[instance.audio_format].extension}"


class TTSound(models.Model):
    """A synthesis and its audio. A job moves queued -> running -> done | failed; the audio file exists exactly when
    the status is done (a database constraint holds the name to that). The result fields (duration, sample rate,
    voice, inference time) are set when it is done; sigma, denoiser strength and vocoder hold what was asked until
    then, and the values used afterwards."""

    class Vocoder(models.TextChoices):
        WAVEGLOW = "waveglow", "WaveGlow"
        GRIFFINLIM = "griffinlim", "Griffin-Lim"

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    class AudioFormat(models.TextChoices):
        WAV = "wav", "WAV (16-bit PCM)"
        MP3 = "mp3", "MP3"
        OPUS = "opus", "Opus (Ogg)"
        AAC = "aac", "AAC (ADTS)"
        FLAC = "flac", "FLAC"

    class Backend(models.TextChoices):
        INLINE = "inline", "in the web process"
        CELERY = "celery", "on a Celery worker"

    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    text_content = models.TextField()
    audio_join = models.FileField(upload_to=audio_upload_to, max_length=255, blank=True)
    audio_format = models.CharField(max_length=8, choices=AudioFormat.choices, default=AudioFormat.WAV)
    inference_time = models.FloatField(null=True, blank=True, help_text="seconds spent synthesizing")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    duration = models.FloatField(null=True, blank=True, help_text="audio length in seconds")
    sample_rate = models.PositiveIntegerField(null=True, blank=True, help_text="the audio file's rate")
    voice = models.CharField(max_length=200, blank=True)
    vocoder = models.CharField(max_length=20, choices=Vocoder.choices, blank=True,
                               help_text="empty while queued: the voice's default")
    sigma = models.FloatField(null=True, blank=True)
    denoiser_strength = models.FloatField(null=True, blank=True)
    truncated = models.BooleanField(default=False, help_text="some sentence hit the decoder step limit")
    speed = models.FloatField(default=1.0, help_text="0.25-4: the duration is divided by it, at the same pitch")
    requested_sample_rate = models.PositiveIntegerField(null=True, blank=True,
                                                        help_text="the rate asked for; empty: the voice's own")
    timestamps = models.BooleanField(default=False, help_text="word timings were asked for")
    words = models.JSONField(null=True, blank=True, help_text='[{"word", "start", "end"}] in seconds, when asked for')
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="tts_sounds")
    # ---- the job
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    error = models.CharField(max_length=500, blank=True, help_text="why it failed (safe to show to the user)")
    error_code = models.CharField(max_length=40, blank=True)
    backend = models.CharField(max_length=10, choices=Backend.choices, default=Backend.INLINE)
    # inline: "inline:<host>:<pid>" of the process that holds the job; celery: the worker that last claimed it
    runner = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="times a worker has started it")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    sentences_done = models.PositiveIntegerField(default=0)
    sentences_total = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "TTS sound"
        constraints = [
            models.CheckConstraint(
                name="tts_audio_exactly_when_done",
                condition=(models.Q(status="done") & ~models.Q(audio_join=""))
                | (~models.Q(status="done") & models.Q(audio_join="")),
            ),
        ]

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    def __str__(self) -> str:
        text = self.text_content
        return text if len(text) <= 60 else text[:57] + "..."
