import json
import math
import pathlib

import numpy as np
import pytest
import torch

from tts_core.audio import TacotronSTFT, write_wav, to_pcm16
from tts_core.models import AudioConfig
from tts_core.text import text_to_sequence
from tts_core.train.config import TrainConfig
from tts_core.train.data import MEL_PAD_VALUE, BucketBatchSampler, Utterance, collate, load_split
from tts_core.train.loss import guided_attention_weights, tacotron2_loss
from tts_core.train.prepare import prepare

from .factories import tiny_tacotron


def _write_corpus(root, n=5):
    wavs = root / "wavs"
    wavs.mkdir()
    rng = np.random.default_rng(0)
    lines = []
    for i in range(n):
        audio = (rng.uniform(-0.3, 0.3, 4000 + 500 * i)).astype(np.float32)
        write_wav(str(wavs / f"u{i}.wav"), to_pcm16(audio), 22050)
        lines.append(f"wavs/u{i}.wav|Sentence number {i}.")
    lines.append("wavs/u0.wav|😀")  # unspeakable: skipped, not fatal
    (root / "metadata.csv").write_text("\n".join(lines))
    return wavs


def test_prepare_round_trips(tmp_path):
    wavs = _write_corpus(tmp_path)
    stats = prepare(tmp_path / "metadata.csv", tmp_path / "features", val_fraction=0.2)
    assert stats == {"train": 4, "val": 1, "skipped": 1}
    items = load_split(tmp_path / "features", "train") + load_split(tmp_path / "features", "val")
    assert len(items) == 5
    item = next(u for u in items if u.name == "u2")
    from tts_core.audio import read_wav

    audio, _ = read_wav(str(wavs / "u2.wav"))
    expected = TacotronSTFT(AudioConfig()).mel_spectrogram(torch.from_numpy(audio)[None])[0].numpy()
    np.testing.assert_allclose(item.mel, expected, rtol=1e-5, atol=1e-5)
    assert item.ids == text_to_sequence("Sentence number 2.")
    assert json.loads((tmp_path / "features" / "features.json").read_text())["arpabet"] is False


def test_collate_pads_and_marks_stop():
    items = [Utterance("a", [20, 21, 22], np.zeros((80, 5), np.float32)),
             Utterance("b", [20], np.ones((80, 2), np.float32))]
    batch = collate(items, n_frames_per_step=2)
    assert batch.mels.shape == (2, 80, 6) and batch.text.tolist() == [[20, 21, 22], [20, 0, 0]]
    assert float(batch.mels[0, 0, 5]) == pytest.approx(MEL_PAD_VALUE) and MEL_PAD_VALUE < np.log(1e-5)
    assert batch.gates.tolist() == [[0, 0, 1], [1, 1, 1]]
    assert batch.mel_lengths.tolist() == [5, 2]


def test_bucket_sampler_covers_everything():
    sampler = iter(BucketBatchSampler(list(range(50)), 8, seed=1))
    seen = [i for _ in range(7) for i in next(sampler)]
    assert sorted(seen) == list(range(50))


def test_guided_attention_penalises_off_diagonal():
    w = guided_attention_weights(torch.tensor([10]), torch.tensor([10]), 12, 12)
    assert float(w[0, 0, 0]) == 0 and float(w[0, 0, 9]) > 0.9 and float(w[0, 11, 11]) == 0  # padding is free


@pytest.mark.parametrize("mel_loss", ["mse", "l1", "l1+mse"])
def test_loss_ignores_padding(mel_loss):
    model = tiny_tacotron()
    items = [Utterance("a", [20, 21, 22, 23], np.random.randn(80, 6).astype(np.float32)),
             Utterance("b", [24, 25], np.random.randn(80, 3).astype(np.float32))]
    batch = collate(items, 1)
    torch.manual_seed(0)
    out = model(batch.text, batch.text_lengths, batch.mels, batch.mel_lengths)
    base = tacotron2_loss(out, batch, 1, mel_loss=mel_loss)
    batch.mels[1, :, 4:] = 123.0  # change only padding of the targets
    assert float(tacotron2_loss(out, batch, 1, mel_loss=mel_loss).total) == pytest.approx(float(base.total))


