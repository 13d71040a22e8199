"""The exported ONNX graphs give the same numbers as PyTorch."""
import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")

from tts_core.onnx_export import export_tacotron2, export_waveglow  # noqa: E402
from tts_core.onnx_runtime import OnnxTacotron2, OnnxWaveGlow  # noqa: E402

from .factories import tiny_tacotron, tiny_waveglow  # noqa: E402


@pytest.mark.parametrize("r", [1, 2])
def test_tacotron2_onnx_matches_pytorch(tmp_path, r):
    model = tiny_tacotron(n_frames_per_step=r)
    model.decoder.gate_layer.linear_layer.bias.data.fill_(-1.5)  # stops after some steps
    before = {k: v.clone() for k, v in model.state_dict().items()}
    export_tacotron2(model, tmp_path)
    assert not model.training and not any(m.training for m in model.modules())  # export leaves it untouched
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    runner = OnnxTacotron2(tmp_path, n_frames_per_step=r)
    for n in (7, 15):  # dynamic text length
        seq = torch.randint(12, 148, (1, n))
        ref = model.infer_full(seq, torch.tensor([n]), max_decoder_steps=30, prenet_dropout=0.0)
        out = runner.infer(seq[0].tolist(), max_decoder_steps=30, prenet_dropout=0.0)
        assert out.mel_length == int(ref.mel_lengths[0]) and out.truncated == bool(ref.truncated[0])
        np.testing.assert_allclose(out.mel_postnet, ref.mel_outputs_postnet.numpy(), rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(out.alignments, ref.alignments[0].numpy(), rtol=1e-3, atol=1e-5)


def test_prenet_dropout_in_onnx_is_random_unless_seeded(tmp_path):
    model = tiny_tacotron()
    model.decoder.gate_layer.linear_layer.bias.data.fill_(-20.0)
    export_tacotron2(model, tmp_path)
    runner = OnnxTacotron2(tmp_path)
    a, b = (runner.infer([20, 21, 22, 23], max_decoder_steps=5, seed=s).mel_postnet for s in (1, 2))
    assert not np.allclose(a, b)
    assert np.array_equal(runner.infer([20, 21], max_decoder_steps=5, seed=3).mel_postnet,
                          runner.infer([20, 21], max_decoder_steps=5, seed=3).mel_postnet)


def test_waveglow_onnx_matches_pytorch(tmp_path):
    model = tiny_waveglow(weight_norm=True)
    path = export_waveglow(model, tmp_path)
    runner = OnnxWaveGlow(path)
    for frames in (5, 11):  # dynamic length
        mel = torch.randn(1, 80, frames)
        z = runner.noise(1, frames, sigma=0.666, seed=frames)
        ref = model.infer(mel, sigma=1.0, noise=torch.from_numpy(z))
        audio = runner.infer(mel.numpy(), z=z)
        assert audio.shape == (1, frames * 256)
        np.testing.assert_allclose(audio, ref.numpy(), rtol=1e-3, atol=1e-4)
