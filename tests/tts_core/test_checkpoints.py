import os
import pathlib
import re
import subprocess
import sys
import time
import types

import pytest
import torch

from tts_core.checkpoints import CheckpointError, load_tacotron2, load_waveglow, read_tacotron2
from tts_core.models import WaveGlow

from .factories import TINY_WAVEGLOW, save_our_tacotron, tiny_tacotron, tiny_waveglow


def _same_tacotron(a, b):
    x, n = torch.randint(12, 148, (1, 7)), torch.tensor([7])
    torch.testing.assert_close(a.infer_full(x, n, max_decoder_steps=5, prenet_dropout=0.0).mel_outputs_postnet,
                               b.infer_full(x, n, max_decoder_steps=5, prenet_dropout=0.0).mel_outputs_postnet)


def _same_waveglow(a, b):
    mel = torch.randn(1, 80, 4)
    torch.testing.assert_close(a.infer(mel, sigma=0.0), b.infer(mel, sigma=0.0), rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------------------------- Tacotron2
def test_nvidia_tacotron2_repo_format(tmp_path):
    model = tiny_tacotron()
    path = tmp_path / "tacotron2_statedict.pt"
    torch.save({"iteration": 10, "state_dict": model.state_dict(), "optimizer": {}, "learning_rate": 1e-3}, path)
    loaded = load_tacotron2(path)
    assert not loaded.training
    assert loaded.cfg.encoder_embedding_dim == 32 and loaded.cfg.attention_location_kernel_size == 7
    _same_tacotron(model, loaded)


@pytest.mark.parametrize("prefix", ["module.", "module.1."])
def test_dle_tacotron2_format_with_prefix_and_config(tmp_path, prefix):
    model = tiny_tacotron(n_frames_per_step=2, gate_threshold=0.4)
    sd = {prefix + k: v for k, v in model.state_dict().items()}
    config = {"n_mel_channels": 80, "max_decoder_steps": 123, "gate_threshold": 0.4, "epochs": 1500}
    path = tmp_path / "nvidia_tacotron2pyt_fp32.pt"
    torch.save({"state_dict": sd, "config": config, "epoch": 3}, path)
    loaded = load_tacotron2(path)
    assert loaded.cfg.n_frames_per_step == 2
    assert loaded.cfg.max_decoder_steps == 123 and loaded.cfg.gate_threshold == 0.4
    _same_tacotron(model, loaded)


def test_fp16_checkpoint_loads_as_float32(tmp_path):
    model = tiny_tacotron()
    path = tmp_path / "amp.pt"
    torch.save({"state_dict": {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}},
               path)
    loaded = load_tacotron2(path)
    assert {p.dtype for p in loaded.parameters()} == {torch.float32}
    reference = tiny_tacotron()  # the file's float16 values, in float32
    reference.load_state_dict({k: v.half().float() if v.is_floating_point() else v
                               for k, v in model.state_dict().items()})
    _same_tacotron(reference, loaded)


def test_our_checkpoint_carries_frontend_and_audio(tmp_path):
    path = save_our_tacotron(tmp_path / "ours.pt", tiny_tacotron(), text_frontend="arpabet")
    loaded = read_tacotron2(path)
    assert loaded.text_frontend == "arpabet" and loaded.audio_config.sampling_rate == 22050
    assert loaded.metadata["iteration"] == 7


def test_mismatching_checkpoint_names_the_keys(tmp_path):
    sd = tiny_tacotron().state_dict()
    sd["decoder.extra.weight"] = torch.zeros(1)
    del sd["decoder.gate_layer.linear_layer.bias"]
    path = tmp_path / "bad.pt"
    torch.save({"state_dict": sd}, path)
    with pytest.raises(CheckpointError) as err:
        load_tacotron2(path)
    assert "decoder.gate_layer.linear_layer.bias" in str(err.value) and "decoder.extra.weight" in str(err.value)


def test_waveglow_file_is_not_a_tacotron2(tmp_path):
    path = tmp_path / "wg.pt"
    torch.save({"state_dict": tiny_waveglow().state_dict()}, path)
    with pytest.raises(CheckpointError, match="embedding.weight"):
        load_tacotron2(path)


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all", b"PK\x03\x04broken zip"])
def test_garbage_files_give_checkpoint_error(tmp_path, content):
    path = tmp_path / "garbage.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError):
        load_waveglow(path)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_tacotron2(tmp_path / "nope.pt")


# --------------------------------------------------------------------------------------------- WaveGlow
def test_dle_waveglow_weight_norm_state_dict_loads_strict_and_converts(tmp_path):
    model = tiny_waveglow(weight_norm=True)
    # NVIDIA's own layout loads with strict=True into our module as it is.
    WaveGlow(TINY_WAVEGLOW, weight_norm=True).load_state_dict(model.state_dict(), strict=True)
    path = tmp_path / "nvidia_waveglow256pyt_fp32.pt"
    torch.save({"state_dict": {"module." + k: v for k, v in model.state_dict().items()}, "config": {}}, path)
    loaded = load_waveglow(path)
    assert not loaded.has_weight_norm and not loaded.training
    assert loaded.cfg.wn_n_channels == 16 and loaded.cfg.n_flows == 4 and loaded.cfg.n_early_every == 2
    _same_waveglow(model, loaded)


def test_dle_fp16_waveglow_loads_as_float32_with_its_half_precision_weights(tmp_path):
    """NGC's AMP file (nvidia_waveglowpyt_fp16) stores every tensor in float16, weight norm included. It loads as a
    float32 model that computes what the float16 weights say: weight norm folded in float32, nothing else lost."""
    model = tiny_waveglow(weight_norm=True)
    half = {k: v.half() for k, v in model.state_dict().items()}
    path = tmp_path / "nvidia_waveglow256pyt_fp16.pt"
    torch.save({"state_dict": {"module." + k: v for k, v in half.items()}, "config": {}}, path)
    assert all(v.dtype == torch.float16 for v in torch.load(path)["state_dict"].values())
    loaded = load_waveglow(path)
    assert {p.dtype for p in loaded.state_dict().values()} == {torch.float32}
    assert not loaded.has_weight_norm
    # The reference: the same network holding exactly the file's float16 values, run in float32 (its weight-norm
    # hook computes g * v / |v| in float32 at every call).
    reference = tiny_waveglow(weight_norm=True)
    reference.load_state_dict({k: v.float() for k, v in half.items()})
    mel = torch.randn(1, 80, 4)
    expected = reference.infer(mel, sigma=0.666, generator=torch.Generator().manual_seed(0))
    # float32 rounding only: rounding the folded weights to float16 once more is about 1e-4 off here
    torch.testing.assert_close(loaded.infer(mel, sigma=0.666, generator=torch.Generator().manual_seed(0)), expected,
                               rtol=1e-5, atol=1e-5)
    # ... and it is the half-precision network, not the float32 one it was rounded from
    original = model.infer(mel, sigma=0.666, generator=torch.Generator().manual_seed(0))
    assert float((original - expected).abs().max()) > 1e-4


def test_waveglow_without_weight_norm(tmp_path):
    model = tiny_waveglow(weight_norm=False)
    path = tmp_path / "plain.pt"
    torch.save(model.state_dict(), path)
    _same_waveglow(model, load_waveglow(path))


class _FakeGlowModule:
    """A stand-in ``glow`` / ``glow_old`` module created only inside the test, like NVIDIA/waveglow's files."""

    def __init__(self, name: str):
        self.name = name
        self.module = types.ModuleType(name)
        for cls in ("WaveGlow", "WN", "Invertible1x1Conv"):
            setattr(self.module, cls, type(cls, (torch.nn.Module,), {"__module__": name}))

    def __enter__(self):
        sys.modules[self.name] = self.module
        return self.module

    def __exit__(self, *exc):
        del sys.modules[self.name]


def _pickled_waveglow(glow, model: WaveGlow, layout: str) -> torch.nn.Module:
    """Rebuild ``model`` as an object of the fake glow classes with NVIDIA/waveglow's attribute layout."""
    obj = glow.WaveGlow()
    obj.upsample = model.upsample
    obj.n_flows, obj.n_group = model.n_flows, model.n_group
    obj.n_early_every, obj.n_early_size = model.n_early_every, model.n_early_size
    obj.n_remaining_channels = model.n_remaining_channels
    obj.WN = torch.nn.ModuleList()
    obj.convinv = torch.nn.ModuleList()
    for wn_src, inv_src in zip(model.WN, model.convinv):
        inv = glow.Invertible1x1Conv()
        inv.conv = inv_src.conv
        obj.convinv.append(inv)
        wn = glow.WN()
        wn.n_layers, wn.n_channels = wn_src.n_layers, wn_src.n_channels
        wn.start, wn.end, wn.in_layers = wn_src.start, wn_src.end, wn_src.in_layers
        c = wn_src.n_channels
        if layout == "fused":  # NVIDIA/waveglow glow.py: one cond_layer for all layers
            cond = torch.nn.Conv1d(wn_src.cond_layers[0].in_channels, 2 * c * wn_src.n_layers, 1)
            cond.weight.data = torch.cat([l.weight.data for l in wn_src.cond_layers])
            cond.bias.data = torch.cat([l.bias.data for l in wn_src.cond_layers])
            wn.cond_layer = torch.nn.utils.weight_norm(cond)
            wn.res_skip_layers = wn_src.res_skip_layers
        else:  # glow_old.py: separate res and skip layers
            wn.cond_layers = wn_src.cond_layers
            wn.res_layers, wn.skip_layers = torch.nn.ModuleList(), torch.nn.ModuleList()
            for i, rs in enumerate(wn_src.res_skip_layers):
                if i < wn_src.n_layers - 1:
                    res, skip = torch.nn.Conv1d(c, c, 1), torch.nn.Conv1d(c, c, 1)
                    res.weight.data, skip.weight.data = rs.weight.data[:c].clone(), rs.weight.data[c:].clone()
                    res.bias.data, skip.bias.data = rs.bias.data[:c].clone(), rs.bias.data[c:].clone()
                    wn.res_layers.append(res)
                else:
                    skip = torch.nn.Conv1d(c, c, 1)
                    skip.weight.data, skip.bias.data = rs.weight.data.clone(), rs.bias.data.clone()
                wn.skip_layers.append(skip)
        obj.WN.append(wn)
    return obj


@pytest.mark.parametrize("legacy_format", [False, True])
def test_pickled_glow_waveglow_object_loads_without_glow_module(tmp_path, legacy_format):
    model = tiny_waveglow(weight_norm=False)
    path = tmp_path / "waveglow_256channels_universal_v5.pt"
    with _FakeGlowModule("glow") as glow:
        obj = _pickled_waveglow(glow, model, "fused")
        torch.save({"model": obj, "iteration": 5, "optimizer": None}, path,
                   _use_new_zipfile_serialization=not legacy_format)
    assert "glow" not in sys.modules
    loaded = load_waveglow(path)
    assert not loaded.cfg.alternate_halves
    _same_waveglow(model, loaded)


def test_pickled_glow_old_object_with_res_and_skip_layers(tmp_path):
    model = tiny_waveglow(weight_norm=False, alternate_halves=True)  # glow_old swaps halves on odd flows
    path = tmp_path / "waveglow_old.pt"
    with _FakeGlowModule("glow_old") as glow_old:
        torch.save({"model": _pickled_waveglow(glow_old, model, "old")}, path)
    loaded = load_waveglow(path)
    assert loaded.cfg.alternate_halves
    _same_waveglow(model, loaded)


class _Call:
    """Pickles as a call of ``func(*args)``: what a malicious checkpoint puts in its pickle."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


class _ForeignGlowModule(_FakeGlowModule):
    """A module ``evil`` with a class named like NVIDIA's, whose unpickling would write the marker."""

    def __init__(self, marker: pathlib.Path):
        super().__init__("evil")

        def __setstate__(obj, state):
            marker.write_text("evil.WaveGlow ran")

        self.module.WaveGlow.__setstate__ = __setstate__


def _payload(kind: str, marker: pathlib.Path):
    if kind == "builtins.eval":
        return _Call(eval, f"open({str(marker)!r}, 'w').write('eval ran')")
    if kind == "subprocess.Popen":
        return _Call(subprocess.Popen, ["touch", str(marker)])
    if kind == "os.system":
        return _Call(os.system, f"touch {marker}")
    if kind == "torch.nn.Linear":  # a real torch class, but not one a WaveGlow or Tacotron2 file holds
        return torch.nn.Linear(2, 2)
    raise AssertionError(kind)


@pytest.mark.parametrize("legacy_format", [False, True])
@pytest.mark.parametrize("kind, refused", [  # refused: the global as the pickle names it (a regular expression)
    pytest.param("builtins.eval", r"builtins\.eval", id="builtins.eval"),
    # torch writes pickle protocol 2, which spells subprocess the Python 2 way
    pytest.param("subprocess.Popen", r"(subprocess|commands)\.Popen", id="subprocess.Popen"),
    pytest.param("os.system", re.escape(f"{os.system.__module__}.system"), id="os.system"),  # posix.system on Linux
    pytest.param("torch.nn.Linear", r"torch\.nn\.modules\.linear\.Linear", id="torch.nn.Linear"),
    pytest.param("evil.WaveGlow", r"evil\.WaveGlow", id="evil.WaveGlow"),
])
def test_malicious_or_foreign_pickles_are_refused_and_never_executed(tmp_path, kind, refused, legacy_format):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pt"
    with _ForeignGlowModule(marker) as evil:
        payload = evil.WaveGlow() if kind == "evil.WaveGlow" else _payload(kind, marker)
        torch.save({"model": payload, "iteration": 1}, path, _use_new_zipfile_serialization=not legacy_format)
        # The loaders refuse it while ``evil`` is importable: a plain unpickler would run its __setstate__.
        for load in (load_waveglow, load_tacotron2):
            with pytest.raises(CheckpointError, match=f"refers to '{refused}', which is not allowed to load"):
                load(path)
    # The message shows each was refused when its global was looked up, before any call; the marker shows nothing
    # ran. (Popen would run `touch` in a child process: the pause gives one that did start the time to finish.)
    if kind == "subprocess.Popen":
        time.sleep(0.2)
    assert not marker.exists()
