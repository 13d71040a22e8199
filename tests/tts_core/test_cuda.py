"""The CUDA path, run where a GPU is (scripts/gpu_check.sh runs this file on a lent machine; elsewhere it skips):
Tacotron2 on CUDA equals the CPU, fp16 WaveGlow stays faithful, and the handler speaks on the GPU."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from tts_core import HandlerConfig, TacotronHandler
from tts_core.bench.stats import snr_db
from tts_core.precision import prepare_models
from tts_core.text import text_to_sequence

from .factories import save_our_tacotron, tiny_tacotron, tiny_waveglow

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (scripts/gpu_check.sh)")
CUDA = torch.device("cuda")


def _batch(device):
    ids = text_to_sequence("Hello there, this runs on the GPU.")
    return torch.tensor([ids], device=device), torch.tensor([len(ids)], device=device)


def test_tacotron2_on_cuda_gives_the_cpus_mels():
    model = tiny_tacotron()
    with torch.inference_mode():
        cpu = model.infer_full(*_batch("cpu"), max_decoder_steps=30, prenet_dropout=0.0)
        gpu = model.to(CUDA).infer_full(*_batch(CUDA), max_decoder_steps=30, prenet_dropout=0.0)
    assert gpu.mel_outputs_postnet.shape == cpu.mel_outputs_postnet.shape
    assert (gpu.mel_outputs_postnet.cpu() - cpu.mel_outputs_postnet).abs().max() < 1e-3


def test_fp16_waveglow_on_cuda_is_faithful_to_fp32():
    wg = tiny_waveglow(weight_norm=False).to(CUDA)
    mel = torch.randn(1, 80, 40, device=CUDA) * 0.5 - 4
    reference = prepare_models(tiny_tacotron().to(CUDA), wg, "eager", CUDA)
    fast = prepare_models(tiny_tacotron().to(CUDA), wg, "fp16", CUDA)
    outs = []
    for models in (reference, fast):
        with models.context():
            outs.append(models.waveglow.infer(mel, sigma=0.666, generator=torch.Generator(CUDA).manual_seed(3))
                        .float().cpu())
    assert snr_db(outs[0], outs[1]) >= 30


def test_the_handler_speaks_on_the_gpu_in_fp16(tmp_path):
    tpath = save_our_tacotron(tmp_path / "t.pt", tiny_tacotron(max_decoder_steps=60))
    wpath = tmp_path / "w.pt"
    torch.save({"state_dict": tiny_waveglow().state_dict()}, wpath)
    handler = TacotronHandler(HandlerConfig(tacotron2_checkpoint=str(tpath), waveglow_checkpoint=str(wpath),
                                            device="cuda", precision="auto")).initialize()
    result = handler.synthesize("Hello from the graphics card.")
    assert handler.precision == "fp16"
    assert result.audio.dtype == np.float32 and np.isfinite(result.audio).all() and np.abs(result.audio).max() > 0


def test_decoder_steps_replayed_from_cuda_graphs_give_the_eager_mels():
    """TTS_CUDA_GRAPHS: the same mels and lengths as the eager steps, for two texts of one length bucket (the
    second reuses the first's graph and must not see its longer memory), in fp16 as the service runs it."""
    model = tiny_tacotron().to(CUDA)
    eager = prepare_models(model, None, "fp16", CUDA)
    graphed = prepare_models(model, None, "fp16", CUDA, cuda_graphs=True)
    assert "CUDA graphs" in graphed.kernels["tacotron2_decoder"]
    steps = graphed.tacotron2.decoder.step_runner
    for text in ("A longer sentence comes first, to fill the buffers.", "Then a short one."):
        ids = text_to_sequence(text)
        seqs, lens = torch.tensor([ids], device=CUDA), torch.tensor([len(ids)], device=CUDA)
        outs = []
        for models in (eager, graphed):
            with models.context():
                gen = torch.Generator(CUDA).manual_seed(5)
                outs.append(models.tacotron2.infer_full(seqs, lens, max_decoder_steps=60, stop_check_every=16,
                                                        generator=gen))
        assert torch.equal(outs[0].mel_lengths, outs[1].mel_lengths)
        assert (outs[0].mel_outputs_postnet.float() - outs[1].mel_outputs_postnet.float()).abs().max() < 2e-2
    assert steps.captures <= 4  # one bucket: a graph for the first step's dtypes and one for the rest, at most


def test_unseeded_graphed_steps_draw_fresh_dropout_and_a_padded_batch_matches_eager():
    """Unseeded requests (the service's default) draw the prenet dropout inside the graph: each replay must draw
    anew, so two runs differ. A batch of two texts of different lengths matches the eager steps when seeded."""
    model = tiny_tacotron().to(CUDA)
    graphed = prepare_models(model, None, "fp16", CUDA, cuda_graphs=True)
    eager = prepare_models(model, None, "fp16", CUDA)
    ids = text_to_sequence("Dropout must differ from one run to the next.")
    seqs, lens = torch.tensor([ids], device=CUDA), torch.tensor([len(ids)], device=CUDA)
    runs = []
    for _ in range(2):
        with graphed.context():
            out = graphed.tacotron2.infer_full(seqs, lens, max_decoder_steps=40, gate_threshold=1.1,
                                               stop_check_every=16)
        assert torch.isfinite(out.mel_outputs_postnet.float()).all()
        runs.append(out.mel_outputs_postnet.float())
    assert not torch.equal(runs[0], runs[1])
    texts = [text_to_sequence("A first and longer sentence of the batch."), text_to_sequence("A short one.")]
    seqs = torch.zeros(2, len(texts[0]), dtype=torch.long, device=CUDA)
    for row, t in enumerate(texts):
        seqs[row, : len(t)] = torch.tensor(t, device=CUDA)
    lens = torch.tensor([len(t) for t in texts], device=CUDA)
    outs = []
    for models in (eager, graphed):
        with models.context():
            outs.append(models.tacotron2.infer_full(seqs, lens, max_decoder_steps=40, stop_check_every=16,
                                                    generator=torch.Generator(CUDA).manual_seed(9)))
    assert torch.equal(outs[0].mel_lengths, outs[1].mel_lengths)
    assert (outs[0].mel_outputs_postnet.float() - outs[1].mel_outputs_postnet.float()).abs().max() < 2e-2
