"""Voices shipped with the package. The demo voice speaks when no NVIDIA checkpoint is configured."""
from __future__ import annotations

import pathlib

VOICES_DIR = pathlib.Path(__file__).resolve().parent
DEMO_TACOTRON2 = VOICES_DIR / "demo" / "tacotron2_demo.pt"
DEMO_MODEL_CARD = VOICES_DIR / "demo" / "MODEL_CARD.md"
