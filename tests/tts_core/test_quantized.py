import pytest
import torch

from tts_core.hardware import int8_gemm_available
from tts_core.models.fast import GemmWN, fast_waveglow
from tts_core.models.quantized import Int8Linear, Int8WN, QuantizedSpect, quantize_u8
from tts_core.models.waveglow import WN

from .factories import tiny_waveglow

pytestmark = pytest.mark.skipif(not int8_gemm_available(), reason="this PyTorch has no oneDNN quantized linear")


def _snr(reference: torch.Tensor, other: torch.Tensor) -> float:
    return float(10 * torch.log10(reference.pow(2).sum() / (reference - other).pow(2).sum()))


def test_u8_quantization_rounds_to_the_nearest_step_and_keeps_zero_exact():
    torch.manual_seed(0)
    x = torch.randn(300, 17) * 3
    x[0, 0] = 0.0
    q, scale = quantize_u8(x)
    assert q.dtype == torch.uint8 and scale == pytest.approx(float(x.abs().max()) / 127)
    back = (q.float() - 128) * scale
    assert float((back - x).abs().max()) <= scale / 2 * 1.001
    assert int(q[0, 0]) == 128 and 1 <= int(q.min()) and int(q.max()) <= 255
    q, scale = quantize_u8(torch.zeros(4, 4))  # no range: a harmless scale, every value the zero point
    assert scale == 1.0 and bool((q == 128).all())


def test_int8_linear_matches_the_float_product_and_accumulates_in_place():
    torch.manual_seed(1)
    w, b, x = torch.randn(48, 40) * 0.1, torch.randn(48), torch.randn(64, 40)
    ref = torch.addmm(b, x, w.t())
    lin = Int8Linear(w, b)
    q, scale = quantize_u8(x)
    y = lin(q, scale)
    assert y.dtype == torch.float32 and y.shape == (64, 48)
    assert float((y - ref).abs().max()) < 0.03 * float(ref.abs().max())
    acc = torch.randn(64, 48)
    before = acc.clone()
    out = lin(q, scale, acc)
    assert out.data_ptr() == acc.data_ptr()  # the sum is the GEMM's epilogue, into the given buffer
    torch.testing.assert_close(acc - before, y, rtol=0, atol=1e-4)


@pytest.mark.parametrize("batch, t", [(1, 40), (2, 5)])  # t=5: the dilations 8 and 16 reach past both ends
def test_int8_wn_follows_the_float_network(batch, t):
    torch.manual_seed(2)
    wn = WN(4, 24, n_layers=5, n_channels=32, kernel_size=3, weight_norm=False).eval()
    torch.nn.init.normal_(wn.end.weight, std=0.1)
    audio, spect = torch.randn(batch, 4, t), torch.randn(batch, 24, t)
    with torch.inference_mode():
        ref = wn(audio, spect)
        out = Int8WN(wn)(audio, spect)
        shared = Int8WN(wn)(audio, Int8WN.prepare_spect(spect))
    assert out.shape == ref.shape and out.dtype == torch.float32
    assert _snr(ref, out) > 30
    torch.testing.assert_close(shared, out, rtol=0, atol=0)  # quantizing the conditioning once is the same


def test_int8_wn_keeps_utterances_apart_in_a_batch():
    """Each utterance's taps end at its own edges: an utterance batched with itself (the same activation ranges, so
    the same scales) gives exactly what it gives alone; with another one, both stay faithful."""
    torch.manual_seed(3)
    wn = WN(4, 24, n_layers=4, n_channels=32, kernel_size=3, weight_norm=False).eval()
    torch.nn.init.normal_(wn.end.weight, std=0.1)
    int8 = Int8WN(wn)
    audio, spect = torch.randn(1, 4, 30), torch.randn(1, 24, 30)
    other_audio, other_spect = torch.randn(1, 4, 30) * 0.5, torch.randn(1, 24, 30)
    with torch.inference_mode():
        alone = int8(audio, spect)
        twice = int8(torch.cat([audio, audio]), torch.cat([spect, spect]))
        mixed = int8(torch.cat([audio, other_audio]), torch.cat([spect, other_spect]))
        ref = wn(torch.cat([audio, other_audio]), torch.cat([spect, other_spect]))
    torch.testing.assert_close(twice[:1], alone, rtol=0, atol=1e-5)
    torch.testing.assert_close(twice[1:], alone, rtol=0, atol=1e-5)
    assert _snr(ref[:1], mixed[:1]) > 30 and _snr(ref[1:], mixed[1:]) > 30


def test_int8_waveglow_audio_snr_above_30_db_with_same_noise_and_the_original_untouched():
    model = tiny_waveglow(weight_norm=True)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    mel = torch.randn(1, 80, 12)
    ref = model.infer(mel, sigma=0.666, generator=torch.Generator().manual_seed(4))
    fast = fast_waveglow(model, torch.int8)
    assert all(isinstance(wn, Int8WN) for wn in fast.WN) and not isinstance(fast.WN[0], GemmWN)
    with torch.inference_mode():
        out = fast.infer(mel, sigma=0.666, generator=torch.Generator().manual_seed(4))
    assert out.shape == ref.shape
    assert 30 < _snr(ref, out) < float("inf")
    assert model.has_weight_norm and all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_quantized_spect_is_one_tensor_for_all_flows():
    spect = torch.randn(2, 6, 7)
    prepared = Int8WN.prepare_spect(spect)
    assert isinstance(prepared, QuantizedSpect) and prepared.values.shape == (14, 6)
    rows = spect.transpose(1, 2).reshape(14, 6)
    assert float(((prepared.values.float() - 128) * prepared.scale - rows).abs().max()) <= prepared.scale / 2 * 1.001
