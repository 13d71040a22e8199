from django.contrib import admin
from django.utils.html import format_html

from .models import TTSound
from .selectors import tts_audio_url


@admin.register(TTSound)
class TTSoundAdmin(admin.ModelAdmin):
    list_display = ["excerpt", "player", "duration_s", "inference_s", "voice", "vocoder", "truncated", "owner",
                    "created_at"]
    list_filter = ["vocoder", "truncated", "voice"]
    search_fields = ["text_content", "uuid", "owner__username"]
    date_hierarchy = "created_at"
    readonly_fields = ["uuid", "player", "audio_join", "inference_time", "duration", "sample_rate", "voice",
                       "vocoder", "sigma", "denoiser_strength", "truncated", "created_at"]
    fields = ["uuid", "text_content", "player", "audio_join", "owner", "duration", "sample_rate", "inference_time",
              "voice", "vocoder", "sigma", "denoiser_strength", "truncated", "created_at"]
    list_select_related = ["owner"]

    def has_add_permission(self, request) -> bool:
        return False  # records come from synthesis, not from a form

    @admin.display(description="text")
    def excerpt(self, obj: TTSound) -> str:
        return str(obj)

    @admin.display(description="audio")
    def player(self, obj: TTSound) -> str:
        if not obj.audio_join:
            return "-"
        return format_html('<audio controls preload="none" src="{}"></audio>', tts_audio_url(sound=obj))

    @admin.display(description="duration (s)", ordering="duration")
    def duration_s(self, obj: TTSound) -> str:
        return f"{obj.duration:.2f}"

    @admin.display(description="inference (s)", ordering="inference_time")
    def inference_s(self, obj: TTSound) -> str:
        return f"{obj.inference_time:.2f}"
