import json

from tts_core.bench.__main__ import main


def test_benchmark_smoke_run_reports_every_component_and_fidelity(tmp_path, capsys):
    out = tmp_path / "bench.json"
    results = main(["--smoke", "--variants", "fp32", "fp32-fused", "bf16", "int8", "--output", str(out)])
    assert json.loads(out.read_text())["rows"] == results["rows"]
    rows = {(r["component"], r["variant"]): r for r in results["rows"]}
    for component in ("tacotron2", "waveglow", "denoiser", "end_to_end"):
        base = rows[(component, "fp32")]
        assert base["speedup_vs_fp32"] == 1.0 and base["latency_mean_s"] > 0 and base["real_time_factor"] > 0
        for key in ("latency_p50_s", "latency_p90_s", "latency_p95_s", "latency_p99_s", "samples_per_s",
                    "peak_memory_mb"):
            assert key in base
    assert rows[("tacotron2", "fp32-fused")]["mel_max_abs_error"] < 1e-4
    assert rows[("waveglow", "bf16")]["snr_db"] > 30
    assert rows[("tacotron2", "int8")]["mel_max_abs_error"] < 0.01
    assert "ms_per_decoder_step" in rows[("tacotron2", "fp32")]
    assert "end_to_end" in capsys.readouterr().out
