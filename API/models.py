from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


def audio_upload_to(instance: "TTSound", filename: str) -> str:
    """Relative to MEDIA_ROOT: tts/YYYY/MM/DD/<uuid>.wav (the file is written before the row exists)."""
    day = instance.created_at or timezone.now()
    return f"tts/{day:%Y/%m/%d}/{instance.uuid}.wav"


class TTSound(models.Model):
    class Vocoder(models.TextChoices):
        WAVEGLOW = "waveglow", "WaveGlow"
        GRIFFINLIM = "griffinlim", "Griffin-Lim"

    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    text_content = models.TextField()
    audio_join = models.FileField(upload_to=audio_upload_to, max_length=255)
    inference_time = models.FloatField(help_text="seconds spent synthesizing")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    duration = models.FloatField(help_text="audio length in seconds")
    sample_rate = models.PositiveIntegerField()
    voice = models.CharField(max_length=200)
    vocoder = models.CharField(max_length=20, choices=Vocoder.choices)
    sigma = models.FloatField(null=True, blank=True)
    denoiser_strength = models.FloatField(null=True, blank=True)
    truncated = models.BooleanField(default=False, help_text="some sentence hit the decoder step limit")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="tts_sounds")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "TTS sound"

    def __str__(self) -> str:
        text = self.text_content
        return text if len(text) <= 60 else text[:57] + "..."
