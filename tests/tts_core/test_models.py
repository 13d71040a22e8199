import threading

import pytest
import torch

from tts_core.models import Tacotron2, Tacotron2Config, WaveGlow, WaveGlowConfig

from .factories import tiny_tacotron, tiny_waveglow

# NVIDIA's Tacotron2 layout, written down as facts (name pattern -> shape) from NVIDIA's model definition.
NVIDIA_TACOTRON2_LAYOUT = {
    "embedding.weight": (148, 512),
    **{f"encoder.convolutions.{i}.0.conv.weight": (512, 512, 5) for i in range(3)},
    **{f"encoder.convolutions.{i}.0.conv.bias": (512,) for i in range(3)},
    **{f"encoder.convolutions.{i}.1.{n}": (512,) for i in range(3)
       for n in ("weight", "bias", "running_mean", "running_var")},
    **{f"encoder.convolutions.{i}.1.num_batches_tracked": () for i in range(3)},
    **{f"encoder.lstm.weight_ih_l0{s}": (1024, 512) for s in ("", "_reverse")},
    **{f"encoder.lstm.weight_hh_l0{s}": (1024, 256) for s in ("", "_reverse")},
    **{f"encoder.lstm.bias_{b}_l0{s}": (1024,) for b in ("ih", "hh") for s in ("", "_reverse")},
    "decoder.prenet.layers.0.linear_layer.weight": (256, 80),
    "decoder.prenet.layers.1.linear_layer.weight": (256, 256),
    "decoder.attention_rnn.weight_ih": (4096, 768), "decoder.attention_rnn.weight_hh": (4096, 1024),
    "decoder.attention_rnn.bias_ih": (4096,), "decoder.attention_rnn.bias_hh": (4096,),
    "decoder.attention_layer.query_layer.linear_layer.weight": (128, 1024),
    "decoder.attention_layer.memory_layer.linear_layer.weight": (128, 512),
    "decoder.attention_layer.v.linear_layer.weight": (1, 128),
    "decoder.attention_layer.location_layer.location_conv.conv.weight": (32, 2, 31),
    "decoder.attention_layer.location_layer.location_dense.linear_layer.weight": (128, 32),
    "decoder.decoder_rnn.weight_ih": (4096, 1536), "decoder.decoder_rnn.weight_hh": (4096, 1024),
    "decoder.decoder_rnn.bias_ih": (4096,), "decoder.decoder_rnn.bias_hh": (4096,),
    "decoder.linear_projection.linear_layer.weight": (80, 1536),
    "decoder.linear_projection.linear_layer.bias": (80,),
    "decoder.gate_layer.linear_layer.weight": (1, 1536), "decoder.gate_layer.linear_layer.bias": (1,),
    "postnet.convolutions.0.0.conv.weight": (512, 80, 5), "postnet.convolutions.4.0.conv.weight": (80, 512, 5),
    **{f"postnet.convolutions.{i}.0.conv.weight": (512, 512, 5) for i in (1, 2, 3)},
    **{f"postnet.convolutions.{i}.0.conv.bias": (512,) for i in range(4)},
    "postnet.convolutions.4.0.conv.bias": (80,),
    **{f"postnet.convolutions.{i}.1.{n}": (512 if i < 4 else 80,) for i in range(5)
       for n in ("weight", "bias", "running_mean", "running_var")},
    **{f"postnet.convolutions.{i}.1.num_batches_tracked": () for i in range(5)},
}


