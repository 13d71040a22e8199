"""The errors tts_core raises, importable without PyTorch: a web process that only queues jobs (the celery
backend) catches them and never imports torch."""
from __future__ import annotations


class SynthesisOptionError(ValueError):
    """An option (sigma, denoiser strength, vocoder) is out of range or unavailable; safe to show to a user."""


class ModelNotReadyError(RuntimeError):
    """No usable checkpoint is configured or it failed to load."""


class CheckpointError(RuntimeError):
    """The file is not a checkpoint we can load, or its tensors do not fit the model."""


class PrecisionError(ValueError):
    """The precision is unknown or cannot run on this device."""
