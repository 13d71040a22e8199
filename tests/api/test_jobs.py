"""Jobs with the inline backend (the executor in this process), and the job's claim/commit rules that keep one row,
at most one file, and the file exactly when done, whatever interleaves. The celery backend, with a real Redis and a
real worker process, is tests/stack/test_celery.py."""
from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from API import backends, jobs
from API.models import TTSound
from API.services import tts_requeue

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = "The quick brown fox. It jumps over the lazy dog. Then it sleeps."


@pytest.fixture(autouse=True)
def drained():
    yield
    backends.wait_for_inline_jobs_for_tests()


def finish_inline_jobs() -> None:
    backends.wait_for_inline_jobs_for_tests()


def post_async(client, **body):
    return client.post("/api/tts/", {"text": TEXT, "async": True, **body}, format="json")


def test_an_async_request_answers_202_with_the_queued_job_then_the_job_ends_done(as_user, media_files):
    r = post_async(as_user)
    assert r.status_code == 202, r.content
    body = r.json()
    assert body["status"] in ("queued", "running", "done")  # the executor may already have started it
    if body["status"] != "done":
        assert body["audio_url"] is None
    assert r["Location"] == f"http://testserver/api/tts/{body['uuid']}/"
    finish_inline_jobs()
    done = as_user.get(r["Location"]).json()
    assert done["status"] == "done"
    assert done["progress"] == {"sentences_done": 3, "sentences_total": 3}
    assert done["error"] is None and done["duration"] > 0 and done["started_at"] and done["finished_at"]
    audio = as_user.get(done["audio_url"])
    assert audio.status_code == 200
    assert audio["X-Accel-Redirect"].endswith(f"/{body['uuid']}.wav")  # nginx sends it (tests/stack: for real)
    assert [p.name for p in media_files()] == [f"{body['uuid']}.wav"]


def test_prefer_respond_async_is_the_same_as_async_true(as_user):
    r = as_user.post("/api/tts/", {"text": TEXT}, format="json", HTTP_PREFER="respond-async, wait=5")
    assert r.status_code == 202 and r["Preference-Applied"] == "respond-async"
    finish_inline_jobs()
    assert TTSound.objects.get(pk=r.json()["uuid"]).status == "done"


def test_a_synchronous_request_still_answers_201_with_the_finished_record(as_user):
    r = as_user.post("/api/tts/", {"text": TEXT}, format="json")
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "done" and body["audio_url"] and r["Location"].endswith(f"/api/tts/{body['uuid']}/")
    assert body["progress"] == {"sentences_done": 3, "sentences_total": 3}