def test_mel_loss_kinds_are_the_masked_mean_distances():
    model = tiny_tacotron()
    rng = np.random.default_rng(3)
    items = [Utterance("a", [20, 21, 22], rng.standard_normal((80, 5)).astype(np.float32)),
             Utterance("b", [24, 25], rng.standard_normal((80, 2)).astype(np.float32))]
    batch = collate(items, 1)
    torch.manual_seed(0)
    out = model(batch.text, batch.text_lengths, batch.mels, batch.mel_lengths)
    full = out.mel_outputs_postnet - batch.mels
    diff = torch.cat([full[0, :, :5], full[1, :, :2]], dim=1)  # the real frames only
    mse = float((diff ** 2).mean())
    l1 = float(diff.abs().mean())
    assert float(tacotron2_loss(out, batch, 1, mel_loss="mse").postnet) == pytest.approx(mse, rel=1e-5)
    assert float(tacotron2_loss(out, batch, 1, mel_loss="l1").postnet) == pytest.approx(l1, rel=1e-5)
    assert float(tacotron2_loss(out, batch, 1, mel_loss="l1+mse").postnet) == pytest.approx(l1 + mse, rel=1e-5)
    with pytest.raises(ValueError, match="mel_loss"):
        tacotron2_loss(out, batch, 1, mel_loss="l2")
    with pytest.raises(ValueError, match="mel_loss"):
        TrainConfig(mel_loss="huber")


def test_training_overfits_a_tiny_batch():
    torch.manual_seed(0)
    model = tiny_tacotron(n_frames_per_step=2)
    model.train()
    rng = np.random.default_rng(0)
    items = [Utterance(str(i), list(rng.integers(12, 64, 8)), (rng.standard_normal((80, 12)) * 0.5 - 5).astype(np.float32))
             for i in range(4)]
    batch = collate(items, 2)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        out = model(batch.text, batch.text_lengths, batch.mels, batch.mel_lengths)
        terms = tacotron2_loss(out, batch, 2)
        opt.zero_grad()
        terms.total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(float(terms.total))
    assert losses[-1] < losses[0] / 10


def test_train_config_learning_rate_schedule_and_unknown_keys(tmp_path):
    cfg = TrainConfig(learning_rate=1e-3, lr_decay_start=100, lr_half_life=100, min_learning_rate=1e-4)
    assert cfg.learning_rate_at(50) == 1e-3 and cfg.learning_rate_at(200) == pytest.approx(5e-4)
    assert cfg.learning_rate_at(10_000) == 1e-4
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"batch_sise": 3}))
    with pytest.raises(ValueError, match="batch_sise"):
        TrainConfig.load(path)


def test_train_config_rejects_a_bad_bf16_setting():
    with pytest.raises(ValueError, match="bf16"):
        TrainConfig(bf16="yes")


def test_a_config_extends_another_and_states_only_what_differs(tmp_path):
    (tmp_path / "base.json").write_text(json.dumps({"batch_size": 8, "max_steps": 100,
                                                    "model": {"prenet_dim": 64, "n_frames_per_step": 4}}))
    (tmp_path / "stage.json").write_text(json.dumps({"extends": "base.json", "max_steps": 200,
                                                     "model": {"n_frames_per_step": 2}}))
    cfg = TrainConfig.load(tmp_path / "stage.json")
    assert (cfg.batch_size, cfg.max_steps) == (8, 200)
    assert cfg.model == {"prenet_dim": 64, "n_frames_per_step": 2}
    (tmp_path / "base.json").write_text(json.dumps({"extends": "stage.json"}))
    with pytest.raises(ValueError, match="loop"):
        TrainConfig.load(tmp_path / "stage.json")


