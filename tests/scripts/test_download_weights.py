import importlib.util
import pathlib
import urllib.error

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
    assert list(tmp_path.iterdir()) == []  # no half-written file


def test_download_verifies_and_prints_env(tmp_path, monkeypatch, capsys):
    files = {}
    files["tacotron2"] = tmp_path / "src_t.pt"
    torch.save({"state_dict": {"module." + k: v for k, v in tiny_tacotron().state_dict().items()}, "config": {}},
               files["tacotron2"])
    files["waveglow"] = tmp_path / "src_w.pt"
    torch.save({"state_dict": tiny_waveglow().state_dict(), "config": {}}, files["waveglow"])

    def fake_urlopen(url, timeout=None):
        return open(files["tacotron2" if "tacotron2" in url else "waveglow"], "rb")

    class Resp:
        def __init__(self, fh):
            self.fh, self.headers = fh, {}

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def read(self, n):
            return self.fh.read(n)

    monkeypatch.setattr(dw.urllib.request, "urlopen", lambda url, timeout=None: Resp(fake_urlopen(url)))
    dest = tmp_path / "models"
    assert dw.main(["--dest", str(dest)]) == 0
    out = capsys.readouterr().out
    assert f"TTS_TACOTRON2_CHECKPOINT={dest / 'nvidia_tacotron2_fp32.pt'}" in out and "verified" in out
    assert sorted(p.name for p in dest.iterdir()) == ["nvidia_tacotron2_fp32.pt", "nvidia_waveglow_fp32.pt"]
