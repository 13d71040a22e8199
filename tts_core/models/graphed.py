"""The free-running decoder step replayed from a captured CUDA graph.

At batch 1 a decoder step is about sixty small kernels, and on a fast GPU launching them costs more than running
them; a captured graph launches the whole step at once. :class:`GraphedSteps` runs :meth:`Decoder.infer_step`'s
contract (``decoder.step_runner``) on static buffers: inputs are copied in, the graph is replayed, the outputs are
cloned (the next replay overwrites them). Nothing in a step reads a value back to the host.

A graph has fixed shapes. One is captured per (batch, text-length bucket, prenet dropout, gate threshold, masks
given or drawn): the text length is padded up to a multiple of ``bucket`` symbols, the padded positions masked
exactly like a shorter utterance's in a batch (their attention weights are zero, their memory is never read), so a
new sentence length rarely means a new capture. The capture itself is pluggable: :func:`cuda_capture` on a GPU,
:func:`eager_capture` (the same buffers, run without a graph) where there is none, which is how CPU tests check
the buffer handling.
"""
from __future__ import annotations

import logging
import threading
import weakref
from collections import OrderedDict
from typing import Callable, Sequence

import torch

from .decoder import Decoder, DecoderState

log = logging.getLogger("tts_core")

# capture(step, static inputs) -> (replay, static outputs): replay() recomputes the outputs in place
Capture = Callable[[Callable[..., tuple], list[torch.Tensor]], tuple[Callable[[], None], list[torch.Tensor]]]


def eager_capture(step: Callable[..., tuple], inputs: list[torch.Tensor]
                  ) -> tuple[Callable[[], None], list[torch.Tensor]]:
    """No graph: each replay runs ``step`` on the static inputs and copies its results into the static outputs."""
    outputs = [t.clone() for t in step(*inputs)]

    def replay() -> None:
        for out, new in zip(outputs, step(*inputs)):
            out.copy_(new)

    return replay, outputs


def cuda_capture(step: Callable[..., tuple], inputs: list[torch.Tensor]
                 ) -> tuple[Callable[[], None], list[torch.Tensor]]:
    """A CUDA graph of ``step`` on the static inputs (warmed up on a side stream first, as capture requires).
    Under autocast the weights' casts are captured too: autocast's cache would otherwise hand the graph tensors
    that are freed when the request's autocast context ends."""
    enabled = torch.is_autocast_enabled("cuda")
    dtype = torch.get_autocast_dtype("cuda") if enabled else torch.float16

    def run() -> tuple:
        with torch.autocast("cuda", dtype=dtype, enabled=enabled, cache_enabled=False):
            return step(*inputs)

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(2):
            run()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    # thread_local: another thread's CUDA work during this capture (a threads pool) is neither captured nor an error
    with torch.cuda.graph(graph, capture_error_mode="thread_local"):
        outputs = list(run())
    return graph.replay, outputs


class _Graph:
    """One captured step and its static buffers, for one input signature."""

    def __init__(self, decoder: Decoder, capture: Capture, like: list[torch.Tensor], padded_len: int,
                 p: float, threshold: float, n_masks: int) -> None:
        # like: frame, 7 state tensors, memory, processed_memory, mask, not_finished, lengths, masks (the caller's)
        inputs = []
        for i, t in enumerate(like):
            shape = list(t.shape)
            if i in _TIME_AXIS:  # padded along the text axis
                shape[_TIME_AXIS[i]] = padded_len
            buf = torch.zeros(shape, dtype=t.dtype, device=t.device)
            if i == _MASK:
                buf.fill_(True)
            inputs.append(buf)
        self.inputs = inputs
        self.text_len = -1  # the length the text-axis buffers hold now
        self.memory_source: weakref.ref | None = None  # the memory tensor last copied in (not kept alive)

        def step(frame, ah, ac, dh, dc, w, wc, ctx, memory, processed, mask, not_finished, lengths, *masks):
            mel, gate, state, nf, ln = decoder.infer_step(frame, p, threshold, DecoderState(ah, ac, dh, dc, w, wc, ctx),
                                                         memory, processed, mask, not_finished, lengths,
                                                         list(masks) if n_masks else None)
            return (mel, gate, *state, nf, ln)

        self.replay, self.outputs = capture(step, inputs)

    def run(self, args: list[torch.Tensor]) -> list[torch.Tensor]:
        text_len = args[_MEMORY].size(1)
        source = self.memory_source() if self.memory_source is not None else None
        if args[_MEMORY] is not source or text_len != self.text_len:
            # a new utterance batch: its memory once, and the padded tail cleared (weights 0, positions masked)
            for i, axis in _TIME_AXIS.items():
                buf = self.inputs[i]
                buf.narrow(axis, text_len, buf.size(axis) - text_len).fill_(i == _MASK)
            for i in (_MEMORY, _PROCESSED, _MASK):
                self.inputs[i].narrow(1, 0, text_len).copy_(args[i])
            self.memory_source, self.text_len = weakref.ref(args[_MEMORY]), text_len
        for i, t in enumerate(args):
            if i in (_MEMORY, _PROCESSED, _MASK):
                continue
            dst = self.inputs[i]
            (dst.narrow(_TIME_AXIS[i], 0, text_len) if i in _TIME_AXIS else dst).copy_(t)
        self.replay()
        out = []
        for i, t in enumerate(self.outputs):
            t = t.narrow(1, 0, text_len) if i in _OUT_TIME_AXIS else t
            out.append(t.clone())
        return out


