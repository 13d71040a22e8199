import http.client
import importlib.util
import pathlib
import urllib.error

import pytest
import torch

from tests.tts_core.factories import tiny_tacotron, tiny_waveglow

ROOT = pathlib.Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("download_weights", ROOT / "scripts/download_weights.py")
dw = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dw)


def test_urls_are_the_dle_torch_hub_ngc_files():
    assert dw.CHECKPOINTS["fp32"]["tacotron2"].endswith(
        "/tacotron2_pyt_ckpt_fp32/versions/19.09.0/files/nvidia_tacotron2pyt_fp32_20190427")
    assert dw.CHECKPOINTS["fp16"]["waveglow"].endswith(
        "/waveglow_ckpt_amp/versions/19.09.0/files/nvidia_waveglowpyt_fp16_20190427")


def test_offline_fails_with_a_clear_message(tmp_path, monkeypatch, capsys):
    def offline(*args, **kwargs):  # the internet is the boundary we cannot reach here
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(dw.urllib.request, "urlopen", offline)
    assert dw.main(["--dest", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Are you offline?" in err and "bundled demo voice" in err
    assert list(tmp_path.iterdir()) == []  # nothing written (a failure mid-file: see below)


class _Response:
    """What ``urlopen`` returns, at the network boundary these tests cannot reach: ``headers`` and ``read(n)``,
    serving ``body`` in pieces, then ending the stream, or raising ``fail`` once ``fail_after`` bytes are out."""

    def __init__(self, body: bytes, length: int | None = None, fail: Exception | None = None,
                 fail_after: int | None = None, on_fail=None):
        self.body, self.pos = body, 0
        self.headers = {"Content-Length": str(len(body) if length is None else length)}
        self.fail, self.fail_after, self.on_fail = fail, fail_after, on_fail

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self, n):
        if self.fail is not None and self.pos >= self.fail_after:
            if self.on_fail:
                self.on_fail()
            raise self.fail
        end = min(self.pos + min(n, 4096), len(self.body), self.fail_after or len(self.body))
        chunk, self.pos = self.body[self.pos: end], end
        return chunk


@pytest.fixture
def sources(tmp_path):
    """The two files as NGC serves them (DLE layout), from tiny random-weight models."""
    files = {"tacotron2": tmp_path / "src_t.pt", "waveglow": tmp_path / "src_w.pt"}
    torch.save({"state_dict": {"module." + k: v for k, v in tiny_tacotron().state_dict().items()}, "config": {}},
               files["tacotron2"])
    torch.save({"state_dict": tiny_waveglow().state_dict(), "config": {}}, files["waveglow"])
    return {name: path.read_bytes() for name, path in files.items()}


def _serve(monkeypatch, make_response):
    def urlopen(url, timeout=None):
        return make_response("tacotron2" if "tacotron2" in url else "waveglow")

    monkeypatch.setattr(dw.urllib.request, "urlopen", urlopen)


def test_download_verifies_and_prints_env(tmp_path, monkeypatch, capsys, sources):
    _serve(monkeypatch, lambda name: _Response(sources[name]))
    dest = tmp_path / "models"
    assert dw.main(["--dest", str(dest)]) == 0
    out = capsys.readouterr().out
    assert f"TTS_TACOTRON2_CHECKPOINT={dest / 'nvidia_tacotron2_fp32.pt'}" in out and "verified" in out
    assert sorted(p.name for p in dest.iterdir()) == ["nvidia_tacotron2_fp32.pt", "nvidia_waveglow_fp32.pt"]
    assert (dest / "nvidia_tacotron2_fp32.pt").read_bytes() == sources["tacotron2"]


@pytest.mark.parametrize("fail, message", [
    (ConnectionResetError(104, "Connection reset by peer"), "Connection reset by peer"),
    (TimeoutError("The read operation timed out"), "timed out"),
    (http.client.IncompleteRead(b"", 5000), "IncompleteRead"),  # a chunked response cut short
    (None, "stopped after 3000 of"),  # the connection closes early: http.client's read() just returns b""
])
def test_a_download_that_breaks_mid_file_leaves_nothing_behind(tmp_path, monkeypatch, capsys, sources, fail,
                                                               message):
    dest = tmp_path / "models"
    seen_at_failure = []

    def broken(name):
        body = sources[name]
        if fail is None:  # the server announced the whole file but sent 3000 bytes of it
            return _Response(body[:3000], length=len(body))
        return _Response(body, fail=fail, fail_after=3000,
                         on_fail=lambda: seen_at_failure.extend(sorted(p.name for p in dest.iterdir())))

    _serve(monkeypatch, broken)
    assert dw.main(["--dest", str(dest)]) == 2
    err = capsys.readouterr().err
    assert "error: " in err and message in err and "nvidia_tacotron2pyt_fp32" in err  # says what and which file
    if fail is not None:
        assert seen_at_failure == ["nvidia_tacotron2_fp32.pt.part"]  # it broke with part of the file written
    assert list(dest.iterdir()) == []  # neither the half-written .part nor a final file with part of the data

    _serve(monkeypatch, lambda name: _Response(sources[name]))  # the next run downloads again, and completes
    assert dw.main(["--dest", str(dest)]) == 0
    out = capsys.readouterr().out
    assert "already present" not in out and "verified" in out
    assert (dest / "nvidia_tacotron2_fp32.pt").read_bytes() == sources["tacotron2"]
