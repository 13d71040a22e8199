"""Inference benchmark modelled on NVIDIA DeepLearningExamples' inference_perf: ``python -m tts_core.bench``."""
