"""Dynamic batching across requests, like Triton's dynamic batcher: one thread owns the models, and the sentences of
requests that arrive within a few milliseconds of each other decode as one Tacotron2 batch.

:class:`ModelOwner` is that thread. Requests run on their own threads and hand it their model work:

* :meth:`ModelOwner.decode` for an unseeded request's sentences. The owner takes the first waiting decode, then
  waits up to ``max_wait_s`` for more (fewer than ``max_batch`` sentences in all, the same step limit), and runs them
  as one batch. Each sentence keeps its own mel length, truncation flag and alignment (padding masks).
* :meth:`ModelOwner.call` for everything else, one at a time in arrival order: vocoding, and a seeded request's
  decode (its dropout draws come from its own generator, so it never shares a batch and gives the same audio as
  without batching).

All PyTorch work thus stays on one thread, as on the service's model thread without batching (PyTorch's CPU kernels
slow down when several threads drive them), and a decoder batch of B sentences costs about one sentence at batch 1
where a step is bound by reading the weights (small batches on a GPU; int8 matrix-vector products on CPU).
"""
from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Work:
    kind: str  # "decode" or "call"
    payload: Any
    key: Any = None  # decodes batch together only with the same key (the step limit)
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None

    def finish(self, result: Any = None, error: BaseException | None = None) -> None:
        self.result, self.error = result, error
        self.done.set()

    def wait(self) -> Any:
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.result


@dataclass
class BatchStats:
    """What the owner has run: decoder batches and their sizes in sentences (for tests, logs and benchmarks)."""

    batches: int = 0
    sentences: int = 0
    largest: int = 0

    def add(self, size: int) -> None:
        self.batches, self.sentences, self.largest = self.batches + 1, self.sentences + size, max(self.largest, size)


class ModelOwner(Generic[T, R]):
    """The thread that runs all model work of one handler; ``decode_batch(items, key) -> results`` (one result per
    item, in order) is what a decoder batch runs."""

    def __init__(self, decode_batch: Callable[[list[T], Any], Sequence[R]], max_batch: int, max_wait_s: float,
                 name: str = "tts-model-owner") -> None:
        if max_batch < 1 or max_wait_s < 0:
            raise ValueError("max_batch must be at least 1 and max_wait_s not negative")
        self.decode_batch, self.max_batch, self.max_wait_s = decode_batch, max_batch, max_wait_s
        self.stats = BatchStats()
        self._closed = False
        self._queue: collections.deque[_Work] = collections.deque()
        self._ready = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    @property
    def ident(self) -> int | None:
        return self._thread.ident

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``fn`` on the owner thread, after the work queued before it; at once when already on it."""
        if threading.get_ident() == self._thread.ident:
            return fn(*args, **kwargs)
        return self._submit(_Work("call", (fn, args, kwargs)))

    def decode(self, items: list[T], key: Any = None) -> list[R]:
        """Decode ``items`` in a batch with other requests' items of the same ``key``; their results, in order."""
        if threading.get_ident() == self._thread.ident:
            return list(self.decode_batch(items, key))
        return self._submit(_Work("decode", list(items), key))

    def close(self) -> None:
        """Stop the thread once the queued work is done (its handler is being dropped); later work is refused."""
        with self._ready:
            self._closed = True
            self._ready.notify()

    def _submit(self, work: _Work) -> Any:
        with self._ready:
            if self._closed:
                raise RuntimeError("the model owner is closed")
            self._queue.append(work)
            self._ready.notify()
        return work.wait()

    def _loop(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._closed:
                    self._ready.wait()
                if not self._queue:
                    return
                work = self._queue.popleft()
            batch = [work]
            try:
                if work.kind == "call":
                    fn, args, kwargs = work.payload
                    work.finish(fn(*args, **kwargs))
                else:
                    self._gather(batch)
                    self._run_decodes(batch)
            except BaseException as exc:  # handed to the callers, which raise it; the owner goes on
                for item in batch:
                    if not item.done.is_set():
                        item.finish(error=exc)

    def _gather(self, batch: list[_Work]) -> None:
        """Add to ``batch`` (one decode) the decodes of its key that arrive within ``max_wait_s`` while it has room;
        each is in ``batch`` as soon as it leaves the queue, so a failure reaches it."""
        first, size = batch[0], len(batch[0].payload)
        deadline = time.monotonic() + self.max_wait_s
        with self._ready:
            while size < self.max_batch:
                fitting = next((w for w in self._queue if w.kind == "decode" and w.key == first.key
                                and size + len(w.payload) <= self.max_batch), None)
                if fitting is not None:
                    self._queue.remove(fitting)
                    batch.append(fitting)
                    size += len(fitting.payload)
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._ready.wait(left)

    def _run_decodes(self, batch: list[_Work]) -> None:
        items = [item for work in batch for item in work.payload]
        results = list(self.decode_batch(items, batch[0].key))
        if len(results) != len(items):
            raise RuntimeError(f"a decoder batch of {len(items)} gave {len(results)} results")
        self.stats.add(len(items))
        start = 0
        for work in batch:
            work.finish(results[start: start + len(work.payload)])
            start += len(work.payload)
