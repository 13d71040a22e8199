import dataclasses

import pytest
import torch

from tts_core.models import Tacotron2
from tts_core.train.reduction import PRENET_KEY, PROJECTION_KEYS, change_reduction_factor

from .factories import TINY_TACOTRON, tiny_tacotron

N_MEL = TINY_TACOTRON.n_mel_channels


def _model_for(state_dict, r):
    model = Tacotron2(dataclasses.replace(TINY_TACOTRON, n_frames_per_step=r)).eval()
    model.load_state_dict(state_dict)  # strict: every shape must fit the new r
    return model


def _projection(model, hidden):
    return model.decoder.linear_projection(hidden)


def test_smaller_r_keeps_the_next_frames_and_the_prenet_scale():
    old = tiny_tacotron(n_frames_per_step=4)
    new = _model_for(change_reduction_factor(old.state_dict(), N_MEL, 4, 2), 2)
    hidden = torch.randn(3, TINY_TACOTRON.decoder_rnn_dim + TINY_TACOTRON.encoder_embedding_dim)
    # The new step writes the first two of the frames the old step wrote.
    assert torch.allclose(_projection(new, hidden), _projection(old, hidden)[:, : 2 * N_MEL])
    # An old input whose two older frames repeat the oldest frame the new input still sees gives the same
    # first prenet layer activations: the older frames' weights were folded onto that frame.
    a, b = torch.randn(3, N_MEL), torch.randn(3, N_MEL)
    old_layer, new_layer = old.decoder.prenet.layers[0], new.decoder.prenet.layers[0]
    assert torch.allclose(new_layer(torch.cat([a, b], 1)), old_layer(torch.cat([a, a, a, b], 1)), atol=1e-5)
    # Nothing else changes.
    for key, value in old.state_dict().items():
        if key != PRENET_KEY and key not in PROJECTION_KEYS:
            assert torch.equal(new.state_dict()[key], value), key


def test_larger_r_reads_the_most_recent_frames_and_repeats_the_last_one():
    old = tiny_tacotron(n_frames_per_step=2)
    new = _model_for(change_reduction_factor(old.state_dict(), N_MEL, 2, 4), 4)
    hidden = torch.randn(3, TINY_TACOTRON.decoder_rnn_dim + TINY_TACOTRON.encoder_embedding_dim)
    out_old, out_new = _projection(old, hidden), _projection(new, hidden)
    assert torch.allclose(out_new[:, : 2 * N_MEL], out_old)
    last = out_old[:, N_MEL:]
    assert torch.allclose(out_new[:, 2 * N_MEL: 3 * N_MEL], last) and torch.allclose(out_new[:, 3 * N_MEL:], last)
    a, b, older = torch.randn(3, N_MEL), torch.randn(3, N_MEL), torch.randn(3, 2 * N_MEL)
    old_layer, new_layer = old.decoder.prenet.layers[0], new.decoder.prenet.layers[0]
    assert torch.allclose(new_layer(torch.cat([older, a, b], 1)), old_layer(torch.cat([a, b], 1)), atol=1e-5)


def test_same_r_is_unchanged_and_a_wrong_r_is_an_error():
    sd = tiny_tacotron(n_frames_per_step=3).state_dict()
    same = change_reduction_factor(sd, N_MEL, 3, 3)
    assert all(torch.equal(same[k], v) for k, v in sd.items())
    with pytest.raises(ValueError, match="prenet input"):
        change_reduction_factor(sd, N_MEL, 2, 1)
    with pytest.raises(ValueError, match="at least 1"):
        change_reduction_factor(sd, N_MEL, 3, 0)


def test_the_converted_model_synthesizes():
    old = tiny_tacotron(n_frames_per_step=3)
    new = _model_for(change_reduction_factor(old.state_dict(), N_MEL, 3, 1), 1)
    out = new.infer_full(torch.tensor([[20, 21, 22, 23, 24]]), torch.tensor([5]), max_decoder_steps=12)
    assert out.mel_outputs_postnet.shape[:2] == (1, N_MEL) and torch.isfinite(out.mel_outputs_postnet).all()