@pytest.mark.parametrize("body, field", [
    ({"text": ""}, "text"),
    ({"text": "😀 🎉 ✨"}, "text"),  # nothing speakable: refused before queuing, not failed later
    ({"text": "Hello.", "vocoder": "waveglow"}, "vocoder"),  # no WaveGlow configured (below)
    ({"text": "Hello.", "async": "maybe"}, "async"),
])
def test_bad_input_is_a_400_before_anything_is_queued(as_user, set_tts, media_files, body, field):
    set_tts(handler={"waveglow_checkpoint": None})
    r = as_user.post("/api/tts/", {**body, "async": body.get("async", True)}, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json()["error"]["details"]
    finish_inline_jobs()
    assert TTSound.objects.count() == 0 and media_files() == []


def test_the_list_filters_by_status(as_user):
    post_async(as_user)
    finish_inline_jobs()
    assert as_user.get("/api/tts/?status=done").json()["count"] == 1
    assert as_user.get("/api/tts/?status=queued").json()["count"] == 0
    assert as_user.get("/api/tts/?status=bogus").status_code == 400


# ------------------------------------------------------------------------------------------------ failures
def test_a_job_whose_models_cannot_load_ends_failed_with_a_message_and_no_file(as_user, set_tts, media_files,
                                                                             tmp_path):
    set_tts(handler={"tacotron2_checkpoint": str(tmp_path / "missing.pt")}, JOB_MAX_RETRIES=0)
    r = post_async(as_user)
    finish_inline_jobs()
    body = as_user.get(r["Location"]).json()
    assert body["status"] == "failed" and body["audio_url"] is None
    assert body["error"] == {"code": "not_ready", "message": "speech synthesis is unavailable right now"}
    assert str(tmp_path) not in str(body)  # no server path leaks
    assert media_files() == []


def test_a_transient_failure_with_retries_left_queues_the_job_again_with_the_reason(user, set_tts, tmp_path):
    set_tts(handler={"tacotron2_checkpoint": str(tmp_path / "missing.pt")}, JOB_MAX_RETRIES=2, JOB_RETRY_DELAY=3.0)
    sound = TTSound.objects.create(text_content=TEXT, owner=user)
    with pytest.raises(jobs.RetryLater) as later:
        jobs.run_job(sound.pk, runner="test", retries=1)
    assert later.value.delay == 6.0  # doubled per retry
    sound.refresh_from_db()
    assert sound.status == "queued" and sound.error_code == "not_ready" and "retrying in 6 s" in sound.error
    assert jobs.run_job(sound.pk, runner="test", retries=2) == "failed"  # no retries left
    sound.refresh_from_db()
    assert sound.status == "failed" and sound.finished_at is not None


def test_a_job_past_its_time_limit_fails_with_timeout(user, set_tts, media_files):
    set_tts(JOB_TIME_LIMIT=0)
    sound = TTSound.objects.create(text_content=TEXT, owner=user)
    assert jobs.run_job(sound.pk, runner="test") == "failed"
    sound.refresh_from_db()
    assert (sound.status, sound.error_code) == ("failed", "timeout") and media_files() == []


def test_a_time_limit_that_lands_just_after_the_commit_keeps_the_job_done_with_its_file(user, media_files,
                                                                                        monkeypatch):
    """Celery's soft time limit is an asynchronous exception: it can arrive while the transaction block exits,
    after the COMMIT. The record then names its file, so the file stays and the job counts as done."""
    from celery.exceptions import SoftTimeLimitExceeded

    real_atomic = transaction.atomic

    class LateLimit:  # the block commits, then the exception arrives on the way out
        def __enter__(self):
            self.block = real_atomic()
            return self.block.__enter__()

        def __exit__(self, *exc):
            self.block.__exit__(*exc)
            if exc[0] is None:
                raise SoftTimeLimitExceeded()

    monkeypatch.setattr(jobs.transaction, "atomic", LateLimit)
    sound = TTSound.objects.create(text_content=TEXT, owner=user)
    assert jobs.run_job(sound.pk, runner="test") == "done"
    sound.refresh_from_db()
    assert sound.status == "done" and sound.audio_join.name
    assert [p.name for p in media_files()] == [sound.audio_join.name.rsplit("/", 1)[-1]]


def test_failed_jobs_are_requeued_and_then_done(user, set_tts, tiny_checkpoints, tmp_path, media_files):
    from API import engine

    set_tts(handler={"tacotron2_checkpoint": str(tmp_path / "missing.pt")}, JOB_MAX_RETRIES=0)
    sound = TTSound.objects.create(text_content=TEXT, owner=user)
    assert jobs.run_job(sound.pk, runner="test") == "failed"
    set_tts(handler={"tacotron2_checkpoint": str(tiny_checkpoints[0])})  # the operator fixed the models
    engine.reset_for_tests()
    assert tts_requeue(sound=TTSound.objects.get(pk=sound.pk)) is True
    finish_inline_jobs()
    sound.refresh_from_db()
    assert sound.status == "done" and sound.error == "" and sound.attempts == 2
    assert [p.name for p in media_files()] == [f"{sound.pk}-2.wav"]
    assert tts_requeue(sound=sound) is False  # only failed jobs


# ------------------------------------------------------------------------------------------------ cancel
def test_deleting_a_queued_job_cancels_it_and_no_file_appears(as_user, user, media_files):
    sound = TTSound.objects.create(text_content=TEXT, owner=user)  # queued, its job not started yet
    assert as_user.delete(f"/api/tts/{sound.pk}/").status_code == 204
    assert jobs.run_job(sound.pk, runner="test") == "skipped"  # the job, delivered after the delete
    assert TTSound.objects.count() == 0 and media_files() == []


def test_deleting_a_running_job_stops_it_at_the_next_sentence_and_keeps_no_file(user, media_files):
    sound = TTSound.objects.create(text_content=TEXT, owner=user)
    claimed = jobs.claim(sound.pk, runner="test")
    TTSound.objects.filter(pk=sound.pk).delete()  # DELETE while it runs
    assert jobs._synthesize(claimed) is False
    assert media_files() == []


# ------------------------------------------------------------------------------------------------ redelivery
def test_a_redelivered_job_takes_over_and_the_dead_attempts_file_is_removed(user, media_files):
    sound = TTSound.objects.create(text_content=TEXT, owner=user)
    first = jobs.claim(sound.pk, runner="worker-a")  # then worker a dies after writing its file
    first_name = first.audio_join.field.generate_filename(first, "")
    first.audio_join.storage.save(first_name, __import__("io").BytesIO(b"partial"))
    assert len(media_files()) == 1
    second = jobs.claim(sound.pk, runner="worker-b")
    assert second.attempts == 2 and second.runner == "worker-b"
    assert media_files() == []  # the dead attempt's leftover
    assert jobs._synthesize(second) is True
    assert jobs._synthesize(first) is False  # had it been alive after all: its commit finds the job taken over
    sound.refresh_from_db()
    assert sound.status == "done" and [p.name for p in media_files()] == [f"{sound.pk}-2.wav"]
    assert sound.audio_join.name.endswith(f"{sound.pk}-2.wav")


def test_a_job_delivered_again_after_it_is_done_writes_nothing(user, media_files):
    sound = TTSound.objects.create(text_content=TEXT, owner=user)
    assert jobs.run_job(sound.pk, runner="test") == "done"
    assert jobs.run_job(sound.pk, runner="test") == "skipped"
    assert len(media_files()) == 1 and TTSound.objects.get(pk=sound.pk).attempts == 1


def test_the_file_exists_exactly_when_done_is_a_database_rule(user):
    sound = TTSound.objects.create(text_content=TEXT, owner=user)
    with pytest.raises(IntegrityError), transaction.atomic():
        TTSound.objects.filter(pk=sound.pk).update(status="done")
    with pytest.raises(IntegrityError), transaction.atomic():
        TTSound.objects.filter(pk=sound.pk).update(audio_join="tts/x.wav")


# ------------------------------------------------------------------------------------------------ interrupted
def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_jobs_of_dead_processes_are_marked_interrupted_and_live_ones_kept(user):
    host = jobs.inline_runner().split(":")[1]
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = TTSound.objects.create(text_content=TEXT, runner=f"inline:{host}:{dead_pid()}", status="running",
                                      attempts=1)
        live = TTSound.objects.create(text_content=TEXT, runner=f"inline:{host}:{alive.pid}")
        elsewhere = TTSound.objects.create(text_content=TEXT, runner="inline:other-host:1")
        stale = TTSound.objects.create(text_content=TEXT, runner="inline:other-host:2", status="running",
                                       started_at=timezone.now() - timezone.timedelta(hours=2))
        on_celery = TTSound.objects.create(text_content=TEXT, backend="celery", status="running",
                                           started_at=timezone.now() - timezone.timedelta(minutes=30))
        lost_on_celery = TTSound.objects.create(text_content=TEXT, backend="celery", status="running",
                                                started_at=timezone.now() - timezone.timedelta(hours=3))
        assert jobs.interrupt_lost_jobs() == 3
        states = {s.pk: (s.status, s.error_code) for s in TTSound.objects.all()}
        assert states[dead.pk] == ("failed", "interrupted") and states[stale.pk] == ("failed", "interrupted")
        assert states[live.pk] == ("queued", "") and states[elsewhere.pk] == ("queued", "")
        # a worker's job is the broker's to redeliver, unless it has been lost for longer than redelivery takes
        assert states[on_celery.pk] == ("running", "")
        assert states[lost_on_celery.pk] == ("failed", "interrupted")
        # At the release step no process of this host runs yet: all of this host's inline jobs are interrupted.
        assert jobs.interrupt_lost_jobs(whole_host=True) == 1
        assert TTSound.objects.get(pk=live.pk).status == "failed"
    finally:
        alive.kill()
        alive.wait()


def test_the_release_step_marks_this_hosts_unfinished_inline_jobs_interrupted(as_user):
    from django.core.management import call_command

    sound = TTSound.objects.create(text_content=TEXT, runner=jobs.inline_runner())
    call_command("release", "--no-static", verbosity=0)
    body = as_user.get(f"/api/tts/{sound.pk}/").json()  # an anonymous record: readable by uuid
    assert body["status"] == "failed" and body["error"]["code"] == "interrupted"


# ------------------------------------------------------------------------------------------------ migration
def test_the_migration_marks_existing_records_done():
    executor = MigrationExecutor(connection)
    executor.migrate([("API", "0001_initial")])
    old = executor.loader.project_state([("API", "0001_initial")]).apps.get_model("API", "TTSound")
    pk = uuid.uuid4()
    old.objects.create(uuid=pk, text_content="before jobs", audio_join="tts/2026/01/01/a.wav", inference_time=1.0,
                       duration=2.0, sample_rate=22050, voice="demo", vocoder="griffinlim")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    row = TTSound.objects.get(pk=pk)
    assert row.status == "done" and row.audio_join.name == "tts/2026/01/01/a.wav"
    assert TTSound.objects.create(text_content="new").status == "queued"
