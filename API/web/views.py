"""The web page at /: type, listen, compare. Server-rendered (Django templates) with one small script of ours
(static/web/playground.js); it calls the same HTTP API as any client: /v1/audio/speech to stream, /api/tts/ for
the other formats, DELETE /api/tts/<uuid>/ from the history."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from tts_core.encoding import SAMPLE_RATES

from ..models import TTSound
from ..selectors import tts_audio_url, tts_history
from ..v1 import voices


@ensure_csrf_cookie
def playground(request):
    history = [{"sound": s, "audio_url": tts_audio_url(sound=s) if s.status == TTSound.Status.DONE else None}
               for s in tts_history(user=request.user)]
    return render(request, "web/playground.html", {
        "voices": voices.voices(),
        "vocoders": settings.TTS["HANDLER"].vocoders,
        "formats": TTSound.AudioFormat.choices,
        "sample_rates": SAMPLE_RATES,
        "max_text_length": settings.TTS["HANDLER"].max_text_length,
        "history": history,
        "anonymous_allowed": settings.TTS["ANONYMOUS_SYNTHESIS"],
        "streams_kept": settings.TTS["OPENAI_RECORD"],
    })


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True
