"""The CUDA-graph decoder steps' buffer handling, on CPU: the same static buffers and text-length buckets, replayed
without a graph (eager_capture). tests/tts_core/test_cuda.py runs the real capture where a GPU is."""
from __future__ import annotations

import pytest
import torch

from tts_core.models.graphed import GraphedSteps, eager_capture, graphed_tacotron2
from tts_core.precision import prepare_models
from tts_core.text import text_to_sequence

from .factories import tiny_tacotron

LONG = "A longer sentence comes first, so that its memory fills most of the bucket."
SHORT = "Then a short one."


def batch(*texts: str) -> tuple[torch.Tensor, torch.Tensor]:
    ids = [text_to_sequence(t) for t in texts]
    lengths = torch.tensor([len(i) for i in ids])
    seqs = torch.zeros(len(ids), int(lengths.max()), dtype=torch.long)
    for row, i in enumerate(ids):
        seqs[row, : len(i)] = torch.tensor(i)
    return seqs, lengths


def decode(model, texts, seed: int | None = 7, **kwargs):
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    with torch.inference_mode():
        return model.infer_full(*batch(*texts), max_decoder_steps=40, generator=gen, **kwargs)


@pytest.mark.parametrize("texts", [(LONG,), (SHORT,), (LONG, SHORT)])
def test_graphed_steps_give_the_eager_decoders_output(texts):
    model = tiny_tacotron()
    graphed = graphed_tacotron2(model, capture=eager_capture)
    eager, replayed = decode(model, texts), decode(graphed, texts)
    assert torch.equal(eager.mel_lengths, replayed.mel_lengths) and torch.equal(eager.truncated, replayed.truncated)
    assert replayed.alignments.shape == eager.alignments.shape  # the padded text axis is cut back
    assert (eager.mel_outputs_postnet - replayed.mel_outputs_postnet).abs().max() < 1e-5
    assert graphed.decoder.step_runner.captures == 1  # every step of the batch replays one graph


def test_a_shorter_text_in_the_same_bucket_does_not_see_the_longer_ones_memory():
    """The second text reuses the first's graph: the tail of its buffers must be masked and zero again."""
    model = tiny_tacotron()
    graphed = graphed_tacotron2(model, capture=eager_capture, bucket=128)
    decode(graphed, (LONG,))
    short = decode(graphed, (SHORT,))
    assert graphed.decoder.step_runner.captures == 1
    reference = decode(model, (SHORT,))
    assert (reference.mel_outputs_postnet - short.mel_outputs_postnet).abs().max() < 1e-5
    assert torch.equal(reference.mel_lengths, short.mel_lengths)


def test_without_dropout_masks_and_without_dropout_the_graph_still_matches():
    model = tiny_tacotron()
    graphed = graphed_tacotron2(model, capture=eager_capture)
    eager = decode(model, (LONG,), seed=None, prenet_dropout=0.0)
    replayed = decode(graphed, (LONG,), seed=None, prenet_dropout=0.0)
    assert (eager.mel_outputs_postnet - replayed.mel_outputs_postnet).abs().max() < 1e-5


def test_graphs_are_kept_per_bucket_and_the_least_recently_used_goes():
    model = tiny_tacotron()
    graphed = graphed_tacotron2(model, capture=eager_capture, bucket=16)
    steps: GraphedSteps = graphed.decoder.step_runner
    steps.max_graphs = 1
    decode(graphed, (SHORT,))
    decode(graphed, (LONG,))  # another bucket: a second capture, the first graph dropped
    assert steps.captures == 2 and len(steps.graphs) == 1
    decode(graphed, (LONG,))
    assert steps.captures == 2


def test_cuda_graphs_are_a_cuda_option_only():
    model = tiny_tacotron()
    plain = prepare_models(model, None, "fp32", "cpu")
    asked = prepare_models(model, None, "fp32", "cpu", cuda_graphs=True)
    assert asked.kernels == plain.kernels
    assert not isinstance(asked.tacotron2.decoder.step_runner, GraphedSteps)
    assert model.decoder.step_runner is None  # the given model is never changed


def test_a_step_that_cannot_be_captured_runs_eagerly_and_says_so(caplog):
    def refuse(step, inputs):
        raise RuntimeError("operation not permitted when stream is capturing")

    model = tiny_tacotron()
    graphed = graphed_tacotron2(model, capture=refuse)
    with caplog.at_level("WARNING", logger="tts_core"):
        replayed = decode(graphed, (LONG,))
    steps: GraphedSteps = graphed.decoder.step_runner
    assert steps.captures == 0 and len(steps.failed) == 1 and not steps.graphs
    assert sum("running it eagerly" in r.getMessage() for r in caplog.records) == 1  # once, not per step
    eager = decode(model, (LONG,))
    assert torch.equal(eager.mel_outputs_postnet, replayed.mel_outputs_postnet)
