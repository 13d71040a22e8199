import threading

import pytest

from tts_core.batching import ModelOwner


class Recorder:
    """A decoder batch function that records its batches and the thread they ran on."""

    def __init__(self, fail_on: object = None) -> None:
        self.batches: list[list[int]] = []
        self.threads: set[int] = set()
        self.fail_on = fail_on

    def __call__(self, items: list[int], key: object) -> list[tuple[int, object]]:
        self.threads.add(threading.get_ident())
        self.batches.append(list(items))
        if self.fail_on in items:
            raise ValueError(f"cannot decode {self.fail_on}")
        return [(item * 10, key) for item in items]


def _concurrently(fns):
    results, errors = [None] * len(fns), [None] * len(fns)
    barrier = threading.Barrier(len(fns))

    def run(i):
        barrier.wait()
        try:
            results[i] = fns[i]()
        except Exception as exc:  # noqa: BLE001 - handed back to the test
            errors[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(fns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def test_concurrent_decodes_share_one_batch_and_each_gets_its_own_results():
    rec = Recorder()
    owner = ModelOwner(rec, max_batch=6, max_wait_s=2.0)  # the batch fills long before the wait ends
    results, errors = _concurrently([lambda i=i: owner.decode([i, i + 100], key="k") for i in range(3)])
    assert errors == [None] * 3
    assert results == [[(i * 10, "k"), ((i + 100) * 10, "k")] for i in range(3)]
    assert [len(b) for b in rec.batches] == [6] and owner.stats.batches == 1 and owner.stats.largest == 6
    assert rec.threads == {owner.ident}  # all model work on the owner's thread


def test_batches_never_exceed_the_maximum_and_never_mix_keys():
    rec = Recorder()
    owner = ModelOwner(rec, max_batch=4, max_wait_s=0.2)
    fns = [lambda i=i: owner.decode([i, i], key=i % 2) for i in range(6)]
    results, errors = _concurrently(fns)
    assert errors == [None] * 6 and results == [[(i * 10, i % 2)] * 2 for i in range(6)]
    assert all(len(b) <= 4 for b in rec.batches) and sum(map(len, rec.batches)) == 12
    assert all(len({item % 2 for item in b}) == 1 for b in rec.batches)


def test_a_lone_request_waits_at_most_the_maximum_wait():
    rec = Recorder()
    owner = ModelOwner(rec, max_batch=8, max_wait_s=0.0)
    assert owner.decode([1, 2]) == [(10, None), (20, None)]
    assert rec.batches == [[1, 2]]


def test_a_failed_batch_fails_each_of_its_requests_and_the_owner_goes_on():
    rec = Recorder(fail_on=7)
    owner = ModelOwner(rec, max_batch=4, max_wait_s=0.5)
    _, errors = _concurrently([lambda: owner.decode([7, 8]), lambda: owner.decode([9, 10])])
    assert all(isinstance(e, ValueError) and "cannot decode 7" in str(e) for e in errors)
    assert owner.decode([1]) == [(10, None)]


def test_calls_run_on_the_owner_thread_in_order_and_may_nest():
    owner = ModelOwner(Recorder(), max_batch=2, max_wait_s=0.0)
    seen = []
    assert owner.call(lambda: seen.append(threading.get_ident()) or "done") == "done"
    assert seen == [owner.ident]
    # model work that itself asks the owner (warm-up decoding) runs inline instead of waiting for itself
    assert owner.call(lambda: owner.decode([3]) + [owner.call(lambda: "inner")]) == [(30, None), "inner"]
    with pytest.raises(ZeroDivisionError):
        owner.call(lambda: 1 / 0)


def test_a_batch_function_that_loses_results_fails_its_callers_instead_of_dropping_sentences():
    owner = ModelOwner(lambda items, key: items[:-1], max_batch=4, max_wait_s=0.0)
    with pytest.raises(RuntimeError, match="batch of 2 gave 1 results"):
        owner.decode([1, 2])


def test_a_closed_owner_finishes_its_queue_then_refuses_work_and_its_thread_ends():
    owner = ModelOwner(Recorder(), max_batch=2, max_wait_s=0.0)
    assert owner.decode([4]) == [(40, None)]
    owner.close()
    owner._thread.join(5)
    assert not owner._thread.is_alive()
    with pytest.raises(RuntimeError, match="closed"):
        owner.call(lambda: None)


@pytest.mark.parametrize("max_batch, wait", [(0, 0.0), (2, -1.0)])
def test_bad_limits_are_refused(max_batch, wait):
    with pytest.raises(ValueError):
        ModelOwner(Recorder(), max_batch=max_batch, max_wait_s=wait)