def test_trainer_resumes_and_warm_starts_from_an_exported_voice(tmp_path):
    import dataclasses

    from tts_core.train.trainer import Trainer

    from .factories import TINY_TACOTRON, save_our_tacotron

    _write_corpus(tmp_path)
    prepare(tmp_path / "metadata.csv", tmp_path / "features", val_fraction=0.2)
    model_cfg = {k: v for k, v in dataclasses.asdict(TINY_TACOTRON).items()
                 if k in ("symbols_embedding_dim", "encoder_embedding_dim", "attention_rnn_dim", "decoder_rnn_dim",
                          "prenet_dim", "attention_dim", "postnet_embedding_dim")}
    cfg = TrainConfig(features=str(tmp_path / "features"), out_dir=str(tmp_path / "run"), model=model_cfg,
                      batch_size=2)
    first = Trainer(cfg)
    first.train_step(first.train_set[:2])
    first.save()
    resumed = Trainer(cfg)
    assert resumed.resume() and resumed.step == 1
    for key, value in first.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[key], value), key

    voice = tmp_path / "voice.pt"  # an exported voice: weights and step, no optimizer
    save_our_tacotron(voice, first.model)
    warm = Trainer(dataclasses.replace(cfg, out_dir=str(tmp_path / "run2")))
    assert not warm.resume()
    warm.init_from(voice)
    assert warm.step == 7
    assert torch.equal(warm.model.embedding.weight, first.model.embedding.weight)
    other = Trainer(dataclasses.replace(cfg, out_dir=str(tmp_path / "run3"), model={**model_cfg, "prenet_dim": 8}))
    with pytest.raises(ValueError, match="different model configuration"):
        other.init_from(voice)
    # Another number of frames per step is carried over (gradual training), and that run trains.
    r = first.model.n_frames_per_step
    finer = Trainer(dataclasses.replace(cfg, out_dir=str(tmp_path / "run4"),
                                        model={**model_cfg, "n_frames_per_step": r + 1}))
    finer.init_from(voice)
    assert finer.step == 7 and finer.model.n_frames_per_step == r + 1
    assert torch.equal(finer.model.postnet.convolutions[0][0].conv.weight,
                       first.model.postnet.convolutions[0][0].conv.weight)
    assert math.isfinite(finer.train_step(finer.train_set[:2])["loss"])


