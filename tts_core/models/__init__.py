"""Network definitions: Tacotron2 (text -> mel) and WaveGlow (mel -> audio)."""
from .config import AudioConfig, Tacotron2Config, WaveGlowConfig
from .decoder import DecoderState
from .tacotron2 import Tacotron2, TacotronOutput
from .waveglow import WaveGlow

__all__ = ["AudioConfig", "DecoderState", "Tacotron2", "Tacotron2Config", "TacotronOutput", "WaveGlow",
           "WaveGlowConfig"]
