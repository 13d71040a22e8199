"""scripts/bench_text.py: per-class accuracy of the front end on its case files, and its speed, as a report."""
from __future__ import annotations

import importlib.util
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def load():
    spec = importlib.util.spec_from_file_location("bench_text", ROOT / "scripts/bench_text.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_reports_per_class_accuracy_and_speed(tmp_path, capsys):
    out = tmp_path / "text.json"
    cases = tmp_path / "cases.tsv"
    cases.write_text("# two classes, one case the front end gets wrong on purpose\n"
                     "date\tJuly 4, 1776\tjuly fourth, seventeen seventy-six\n"
                     "date\t07/04/2021\tjuly fourth, twenty twenty-one\n"
                     "telephone\t555-0199\tfive five five zero one nine nine | five five five one nine nine\n"
                     "measure\t15 kg\tfifteen kilos\n", encoding="utf-8")
    report = load().main(["--cases", str(cases), "--repeat", "1", "--json", str(out)])
    ours = report["engines"]["ours"]
    assert ours["per_class"]["date"] == {"right": 2, "total": 2}
    assert ours["per_class"]["telephone"] == {"right": 0, "total": 1}  # said with "oh", which neither reading has
    assert ours["per_class"]["measure"] == {"right": 0, "total": 1}  # kilograms, not the case's kilos
    assert ours["right"] == 2 and ours["ms_per_100_chars"] > 0
    assert json.loads(out.read_text())["cases"] == 4
    printed = capsys.readouterr().out
    assert "ms/100 chars" in printed and "CPU" in printed
