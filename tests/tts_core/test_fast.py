import pytest
import torch

from tts_core.models.fast import FusedLSTMCell, fast_tacotron2, fast_waveglow, quantize_rows_int8

from .factories import tiny_tacotron, tiny_waveglow


def _mels(model, x, n, steps=12):
    return model.infer_full(x, n, max_decoder_steps=steps, gate_threshold=1.1, prenet_dropout=0.0)


@pytest.mark.parametrize("batch", [1, 2])  # batch 1 takes the matrix-vector path
def test_fused_fp32_decoder_matches_eager_exactly(batch):
    model = tiny_tacotron()
    x, n = torch.randint(12, 148, (2, 9))[:batch], torch.tensor([9, 6])[:batch]
    ref, fast = _mels(model, x, n), _mels(fast_tacotron2(model, torch.float32), x, n)
    torch.testing.assert_close(fast.mel_outputs_postnet, ref.mel_outputs_postnet, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(fast.alignments, ref.alignments, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(fast.gate_outputs, ref.gate_outputs, rtol=1e-5, atol=1e-5)


def test_bf16_decoder_stays_close_and_leaves_the_original_untouched():
    model = tiny_tacotron()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, n = torch.randint(12, 148, (1, 9)), torch.tensor([9])
    fast = fast_tacotron2(model, torch.bfloat16)
    err = (_mels(fast, x, n).mel_outputs_postnet - _mels(model, x, n).mel_outputs_postnet).abs().max()
    assert float(err) < 0.05  # stated tolerance for the bf16 decoder (state and gates stay fp32)
    assert fast.decoder.attention_rnn.weight.dtype == torch.bfloat16
    after = model.state_dict()
    assert set(after) == set(before) and all(torch.equal(before[k], after[k]) for k in before)
    assert not list(model.decoder.buffers())


def test_int8_rows_reconstruct_within_half_a_step_and_never_overflow():
    w = torch.randn(64, 48) * torch.logspace(-3, 1, 64)[:, None]  # rows of very different ranges
    q, scale = quantize_rows_int8(w)
    assert q.dtype == torch.int8 and scale.dtype == torch.bfloat16
    assert int(q.abs().max()) <= 127 and (q.abs().amax(dim=1) >= 126).all()  # each row uses its full range
    err = (q.float() * scale.float()[:, None] - w).abs()
    assert (err <= scale.float()[:, None] / 2 + 1e-12).all()


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("width", [12, 16])  # 12: fused widths 60 and 56 get padded to 64; 16: 64 and 64, no padding
def test_int8_decoder_stays_close_to_eager(batch, width):
    model = tiny_tacotron(attention_rnn_dim=width, decoder_rnn_dim=width)
    x, n = torch.randint(12, 148, (2, 9))[:batch], torch.tensor([9, 6])[:batch]
    fast = fast_tacotron2(model, torch.int8)
    ref, out = _mels(model, x, n), _mels(fast, x, n)
    assert fast.decoder.attention_rnn.weight.dtype == torch.int8
    assert fast.decoder.attention_rnn.pad == (-(model.decoder.attention_rnn.input_size + width) % 16)
    err = (out.mel_outputs_postnet - ref.mel_outputs_postnet).abs().max()
    scale = ref.mel_outputs_postnet.abs().max()
    assert float(err) < 0.05 * float(scale)  # stated tolerance: 5% of the mel range on random weights
    torch.testing.assert_close(out.alignments, ref.alignments, rtol=0, atol=0.05)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.int8])
