"""What /v1/ serves: our voice ids, and the names OpenAI clients send mapped onto them.

Voices are this server's Tacotron2 voice with one of its vocoders: ``tacotron2`` (the default vocoder),
``tacotron2-griffinlim``, and ``tacotron2-waveglow`` when a WaveGlow checkpoint is configured. OpenAI's voice names
(alloy ... cedar) all mean the default voice unless TTS_OPENAI_VOICES maps them (or any other name) elsewhere, so a
client with hard-coded names works unchanged. Model names are not checked: clients send OpenAI's or whatever the
operator typed, and there is one model.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

MODEL_ID = "tacotron2"
OPENAI_MODELS = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")
OPENAI_VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse",
                 "marin", "cedar")
DEFAULT_VOICE = MODEL_ID


@dataclass(frozen=True)
class Voice:
    id: str
    vocoder: str | None  # None: the server's default vocoder
    description: str

    def as_dict(self, aliases: list[str]) -> dict:
        return {"id": self.id, "name": self.id, "object": "voice", "language": "en-US", "vocoder": self.vocoder,
                "description": self.description, "aliases": aliases}


def voices() -> list[Voice]:
    cfg = settings.TTS["HANDLER"]
    default = cfg.default_vocoder or ("waveglow" if "waveglow" in cfg.vocoders else "griffinlim")
    found = [Voice(DEFAULT_VOICE, None, f"Tacotron2 with the default vocoder ({default})"),
             Voice(f"{MODEL_ID}-griffinlim", "griffinlim", "Tacotron2 with Griffin-Lim (fast, no vocoder model)")]
    if "waveglow" in cfg.vocoders:
        found.append(Voice(f"{MODEL_ID}-waveglow", "waveglow", "Tacotron2 with WaveGlow (NVIDIA's vocoder)"))
    return found


def aliases() -> dict[str, str]:
    """Every accepted name that is not a voice id -> the voice id it means."""
    return {**{name: DEFAULT_VOICE for name in OPENAI_VOICES}, **settings.TTS["OPENAI_VOICES"]}


def resolve(name: str) -> Voice | None:
    by_id = {v.id: v for v in voices()}
    return by_id.get(name) or by_id.get(aliases().get(name, ""))


def catalogue() -> list[dict]:
    named = aliases()
    return [v.as_dict(sorted(a for a, target in named.items() if target == v.id)) for v in voices()]