CONFIGS = sorted((pathlib.Path(__file__).resolve().parents[2] / "tts_core/train/configs").glob("*.json"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_committed_training_configs_load(path):
    from tts_core.train.config import read_config_file

    stated = read_config_file(path).get("model", {})  # the recipe's model options, its "extends" chain merged
    model_cfg = TrainConfig.load(path).model_config()
    assert {k: getattr(model_cfg, k) for k in stated} == stated  # every one reaches the network it trains


def test_train_config_rejects_misspelt_model_options():
    with pytest.raises(ValueError, match="prenet_dimm"):
        TrainConfig(model={"prenet_dimm": 128})


def test_demo_voice_recipes_train_the_bundled_voice_network():
    """Every stage of the demo recipe builds the committed voice's network, up to the frames per decoder step that
    a warm start carries over, and one stage has exactly its frames per step, so --init-from can continue it."""
    from tts_core.checkpoints import read_tacotron2
    from tts_core.models import Tacotron2
    from tts_core.train.reduction import change_reduction_factor
    from tts_core.voices import DEMO_TACOTRON2

    if not DEMO_TACOTRON2.is_file():
        pytest.skip("bundled voice not exported yet")
    bundled = read_tacotron2(DEMO_TACOTRON2).model
    shapes = {k: v.shape for k, v in bundled.state_dict().items()}
    frames_per_step = set()
    stages = [p for p in CONFIGS if p.name.startswith("demo_voice")]
    assert len(stages) >= 5
    for path in stages:
        name = path.name
        cfg = TrainConfig.load(path)
        model = Tacotron2(cfg.model_config())
        carried = change_reduction_factor(model.state_dict(), cfg.model_config().n_mel_channels,
                                          model.n_frames_per_step, bundled.n_frames_per_step)
        assert {k: v.shape for k, v in carried.items()} == shapes, name
        frames_per_step.add(model.n_frames_per_step)
    assert bundled.n_frames_per_step in frames_per_step


def test_checkpoint_average_is_the_mean_and_loads_and_exports(tmp_path):
    from tts_core.checkpoints import read_tacotron2
    from tts_core.train.average import average_checkpoints
    from tts_core.checkpoints import write_tacotron2
    from tts_core.train.export import export

    a = tiny_tacotron()
    b = tiny_tacotron()
    torch.manual_seed(5)
    for p in b.parameters():
        p.data.add_(torch.randn_like(p))
    for i, (model, step) in enumerate(((a, 100), (b, 200))):
        write_tacotron2(tmp_path / f"c{i}.pt", state_dict=model.state_dict(), config=model.cfg,
                        audio_config=AudioConfig(), text_frontend="characters", iteration=step,
                        optimizer=torch.optim.Adam(model.parameters()).state_dict())
    payload = average_checkpoints([tmp_path / "c0.pt", tmp_path / "c1.pt"], tmp_path / "avg.pt")
    assert payload["iteration"] == 200 and payload["averaged_iterations"] == [100, 200]
    assert "optimizer" not in payload
    loaded = read_tacotron2(tmp_path / "avg.pt")
    for key, value in loaded.model.state_dict().items():
        expected = (a.state_dict()[key] + b.state_dict()[key]) / 2 if value.is_floating_point() \
            else b.state_dict()[key]
        assert torch.allclose(value, expected, atol=1e-6), key
    assert loaded.metadata["iteration"] == 200
    export(tmp_path / "avg.pt", tmp_path / "voice.pt", "averaged")
    assert torch.allclose(read_tacotron2(tmp_path / "voice.pt").model.embedding.weight,
                          loaded.model.embedding.weight, atol=1e-2)
    out = loaded.model.infer_full(torch.tensor([text_to_sequence("hello")]), torch.tensor([5]))
    assert out.mel_outputs_postnet.shape[1] == 80


def test_checkpoint_average_refuses_other_networks(tmp_path):
    from tts_core.train.average import average_checkpoints

    from .factories import save_our_tacotron

    save_our_tacotron(tmp_path / "a.pt", tiny_tacotron())
    save_our_tacotron(tmp_path / "b.pt", tiny_tacotron(prenet_dim=8))
    with pytest.raises(ValueError, match="another model configuration"):
        average_checkpoints([tmp_path / "a.pt", tmp_path / "b.pt"], tmp_path / "avg.pt")
    assert not (tmp_path / "avg.pt").exists()


def test_validation_is_repeatable_and_leaves_the_training_random_stream_alone(tmp_path):
    """The prenet's dropout stays on in validation; its masks come from a fixed seed, so two checkpoints (or two
    calls) are compared on the same draws, and training draws what it would have drawn without validation."""
    import dataclasses

    from tts_core.train.trainer import Trainer

    from .factories import TINY_TACOTRON

    _write_corpus(tmp_path)
    prepare(tmp_path / "metadata.csv", tmp_path / "features", val_fraction=0.4)
    model_cfg = {k: v for k, v in dataclasses.asdict(TINY_TACOTRON).items()
                 if k in ("symbols_embedding_dim", "encoder_embedding_dim", "attention_rnn_dim", "decoder_rnn_dim",
                          "prenet_dim", "attention_dim", "postnet_embedding_dim")}
    trainer = Trainer(TrainConfig(features=str(tmp_path / "features"), out_dir=str(tmp_path / "run"),
                                  model=model_cfg, batch_size=2))
    assert trainer.model.cfg.prenet_dropout > 0
    torch.manual_seed(3)
    expected_next = torch.rand(1)
    torch.manual_seed(3)
    first = trainer.validate()
    assert torch.equal(torch.rand(1), expected_next)
    assert trainer.validate() == first
