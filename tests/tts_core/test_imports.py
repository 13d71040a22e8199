"""What a process that never runs the models imports: a web process of the celery backend catches tts_core's
errors, reads its configuration and relays its results, all without PyTorch (hundreds of MB and a second or more
of start-up per manage.py command)."""
import subprocess
import sys


def test_errors_results_config_and_text_import_without_torch():
    code = ("import sys, tts_core\n"
            "from tts_core import HandlerConfig, ModelNotReadyError, SynthesisOptionError, SynthesisResult\n"
            "from tts_core.errors import CheckpointError, PrecisionError\n"
            "from tts_core.results import AudioChunk, WordTiming\n"
            "from tts_core.config import PRECISIONS\n"
            "from tts_core.text import check_speakable\n"
            "from tts_core.encoding import encode\n"
            "check_speakable('Hello there.')\n"
            "print('torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_errors_are_the_ones_the_model_code_raises():
    from tts_core import checkpoints, errors, handler, precision

    assert checkpoints.CheckpointError is errors.CheckpointError
    assert precision.PrecisionError is errors.PrecisionError
    assert handler.ModelNotReadyError is errors.ModelNotReadyError
    assert handler.SynthesisOptionError is errors.SynthesisOptionError
