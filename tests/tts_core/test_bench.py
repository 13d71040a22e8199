import json

import pytest
import torch

from tts_core.bench.__main__ import main, variants
from tts_core.precision import prepare_models

from .factories import tiny_tacotron, tiny_waveglow


def test_benchmark_smoke_run_reports_every_component_and_fidelity(tmp_path, capsys):
    out = tmp_path / "bench.json"
    results = main(["--smoke", "--variants", "fp32", "bf16", "int8", "--output", str(out)])
    assert json.loads(out.read_text())["rows"] == results["rows"]
    rows = {(r["component"], r["variant"]): r for r in results["rows"]}
    for component in ("tacotron2", "waveglow", "denoiser", "end_to_end"):
        base = rows[(component, "eager")]
        assert base["latency_mean_s"] > 0 and base["real_time_factor"] > 0
        for key in ("latency_p50_s", "latency_p90_s", "latency_p95_s", "latency_p99_s", "samples_per_s",
                    "peak_memory_mb"):
            assert key in base
    assert rows[("tacotron2", "fp32")]["mel_max_abs_error"] < 1e-4  # fused cells and traced steps: eager to rounding
    # The lossy precisions (fp32 serves WaveGlow's reference modules: its SNR is infinite by construction). Smoke
    # models measure mel max error 0.0003 (bf16) / 0.0004 (int8) and SNR about 70 dB; the bounds leave a few times
    # that, and a finite SNR shows the row measured the lossy path, not the reference again.
    for variant in ("bf16", "int8"):
        assert 0 < rows[("tacotron2", variant)]["mel_max_abs_error"] < 0.005
        for component in ("waveglow", "end_to_end"):
            assert 50 < rows[(component, variant)]["snr_db"] < float("inf")
    assert "ms_per_decoder_step" in rows[("tacotron2", "eager")]
    # Which kernels each variant ran, in the JSON (the machines differ: a figure names its path).
    assert set(results["kernels"]) == {"eager", "fp32", "bf16", "int8"}
    assert results["kernels"]["bf16"]["waveglow_wn"] == "bf16 GEMMs"
    assert "cpu_vnni" in results and results["vocoder_input"] == "Tacotron2 mel"
    assert "end_to_end" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["fp32", "bf16", "int8"])
def test_the_benchmark_measures_the_models_the_service_serves(name):
    """A benchmark variant and the handler's models for the same precision come from the one prepare step: the
    same modules, the same numbers."""
    taco, wg = tiny_tacotron(), tiny_waveglow(weight_norm=False)
    bench = next(v for n, v in variants(taco, wg, torch.device("cpu"), [name]) if n == name)
    served = prepare_models(taco, wg, name, "cpu")
    assert type(bench.tacotron2.decoder.attention_rnn) is type(served.tacotron2.decoder.attention_rnn)
    assert type(bench.waveglow.WN[0]) is type(served.waveglow.WN[0])
    x, n = torch.randint(12, 148, (1, 9)), torch.tensor([9])
    with bench.context():
        a = bench.tacotron2.infer_full(x, n, max_decoder_steps=6, prenet_dropout=0.0).mel_outputs_postnet
        wa = bench.waveglow.infer(a, sigma=0.5, generator=torch.Generator().manual_seed(0))
    with served.context():
        b = served.tacotron2.infer_full(x, n, max_decoder_steps=6, prenet_dropout=0.0).mel_outputs_postnet
        wb = served.waveglow.infer(b, sigma=0.5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and torch.equal(wa, wb)
