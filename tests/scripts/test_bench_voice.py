"""scripts/bench_voice.py: the bundled voice's speed on one sentence, variants side by side, as a report."""
from __future__ import annotations

import importlib.util
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_voice_benchmark_reports_each_variant(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("bench_voice", ROOT / "scripts/bench_voice.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "voice.json"
    report = bench.main(["--runs", "1", "--iters", "4", "--no-piper", "--json", str(out)])
    assert set(report["variants"]) == {"ours gl4 torch.istft", "ours gl4"}
    for row in report["variants"].values():
        assert row["audio_s"] > 5 and row["seconds"] > 0 and row["real_time_factor"] == row["audio_s"] / row["seconds"]
        assert 0 < row["vocoder_s"] < row["seconds"]
    # the two inverse STFTs are the same function: the same voice and noise give the same length of audio
    rows = list(report["variants"].values())
    assert rows[0]["audio_s"] == rows[1]["audio_s"]
    assert json.loads(out.read_text())["cpu"] and "x real time" in capsys.readouterr().out
