"""The demo voice shipped in the repository: loads, speaks, and takes plausible time for its text."""
import numpy as np
import pytest

from tts_core import HandlerConfig, TacotronHandler
from tts_core.checkpoints import read_tacotron2
from tts_core.voices import DEMO_TACOTRON2

pytestmark = pytest.mark.skipif(not DEMO_TACOTRON2.is_file(), reason="bundled voice not exported yet")


def test_bundled_checkpoint_is_small_and_self_describing():
    assert DEMO_TACOTRON2.stat().st_size < 25_000_000
    loaded = read_tacotron2(DEMO_TACOTRON2)
    assert loaded.text_frontend == "arpabet" and loaded.audio_config.sampling_rate == 22050
    assert "flite" in loaded.metadata.get("model_card", "")


def test_bundled_voice_speaks_with_plausible_duration():
    handler = TacotronHandler(HandlerConfig(seed=0)).initialize()
    assert handler.voice.startswith("demo")
    text = "Please open the door and turn on the lights in the kitchen."  # 11 words
    result = handler.synthesize(text)
    assert not result.truncated
    assert 1.8 < result.duration < 8.0  # about 2-4 words per second for read speech
    assert float(np.abs(result.audio).max()) > 0.1