# positions in the flat input list: frame 0, state 1-7 (weights 5, weights_cum 6), memory 8, processed 9, mask 10
_MEMORY, _PROCESSED, _MASK = 8, 9, 10
_TIME_AXIS = {5: 1, 6: 1, _MEMORY: 1, _PROCESSED: 1, _MASK: 1}
_OUT_TIME_AXIS = {6, 7}  # outputs: mel 0, gate 1, state 2-8 (weights 6, weights_cum 7), not_finished 9, lengths 10


class GraphedSteps:
    """:meth:`Decoder.infer_step` of one decoder, replayed from captured graphs (see the module's docstring).
    Keeps the ``max_graphs`` most recently used graphs (under fp16 autocast a bucket takes two: the first step's
    state dtypes differ from the later steps'); thread-safe (one replay at a time: graphs share buffers). A
    signature whose capture fails runs the eager step from then on (logged once), never an error to the caller."""

    def __init__(self, decoder: Decoder, capture: Capture = cuda_capture, bucket: int = 64,
                 max_graphs: int = 64) -> None:
        self.decoder = decoder
        self.capture = capture
        self.bucket = bucket
        self.max_graphs = max_graphs
        self.graphs: OrderedDict[tuple, _Graph] = OrderedDict()
        self.failed: set[tuple] = set()
        self.captures = 0
        self._lock = threading.Lock()

    def __call__(self, frame: torch.Tensor, p: float, threshold: float, state: DecoderState, memory: torch.Tensor,
                 processed_memory: torch.Tensor, mask: torch.Tensor, not_finished: torch.Tensor,
                 lengths: torch.Tensor, prenet_masks: Sequence[torch.Tensor] | None = None
                 ) -> tuple[torch.Tensor, torch.Tensor, DecoderState, torch.Tensor, torch.Tensor]:
        args = [frame, *state, memory, processed_memory, mask, not_finished, lengths, *(prenet_masks or ())]
        padded = -(-memory.size(1) // self.bucket) * self.bucket
        key = (frame.size(0), padded, float(p), float(threshold), len(prenet_masks or ()),
               tuple((t.dtype, t.device) for t in args))
        with self._lock:
            graph = self._graph(key, args, padded, p, threshold, len(prenet_masks or ()))
            out = graph.run(args) if graph is not None else None
        if out is None:
            return self.decoder.infer_step(frame, p, threshold, state, memory, processed_memory, mask, not_finished,
                                           lengths, prenet_masks)
        return out[0], out[1], DecoderState(*out[2:9]), out[9], out[10]

    def _graph(self, key: tuple, args: list[torch.Tensor], padded: int, p: float, threshold: float,
               n_masks: int) -> _Graph | None:
        """The graph of ``key``, captured now if new; None where its capture failed (the caller runs eagerly)."""
        if key in self.failed:
            return None
        graph = self.graphs.get(key)
        if graph is None:
            try:
                graph = _Graph(self.decoder, self.capture, args, padded, p, threshold, n_masks)
            except Exception:
                log.warning("could not capture the decoder step as a graph (batch %d, text bucket %d): running it "
                            "eagerly", args[0].size(0), padded, exc_info=True)
                self.failed.add(key)
                return None
            self.graphs[key] = graph
            self.captures += 1
            while len(self.graphs) > self.max_graphs:
                self.graphs.popitem(last=False)
        self.graphs.move_to_end(key)
        return graph


def graphed_tacotron2(model, capture: Capture = cuda_capture, bucket: int = 64):
    """``model`` with its decoder's free-running steps replayed from graphs; ``model`` itself is unchanged (the
    copy shares every weight)."""
    from .fast import _shallow_module_copy

    new = _shallow_module_copy(model)
    new.decoder = _shallow_module_copy(model.decoder)
    new.decoder.step_runner = GraphedSteps(new.decoder, capture, bucket)
    return new
