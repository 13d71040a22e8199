from django.contrib import admin, messages
from django.utils.html import format_html

from .exceptions import QueueUnavailable
from .models import TTSound
from .selectors import tts_audio_url
from .services import tts_requeue


@admin.register(TTSound)
class TTSoundAdmin(admin.ModelAdmin):
    list_display = ["excerpt", "status", "progress", "player", "duration_s", "inference_s", "voice", "vocoder",
                    "truncated", "owner", "created_at"]
    list_filter = ["status", "backend", "vocoder", "truncated", "voice"]
    search_fields = ["text_content", "uuid", "owner__username"]
    date_hierarchy = "created_at"
    readonly_fields = ["uuid", "status", "progress", "error", "error_code", "backend", "runner", "attempts",
                       "started_at", "finished_at", "player", "audio_join", "inference_time", "duration",
                       "sample_rate", "voice", "vocoder", "sigma", "denoiser_strength", "truncated", "created_at"]
    fields = ["uuid", "status", "progress", "error", "error_code", "text_content", "player", "audio_join", "owner",
              "duration", "sample_rate", "inference_time", "voice", "vocoder", "sigma", "denoiser_strength",
              "truncated", "backend", "runner", "attempts", "created_at", "started_at", "finished_at"]
    list_select_related = ["owner"]
    actions = ["requeue"]

    def has_add_permission(self, request) -> bool:
        return False  # records come from synthesis, not from a form

    @admin.action(description="Re-queue the selected failed jobs")
    def requeue(self, request, queryset) -> None:
        failed = queryset.filter(status=TTSound.Status.FAILED)
        try:
            count = sum(tts_requeue(sound=sound) for sound in failed)
        except QueueUnavailable:
            self.message_user(request, "The job queue is unavailable; nothing more was re-queued.", messages.ERROR)
            return
        skipped = queryset.count() - count
        self.message_user(request, f"{count} job(s) re-queued" + (f"; {skipped} not failed, left as they are"
                                                                   if skipped else "."), messages.SUCCESS)

    @admin.display(description="text")
    def excerpt(self, obj: TTSound) -> str:
        return str(obj)

    @admin.display(description="progress")
    def progress(self, obj: TTSound) -> str:
        if not obj.sentences_total:
            return "-"
        return f"{obj.sentences_done}/{obj.sentences_total} sentences"

    @admin.display(description="audio")
    def player(self, obj: TTSound) -> str:
        if obj.status != TTSound.Status.DONE:
            return "-"
        return format_html('<audio controls preload="none" src="{}"></audio>', tts_audio_url(sound=obj))

    @admin.display(description="duration (s)", ordering="duration")
    def duration_s(self, obj: TTSound) -> str:
        return "-" if obj.duration is None else f"{obj.duration:.2f}"

    @admin.display(description="inference (s)", ordering="inference_time")
    def inference_s(self, obj: TTSound) -> str:
        return "-" if obj.inference_time is None else f"{obj.inference_time:.2f}"