def _waveglow_layout(channels: int) -> dict[str, tuple[int, ...]]:
    """NVIDIA DLE WaveGlow in weight-norm form: 12 flows, n_group 8, 2 channels out every 4 flows, WN 8 x kernel 3."""
    layout = {"upsample.weight": (80, 80, 1024), "upsample.bias": (80,)}
    for k in range(12):
        remaining = 8 - 2 * (k // 4)
        half = remaining // 2
        layout[f"convinv.{k}.conv.weight"] = (remaining, remaining, 1)
        p = f"WN.{k}."
        layout.update({p + "start.weight_g": (channels, 1, 1), p + "start.weight_v": (channels, half, 1),
                       p + "start.bias": (channels,), p + "end.weight": (2 * half, channels, 1),
                       p + "end.bias": (2 * half,)})
        for i in range(8):
            out = 2 * channels if i < 7 else channels
            layout.update({
                f"{p}in_layers.{i}.weight_g": (2 * channels, 1, 1), f"{p}in_layers.{i}.weight_v": (2 * channels, channels, 3),
                f"{p}in_layers.{i}.bias": (2 * channels,),
                f"{p}cond_layers.{i}.weight_g": (2 * channels, 1, 1), f"{p}cond_layers.{i}.weight_v": (2 * channels, 640, 1),
                f"{p}cond_layers.{i}.bias": (2 * channels,),
                f"{p}res_skip_layers.{i}.weight_g": (out, 1, 1), f"{p}res_skip_layers.{i}.weight_v": (out, channels, 1),
                f"{p}res_skip_layers.{i}.bias": (out,),
            })
    return layout


def test_full_size_tacotron2_matches_nvidia_layout():
    shapes = {k: tuple(v.shape) for k, v in Tacotron2().state_dict().items()}
    assert shapes == NVIDIA_TACOTRON2_LAYOUT
    assert abs(sum(v.numel() for v in Tacotron2().parameters()) - 28.19e6) < 0.01e6


@pytest.mark.parametrize("channels", [256, 512])
def test_full_size_waveglow_matches_nvidia_layout(channels):
    model = WaveGlow(WaveGlowConfig(wn_n_channels=channels))
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes == _waveglow_layout(channels)
    if channels == 256:
        model.remove_weightnorm()
        assert not model.has_weight_norm
        assert abs(sum(p.numel() for p in model.parameters()) - 87.73e6) < 0.01e6


def test_infer_returns_nvidia_triple_and_respects_max_decoder_steps():
    model = tiny_tacotron()
    model.decoder.gate_layer.linear_layer.bias.data.fill_(-20.0)  # never stops
    mel, lengths, align = model.infer(torch.randint(12, 148, (1, 9)), torch.tensor([9]), max_decoder_steps=7)
    assert mel.shape == (1, 80, 7) and align.shape == (1, 7, 9)
    out = model.infer_full(torch.randint(12, 148, (1, 9)), torch.tensor([9]))
    assert out.mel_outputs.shape[2] == model.cfg.max_decoder_steps  # the config's limit when none is given
    assert out.truncated.tolist() == [True]


def test_stop_gate_sets_length_and_no_truncation():
    model = tiny_tacotron()
    model.decoder.gate_layer.linear_layer.bias.data.fill_(20.0)  # stops at the first step
    out = model.infer_full(torch.randint(12, 148, (2, 5)), torch.tensor([5, 3]))
    assert out.truncated.tolist() == [False, False]
    assert out.mel_lengths.tolist() == [0, 0]  # NVIDIA counts steps before the stop step


def test_batched_inference_equals_single_inference():
    model = tiny_tacotron(max_decoder_steps=12)
    model.decoder.gate_layer.linear_layer.bias.data.fill_(-20.0)
    seqs = torch.randint(12, 148, (3, 10))
    lengths = torch.tensor([6, 10, 8])  # unsorted on purpose
    batch = model.infer_full(seqs, lengths, prenet_dropout=0.0)
    for i in range(3):
        single = model.infer_full(seqs[i: i + 1, : lengths[i]], lengths[i: i + 1], prenet_dropout=0.0)
        torch.testing.assert_close(batch.mel_outputs[i], single.mel_outputs[0], rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(batch.alignments[i, :, : lengths[i]], single.alignments[0], rtol=1e-4,
                                   atol=1e-5)
        assert float(batch.alignments[i, :, lengths[i]:].abs().sum()) == 0.0  # padding never attended


def test_frames_per_step_greater_than_one():
    model = tiny_tacotron(max_decoder_steps=5, n_frames_per_step=3)
    model.decoder.gate_layer.linear_layer.bias.data.fill_(-20.0)
    out = model.infer_full(torch.randint(12, 148, (1, 6)), torch.tensor([6]))
    assert out.mel_outputs_postnet.shape == (1, 80, 15) and out.alignments.shape == (1, 5, 6)
    train = model(torch.randint(12, 148, (2, 6)), torch.tensor([6, 4]), torch.randn(2, 80, 12), torch.tensor([12, 7]))
    assert train.mel_outputs.shape == (2, 80, 12) and train.gate_outputs.shape == (2, 4)


def test_decoder_is_thread_safe():
    model = tiny_tacotron(max_decoder_steps=20)
    model.decoder.gate_layer.linear_layer.bias.data.fill_(-20.0)
    inputs = [torch.randint(12, 148, (1, n)) for n in (5, 9, 13, 7)]
    expected = [model.infer_full(x, torch.tensor([x.size(1)]), prenet_dropout=0.0).mel_outputs for x in inputs]
    results: dict[int, torch.Tensor] = {}

    def work(i: int) -> None:
        for _ in range(3):
            results[i] = model.infer_full(inputs[i], torch.tensor([inputs[i].size(1)]), prenet_dropout=0.0).mel_outputs

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(4):
        torch.testing.assert_close(results[i], expected[i])


def test_prenet_dropout_stays_on_at_inference_by_default():
    model = tiny_tacotron(max_decoder_steps=6)
    model.decoder.gate_layer.linear_layer.bias.data.fill_(-20.0)
    x, n = torch.randint(12, 148, (1, 8)), torch.tensor([8])
    assert not torch.equal(model.infer_full(x, n).mel_outputs, model.infer_full(x, n).mel_outputs)
    assert torch.equal(model.infer_full(x, n, prenet_dropout=0.0).mel_outputs,
                       model.infer_full(x, n, prenet_dropout=0.0).mel_outputs)


@pytest.mark.parametrize("part", ["encoder", "postnet"])
def test_encoder_and_postnet_training_dropout_follow_the_config(part):
    x, n = torch.randint(12, 148, (2, 8)), torch.tensor([8, 8])

    def run(model, training=True):
        model.train(training)
        emb = model.embedding(x).transpose(1, 2)
        if part == "encoder":
            return model.encoder(emb, n)
        return model.postnet(torch.randn(2, 80, 10, generator=torch.Generator().manual_seed(0)))

    off = tiny_tacotron(**{f"p_{part}_dropout": 0.0})
    assert torch.equal(run(off), run(off))  # train mode, no dropout: deterministic
    on = tiny_tacotron()  # NVIDIA's 0.5
    assert not torch.equal(run(on), run(on))
    # Inference never applies it, whatever the config says.
    assert torch.equal(run(on, training=False), run(on, training=False))


def test_waveglow_inverse_undoes_forward_exactly():
    model = tiny_waveglow(weight_norm=False)
    mel = torch.randn(1, 80, 6)
    audio = torch.rand(1, 6 * 256) * 0.2 - 0.1
    with torch.no_grad():
        z, _, _ = model(mel, audio)
    # forward emits [early_0 (2), early_1 ... , final]; inference consumes final first, then the earlies backwards.
    early = model.n_early_size
    n_early = (z.size(1) - model.n_remaining_channels) // early
    parts = [z[:, model.n_early_size * n_early:]] + [z[:, i * early:(i + 1) * early] for i in reversed(range(n_early))]
    rebuilt = model.infer(mel, sigma=1.0, noise=torch.cat(parts, 1))
    torch.testing.assert_close(rebuilt[:, : audio.size(1)], audio, rtol=1e-3, atol=1e-4)


def test_waveglow_same_seed_same_audio_and_remove_weightnorm_keeps_output():
    model = tiny_waveglow(weight_norm=True)
    mel = torch.randn(1, 80, 5)
    before = model.infer(mel, sigma=0.5, generator=torch.Generator().manual_seed(3))
    model.remove_weightnorm()
    after = model.infer(mel, sigma=0.5, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(before, after, rtol=1e-4, atol=1e-5)
    assert after.shape == (1, 5 * 256)


def test_config_from_dle_dicts():
    cfg = WaveGlowConfig.from_dict({"n_flows": 12, "WN_config": {"n_layers": 8, "n_channels": 256, "kernel_size": 3},
                                    "epochs": 10})
    assert cfg.wn_n_channels == 256 and cfg.n_flows == 12
    assert Tacotron2Config.from_dict({"n_frames_per_step": 2, "learning_rate": 1e-3}).n_frames_per_step == 2


def test_stop_check_interval_keeps_lengths_and_frames():
    model = tiny_tacotron()
    model.decoder.gate_layer.linear_layer.bias.data.fill_(-1.0)
    x, n = torch.randint(12, 148, (3, 9)), torch.tensor([9, 7, 5])
    every = model.infer_full(x, n, max_decoder_steps=40, prenet_dropout=0.0)
    sparse = model.infer_full(x, n, max_decoder_steps=40, prenet_dropout=0.0, stop_check_every=8)
    assert torch.equal(every.mel_lengths, sparse.mel_lengths) and torch.equal(every.truncated, sparse.truncated)
    steps = every.gate_outputs.size(1)
    assert steps <= sparse.gate_outputs.size(1) < steps + 8
    for i, length in enumerate(every.mel_lengths.tolist()):
        torch.testing.assert_close(sparse.mel_outputs[i, :, :length], every.mel_outputs[i, :, :length])


def test_a_generator_makes_prenet_dropout_reproducible_whatever_the_global_stream_does():
    model = tiny_tacotron(max_decoder_steps=6)
    model.decoder.gate_layer.linear_layer.bias.data.fill_(-20.0)
    x, n = torch.randint(12, 148, (2, 8)), torch.tensor([8, 5])

    def run(seed: int) -> torch.Tensor:
        torch.rand(int(torch.randint(1, 50, (1,))))  # other work draws from the global stream in between
        return model.infer_full(x, n, generator=torch.Generator().manual_seed(seed)).mel_outputs

    assert torch.equal(run(3), run(3))
    assert not torch.equal(run(3), run(4))
    assert not torch.equal(run(3), model.infer_full(x, n, prenet_dropout=0.0).mel_outputs)  # dropout is on


def test_prenet_masks_keep_dropouts_scale():
    prenet = tiny_tacotron().decoder.prenet
    masks = prenet.draw_masks(4000, 0.5, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert [m.shape[1] for m in masks] == [layer.linear_layer.out_features for layer in prenet.layers]
    assert set(masks[0].unique().tolist()) == {0.0, 2.0}  # kept units are scaled by 1 / (1 - p), as F.dropout does
    assert abs(float(masks[0].mean()) - 1.0) < 0.05