@pytest.mark.parametrize("prenet_dropout", [0.0, 0.5])
@pytest.mark.parametrize("seeded", [False, True])  # dropout from the global stream, or masks from a generator
def test_traced_steps_give_the_same_numbers_and_random_draws_as_python_steps(dtype, prenet_dropout, seeded):
    model = tiny_tacotron()
    traced, plain = fast_tacotron2(model, dtype), fast_tacotron2(model, dtype, trace=False)
    assert traced.decoder.step_runner is not None and plain.decoder.step_runner is None
    # Batch 1, then batches of other sizes and lengths than the graphs were traced with.
    for x, n in [(torch.randint(12, 148, (1, 9)), torch.tensor([9])),
                 (torch.randint(12, 148, (3, 13)), torch.tensor([13, 7, 10]))]:
        outs = []
        for m in (traced, plain):  # the first traced call traces: it must not disturb the seeded stream
            torch.manual_seed(5)
            generator = torch.Generator().manual_seed(6) if seeded else None
            outs.append(m.infer_full(x, n, max_decoder_steps=12, gate_threshold=0.6, prenet_dropout=prenet_dropout,
                                     generator=generator))
        for a, b in zip(outs[0], outs[1]):
            assert torch.equal(a, b)
    with_masks = seeded and prenet_dropout > 0
    assert set(traced.decoder.step_runner.graphs) == {(True, prenet_dropout, 0.6, with_masks),
                                                      (False, prenet_dropout, 0.6, with_masks)}


def test_fast_decoder_swaps_only_the_cells_and_keeps_the_step():
    model = tiny_tacotron()
    fast = fast_tacotron2(model, torch.int8)
    assert isinstance(fast.decoder, type(model.decoder)) and fast.decoder is not model.decoder
    assert isinstance(fast.decoder.attention_rnn, FusedLSTMCell) and isinstance(fast.decoder.decoder_rnn,
                                                                                 FusedLSTMCell)
    assert isinstance(model.decoder.attention_rnn, torch.nn.LSTMCell)  # the original keeps its cells
    for name in ("prenet", "attention_layer", "linear_projection", "gate_layer"):
        assert getattr(fast.decoder, name) is getattr(model.decoder, name)
    assert fast.encoder is model.encoder and fast.postnet is model.postnet


@pytest.mark.parametrize("batch", [1, 3])
def test_fused_fp32_cell_matches_lstm_cell(batch):
    cell = torch.nn.LSTMCell(10, 6)
    x, h, c = torch.randn(batch, 10), torch.randn(batch, 6), torch.randn(batch, 6)
    ref = cell(x, (h, c))
    out = FusedLSTMCell(cell, torch.float32)(x, (h, c))
    for a, b in zip(out, ref):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_traced_decoder_is_thread_safe():
    import threading

    model = fast_tacotron2(tiny_tacotron(), torch.int8)
    inputs = [(torch.randint(12, 148, (1, k)), torch.tensor([k])) for k in (5, 9, 12, 7)]
    expected = [_mels(model, x, n).mel_outputs for x, n in inputs]
    model.decoder.step_runner.graphs.clear()  # the threads race to trace the graph
    results = [None] * 4

    def work(i):
        for _ in range(3):
            results[i] = _mels(model, *inputs[i]).mel_outputs

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(4):
        assert torch.equal(results[i], expected[i])
    assert len(model.decoder.step_runner.graphs) == 1


def test_bf16_waveglow_audio_snr_above_30_db_with_same_noise():
    model = tiny_waveglow(weight_norm=False)
    mel = torch.randn(1, 80, 12)
    ref = model.infer(mel, sigma=0.666, generator=torch.Generator().manual_seed(4))
    fast = fast_waveglow(model, torch.bfloat16)
    out = fast.infer(mel, sigma=0.666, generator=torch.Generator().manual_seed(4))
    snr = 10 * torch.log10(ref.pow(2).sum() / (ref - out).pow(2).sum())
    assert float(snr) > 30
    assert fast.wn_dtype == torch.bfloat16 and fast.convinv[0].conv.weight.dtype == torch.float32
    assert model.WN[0].start.weight.dtype == torch.float32  # the original is untouched


def test_gemm_wn_in_fp32_matches_the_convolutions_with_weight_norm_folded():
    model = tiny_waveglow(weight_norm=True)
    mel = torch.randn(2, 80, 9)
    ref = model.infer(mel, sigma=0.666, generator=torch.Generator().manual_seed(1))
    out = fast_waveglow(model, torch.float32).infer(mel, sigma=0.666, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)
    assert model.has_weight_norm  # the original is untouched
