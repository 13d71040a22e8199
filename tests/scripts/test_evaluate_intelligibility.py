import importlib.util
import json
import pathlib

import pytest

from tests.tts_core.factories import save_our_tacotron, tiny_tacotron

ROOT = pathlib.Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("evaluate_intelligibility", ROOT / "scripts/evaluate_intelligibility.py")
ev = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ev)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("eval")
    taco = tiny_tacotron(max_decoder_steps=40)
    taco.decoder.gate_layer.linear_layer.bias.data.fill_(-3.0)  # run to the step limit: long enough to differ
    ckpt = save_our_tacotron(folder / "tacotron2.pt", taco)
    sentences = folder / "sentences.txt"
    sentences.write_text("Open the door.\nTurn on the lights, please.\n")
    return folder, ckpt, sentences


def run(folder, ckpt, sentences, seed, name):
    out = folder / name
    ev.main(["--sentences", str(sentences), "--tacotron2", str(ckpt), "--no-teacher", "--seed", str(seed),
             "--out", str(out), "--json", str(folder / f"{name}.json")])
    return [p.read_bytes() for p in sorted(out.glob("*_ours.wav"))], json.loads((folder / f"{name}.json").read_text())


def test_same_seed_same_audio_other_seed_other_audio(setup, capsys):
    """The seed covers Tacotron2's prenet dropout (random at inference), so an evaluation can be repeated exactly."""
    first, report = run(*setup, seed=0, name="a")
    again, _ = run(*setup, seed=0, name="b")
    other, _ = run(*setup, seed=1, name="c")
    assert len(first) == 2 and first == again
    assert other != first
    rows = report["rows"]
    assert [r["reference"] for r in rows] == ["open the door", "turn on the lights please"]
    assert report["teacher_wer"] is None and all("teacher" not in r for r in rows)  # --no-teacher
    # This voice never stops by itself (gate bias -3): every sentence is reported as cut at the step limit.
    assert [r["truncated"] for r in rows] == [True, True]
    assert "truncated: 2/2" in capsys.readouterr().out


def test_normalise_matches_the_text_cleaner():
    assert ev.normalise("Dr. Smith's 2 cats -- well-fed!") == "doctor smith's two cats well fed"


def test_speed_is_evaluated_as_the_service_speaks_it(setup):
    folder, ckpt, sentences = setup
    ev.main(["--sentences", str(sentences), "--tacotron2", str(ckpt), "--no-teacher", "--seed", "0",
             "--json", str(folder / "normal.json")])
    ev.main(["--sentences", str(sentences), "--tacotron2", str(ckpt), "--no-teacher", "--seed", "0",
             "--speed", "2", "--json", str(folder / "fast.json")])
    normal, fast = (json.loads((folder / f"{n}.json").read_text()) for n in ("normal", "fast"))
    assert fast["speed"] == 2.0
    for slow_row, fast_row in zip(normal["rows"], fast["rows"]):
        assert fast_row["seconds"] == pytest.approx(slow_row["seconds"] / 2, abs=0.02)
