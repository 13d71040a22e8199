"""Dynamic batching in the inline web process: concurrent synchronous requests run at once and their sentences meet
in one decoder batch on the handler's owner thread (tts_core.batching)."""
from __future__ import annotations

import threading

import pytest
from django.test import Client

from API import engine
from API.models import TTSound


@pytest.fixture
def batching(set_tts):
    """TTS_DYNAMIC_BATCH_SIZE=3 with a long gathering wait, and a model thread pool made for it; afterwards the
    process's one-thread pool again (its thread is still known as a model thread)."""
    set_tts(handler={"dynamic_batch_size": 3, "dynamic_batch_wait_ms": 1000})
    before, engine._model_thread = engine._model_thread, None
    yield
    pool, engine._model_thread = engine._model_thread, before
    if pool is not None:
        pool.shutdown(wait=True)


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_decode_in_one_batch_and_each_gets_its_own_record(batching):
    handler = engine.get_handler()
    assert handler.owner is not None
    texts = ["The first caller.", "A second caller here.", "And the third one."]
    answers = [None] * len(texts)
    barrier = threading.Barrier(len(texts))

    def post(i: int) -> None:
        barrier.wait()
        answers[i] = Client().post("/api/tts/", {"text": texts[i]}, content_type="application/json")

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [a.status_code for a in answers] == [201] * 3
    assert sorted(a.json()["text_content"] for a in answers) == sorted(texts)
    assert TTSound.objects.count() == 3
    # one batch of all three: the requests ran at once on the pool and waited for each other at the owner
    assert handler.owner.stats.batches == 1 and handler.owner.stats.largest == 3
