"""The celery backend for real: Gunicorn + Nginx from the repository's files, a real Redis, and real worker
processes started by scripts/worker.sh (no eager mode). Workers are killed with SIGKILL mid-job to show that a job
survives them: exactly one file, one row, done."""
from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import time
import uuid

import pytest

from .conftest import ROOT, Stack, WyomingServer, free_port, http, post_json

REDIS_DB = 14  # the tests' own database on the local Redis; every module run uses its own queue name


def redis_running() -> bool:
    try:
        import redis

        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.fixture(scope="module")
def broker():
    if not redis_running():
        if os.environ.get("CI"):
            raise RuntimeError("Redis on 127.0.0.1:6379 is required (.ci/run starts it)")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    import redis

    queue = f"tts-test-{uuid.uuid4().hex[:8]}"
    yield {"url": f"redis://127.0.0.1:6379/{REDIS_DB}", "queue": queue}
    redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).delete(queue)


def job_env(broker) -> dict[str, str]:
    return {
        "TTS_SYNTHESIS_BACKEND": "celery",
        "CELERY_BROKER_URL": broker["url"],
        "TTS_QUEUE": broker["queue"],
        # Short limits so that redelivery after a vanished worker is seconds, not the production hour; the
        # visibility timeout is still longer than the hard time limit (20 + 5 s), as the settings demand. The
        # slow voice's job takes 6-10 s on these CPUs: the limit leaves it room on a loaded machine.
        "TTS_JOB_TIME_LIMIT": "20",
        "TTS_JOB_VISIBILITY_TIMEOUT": "26",
        "TTS_SYNC_TIMEOUT": "4",
        "TTS_JOB_RETRY_DELAY": "0.2",
        "TTS_LOAD_AT_STARTUP": "1",
    }


class Worker:
    """scripts/worker.sh in its own process group (the Celery main process and its pool child)."""

    def __init__(self, stack: Stack, name: str, wait_models: bool = True, **env: str):
        self.log_path = stack.tmp / f"worker-{name}.log"
        self.name = f"{name}-{uuid.uuid4().hex[:6]}@test"
        self.env = {**stack.env, "TTS_WORKER_NAME": self.name, **env}
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([str(ROOT / "scripts/worker.sh")], cwd=ROOT, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self.wait_log(" ready.", 90)
            # the pool child loads the models after the fork: wait for it (or its failure), so a job's timing is
            # the synthesis's
            self.wait_log("TTS voice active" if wait_models else "TTS models failed to load", 60)
        except BaseException:
            self.stop()  # a worker that never got ready must not live on to take later tests' jobs
            raise

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_log(self, needle: str, timeout: float) -> None:
        end = time.monotonic() + timeout
        while needle not in self.text():
            if self.proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"worker never logged {needle!r}:\n{self.text()[-3000:]}")
            time.sleep(0.2)

    def pool_children(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def kill(self) -> None:
        """SIGKILL to the whole worker, as if its machine died: nothing is acknowledged or given back."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, checkpoints, broker):
    s = Stack(tmp_path_factory.mktemp("celery-stack"), checkpoints["quick"], checkpoints["waveglow"],
              extra_env=job_env(broker))
    yield s
    s.stop()


class Workers:
    """The workers consuming the stack's queue: one kind at a time, so that a test's jobs run where it expects.
    Tests in a row that want the same kind of worker share one (each start is seconds of imports and model
    loading); a test that wants another kind, its own worker, or none, stops the shared one first."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.kept: Worker | None = None
        self.kept_key: tuple | None = None
        self.own: list[Worker] = []

    def shared(self, name: str, wait_models: bool = True, **env: str) -> Worker:
        key = (name, wait_models, tuple(sorted(env.items())))
        if self.kept is not None and (self.kept_key != key or self.kept.proc.poll() is not None):
            self.none()
        if self.kept is None:
            self.kept, self.kept_key = Worker(self.stack, name, wait_models, **env), key
        return self.kept

    def __call__(self, name: str, wait_models: bool = True, **env: str) -> Worker:
        """A worker of this test's own, stopped at its end."""
        self.none()
        worker = Worker(self.stack, name, wait_models, **env)
        self.own.append(worker)
        return worker

    def none(self) -> None:
        """No shared worker consumes the queue from now on."""
        if self.kept is not None:
            self.kept.stop()
            self.kept = self.kept_key = None

    def end_test(self) -> None:
        for worker in self.own:
            worker.stop()
        self.own = []


@pytest.fixture(scope="module")
def worker_pool(stack):
    pool = Workers(stack)
    yield pool
    pool.none()


@pytest.fixture
def workers(worker_pool):
    yield worker_pool
    worker_pool.end_test()


def quick_worker(workers: Workers) -> Worker:
    """The quick voice's worker under the default name (the compose probe's), serving its metrics on a port
    chosen when it starts."""
    running = workers.kept if workers.kept_key is not None and workers.kept_key[0] == "quick" else None
    port = running.env["TTS_METRICS_PORT"] if running is not None else str(free_port())
    return workers.shared("quick", TTS_WORKER_NAME="tts@%h", TTS_METRICS_PORT=port)


def slow_worker(workers: Workers, checkpoints) -> Worker:
    return workers.shared("slow", TTS_TACOTRON2_CHECKPOINT=str(checkpoints["slow"]))


def broken_worker(workers: Workers, tmp_path_factory) -> Worker:
    """A worker that starts but whose models cannot load."""
    broken = tmp_path_factory.getbasetemp() / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    return workers.shared("broken", wait_models=False, TTS_TACOTRON2_CHECKPOINT=str(broken), TTS_JOB_MAX_RETRIES="1")


def clear(stack: Stack) -> None:
    stack.manage("shell", "--no-imports", "-c", "from API.models import TTSound; TTSound.objects.all().delete()")
    for path in stack.media_files():
        path.unlink()


def record(stack: Stack, location: str) -> dict:
    status, _, body, _ = http("GET", location)
    assert status == 200, body
    return json.loads(body)


def wait_status(stack: Stack, location: str, want: set[str], timeout: float, **more) -> dict:
    end = time.monotonic() + timeout
    while True:
        body = record(stack, location)
        if body["status"] in want and all(f(body) for f in more.values()):
            return body
        if time.monotonic() > end:
            raise AssertionError(f"job still {body['status']} after {timeout} s: {body}")
        time.sleep(0.1)


SLOW_TEXT = "This sentence keeps the slow decoder busy. So does this one."
# nine sentences: the first alone, then two batches of four (the handler's batch size), so the first audio comes
# after one decoder run of three, whatever the vocoder's speed
STREAM_TEXT = "One. Two. Three. Four. Five. Six. Seven. Eight. Nine."


def test_web_processes_load_no_models_and_readiness_checks_the_broker(stack):
    status, _, body, _ = http("GET", f"{stack.url}/api/health/ready/")
    state = json.loads(body)
    assert status == 200 and state == {"ready": True, "backend": "celery"}
    assert "TTS voice active" not in (stack.tmp / "stack.log").read_text(errors="replace")


def test_bad_input_is_refused_before_queuing(stack, workers):
    workers.none()  # no worker runs: anything queued would stay queued
    clear(stack)
    for payload in ({"text": ""}, {"text": "😀😀"}, {"text": "Hi.", "sigma": 9}, {"text": "Hi.", "nope": 1}):
        status, _, body, _ = post_json(f"{stack.url}/api/tts/", {**payload, "async": True})
        assert status == 400, (payload, body)
    assert stack.rows() == []


def test_a_cancelled_queued_job_never_writes_a_file(stack, workers):
    workers.none()  # the job stays queued until the worker below starts
    clear(stack)
    status, _, body, _ = post_json(f"{stack.url}/api/tts/", {"text": "Cancel me.", "async": True})
    assert status == 202
    # DELETE needs the owner or staff: this anonymous record is deleted by staff (the admin, the clean endpoint)
    stack.manage("shell", "--no-imports", "-c",
                 f"from API.models import TTSound; TTSound.objects.filter(pk='{body['uuid']}').delete()")
    worker = quick_worker(workers)
    worker.wait_log(f"tts.synthesize[{body['uuid']}] succeeded", 30)
    assert "'skipped'" in worker.text()
    assert stack.rows() == [] and stack.media_files() == []


def test_an_async_job_is_done_by_a_worker_and_its_audio_served_by_nginx(stack, workers):
    clear(stack)
    quick_worker(workers)
    status, headers, body, _ = post_json(f"{stack.url}/api/tts/", {"text": "Hello from the queue.", "async": True})
    assert status == 202, body
    assert body["status"] == "queued" and body["audio_url"] is None
    location = headers["Location"]
    assert location.endswith(f"/api/tts/{body['uuid']}/")
    done = wait_status(stack, f"{stack.url}/api/tts/{body['uuid']}/", {"done", "failed"}, 30)
    assert done["status"] == "done", done
    assert done["progress"]["sentences_done"] == done["progress"]["sentences_total"] == 1
    status, headers, audio, _ = http("GET", done["audio_url"])
    assert status == 200 and audio[:4] == b"RIFF" and headers["Content-Type"] == "audio/wav"
    assert [p.name for p in stack.media_files()] == [f"{body['uuid']}.wav"]


def test_the_http_benchmark_measures_async_jobs_to_done(stack, workers):
    import importlib.util

    clear(stack)
    quick_worker(workers)
    spec = importlib.util.spec_from_file_location("bench_http", ROOT / "scripts/bench_http.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    time.sleep(2)  # nginx's POST rate limit (2 r/s, burst 3 here) refills
    (level,) = bench.main(["--url", stack.url, "--requests", "3", "--concurrency", "3", "--async"])
    assert level["ok"] == 3 and level["backend"] == "celery" and level["async"] is True
    assert 0 < level["outside_synthesis_share"] < 1  # queue + polling time is counted in the latency
    assert len(stack.media_files()) == 3


def test_a_synchronous_request_waits_for_the_worker_and_answers_201(stack, workers):
    clear(stack)
    quick_worker(workers)
    status, _, body, _ = post_json(f"{stack.url}/api/tts/", {"text": "Wait for me, worker."})
    assert status == 201, body
    assert body["status"] == "done" and body["audio_url"]
    assert http("GET", body["audio_url"])[0] == 200


def test_a_worker_serves_its_pools_metrics_and_the_web_process_the_job_states(stack, workers):
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    def scrape(url: str) -> dict[tuple, float]:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return {(s.name, tuple(sorted(s.labels.items()))): s.value
                    for f in text_string_to_metric_families(resp.read().decode()) for s in f.samples}

    def syntheses(metrics: dict) -> float:
        return sum(v for (n, _), v in metrics.items() if n == "tts_synthesis_seconds_count")

    done_key = ("tts_jobs_finished_total", (("backend", "celery"), ("outcome", "done")))
    clear(stack)
    url = f"http://127.0.0.1:{quick_worker(workers).env['TTS_METRICS_PORT']}/metrics"
    before = scrape(url)
    status, _, body, _ = post_json(f"{stack.url}/api/tts/", {"text": "Counted by the worker."})
    assert status == 201, body
    worker = scrape(url)
    assert syntheses(worker) - syntheses(before) == 1
    assert worker[done_key] - before.get(done_key, 0) == 1
    web = scrape(f"http://127.0.0.1:{stack.api_port}/metrics")
    assert web[("tts_jobs", (("status", "done"),))] == 1
    assert web[("tts_queue_depth", (("queue", stack.env["TTS_QUEUE"]),))] == 0
    assert not any(n == "tts_model_loaded" for n, _ in web)  # the web process holds no models
    for pid in stack.workers():  # nor PyTorch: it queues jobs and relays their audio
        assert "libtorch" not in pathlib.Path(f"/proc/{pid}/maps").read_text()


def test_the_wyoming_server_speaks_through_the_celery_workers(stack, workers):
    import asyncio

    from wyoming.audio import AudioChunk
    from wyoming.client import AsyncTcpClient
    from wyoming.tts import Synthesize

    clear(stack)
    quick_worker(workers)
    server = WyomingServer(stack, "wyoming-celery.log", timeout=60)
    try:
        async def run():
            async with AsyncTcpClient("127.0.0.1", server.port) as client:
                await client.write_event(Synthesize(text="Spoken by a worker. Relayed over Redis.").event())
                events = []
                while not events or events[-1].type not in ("audio-stop", "error"):
                    events.append(await asyncio.wait_for(client.read_event(), 60))
                return events

        events = asyncio.run(run())
        assert [e.type for e in events][0] == "audio-start" and events[-1].type == "audio-stop"
        assert sum(AudioChunk.from_event(e).samples for e in events if e.type == "audio-chunk") > 0
        assert "TTS voice active" not in server.log_path.read_text()  # no models here
    finally:
        server.stop()


def test_the_compose_health_check_of_a_worker_runs_natively(stack, workers):
    """docker-compose.yml's worker probe, its exact command, against a worker under its default name."""
    import socket
    import sys

    import yaml

    probe = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["worker"]["healthcheck"]["test"]
    assert probe[0] == "CMD-SHELL"
    command = probe[1].replace("$$", "$")  # compose's escape for a literal $
    env = {**stack.env, "HOSTNAME": socket.gethostname(),
           "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}"}
    env["TTS_WORKER_NAME"] = quick_worker(workers).env["TTS_WORKER_NAME"]
    out = subprocess.run(["sh", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "pong" in out.stdout
    env["HOSTNAME"] = "no-worker-here"  # the same probe in a container whose worker is not running: unhealthy
    out = subprocess.run(["sh", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0, out.stdout


def test_a_thread_pool_worker_loads_once_and_runs_its_jobs_at_once_for_dynamic_batching(stack, workers):
    """TTS_WORKER_POOL=threads (worker.sh): the worker's own process loads the models at start (no pool process
    does) and runs three jobs at the same time in that one process, where the handler batches their decoders."""
    clear(stack)
    worker = workers("threads", TTS_WORKER_POOL="threads", TTS_WORKER_CONCURRENCY="3", TTS_DYNAMIC_BATCH_SIZE="3",
                     TTS_DYNAMIC_BATCH_WAIT_MS="200")
    assert worker.pool_children() == [] and worker.text().count("TTS voice active") == 1
    uuids = []
    for i in range(3):
        status, _, body, _ = post_json(f"{stack.url}/api/tts/", {"text": f"{SLOW_TEXT} Job {i}.", "async": True})
        assert status == 202, body
        uuids.append(body["uuid"])
    done = [wait_status(stack, f"{stack.url}/api/tts/{u}/", {"done", "failed"}, 60) for u in uuids]
    assert [d["status"] for d in done] == ["done"] * 3, done
    assert all(http("GET", d["audio_url"])[0] == 200 for d in done)
    runners = json.loads(stack.manage("shell", "--no-imports", "-c", "import json; from API.models import TTSound; "
                                      "print(json.dumps(sorted({s.runner for s in TTSound.objects.all()})))"
                                      ).strip().splitlines()[-1])
    assert len(runners) == 1 and runners[0], runners  # one runner: the worker's one process
    latest_start = max(d["started_at"] for d in done)
    assert all(d["finished_at"] > latest_start for d in done)  # each job was still running when the last began


def test_a_stream_is_relayed_from_the_worker_sentence_by_sentence(stack, workers, tmp_path):
    """The openai SDK streams from /v1/audio/speech while a worker synthesizes: the worker publishes each sentence
    on the job's Redis stream and the web process relays it, so the first audio comes sentences before the end."""
    import io

    import av
    import openai

    from tests.tts_core.factories import save_our_tacotron, tiny_tacotron

    steady = tiny_tacotron(max_decoder_steps=600)
    steady.decoder.gate_layer.linear_layer.bias.data.fill_(-30.0)  # every sentence takes all 600 steps
    clear(stack)
    workers("steady", TTS_TACOTRON2_CHECKPOINT=str(save_our_tacotron(tmp_path / "steady.pt", steady)))
    client = openai.OpenAI(base_url=f"{stack.url}/v1", api_key="not-needed", max_retries=0, timeout=60)
    started, first, data = time.perf_counter(), None, b""
    with client.audio.speech.with_streaming_response.create(model="tts-1", voice="tacotron2-griffinlim",
                                                            input=STREAM_TEXT, response_format="wav") as response:
        uuid_ = response.headers["x-tts-sound"]
        for piece in response.iter_bytes():
            if piece and first is None:
                first = time.perf_counter() - started
            data += piece
    total = time.perf_counter() - started
    print(f"celery stream: first audio {first:.2f} s, whole {total:.2f} s")
    assert first < 0.5 * total
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        seconds = sum(f.samples for f in container.decode(stream)) / stream.rate
    done = record(stack, f"{stack.url}/api/tts/{uuid_}/")
    assert done["status"] == "done"
    assert seconds == pytest.approx(done["duration"], abs=0.03)
    import redis

    connection = redis.Redis.from_url(stack.env["CELERY_BROKER_URL"])
    deadline = time.monotonic() + 5  # the response's close, which removes the stream, follows its last byte
    while connection.exists(f"tts:stream:{uuid_}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not connection.exists(f"tts:stream:{uuid_}")  # cleaned up, not left to expire


def test_a_job_that_fails_ends_failed_with_a_message_and_no_file(stack, workers, tmp_path_factory):
    clear(stack)
    broken_worker(workers, tmp_path_factory)
    status, _, body, _ = post_json(f"{stack.url}/api/tts/", {"text": "This will not work.", "async": True})
    done = wait_status(stack, f"{stack.url}/api/tts/{body['uuid']}/", {"done", "failed"}, 30)
    assert done["status"] == "failed" and done["audio_url"] is None
    assert done["error"] == {"code": "not_ready", "message": "speech synthesis is unavailable right now"}
    assert stack.media_files() == []
    # waited for, the same failure is the request's error, and nothing is kept
    status, headers, body, _ = post_json(f"{stack.url}/api/tts/", {"text": "Nor will this."})
    assert status == 503 and body["error"]["code"] == "not_ready" and headers["Retry-After"]
    assert stack.rows() == [str(done["uuid"])]


def test_a_stream_whose_job_fails_before_any_audio_is_an_openai_error(stack, workers, tmp_path_factory):
    import openai

    clear(stack)
    broken_worker(workers, tmp_path_factory)

    client = openai.OpenAI(base_url=f"{stack.url}/v1", api_key="not-needed", max_retries=0, timeout=60)
    with pytest.raises(openai.APIStatusError) as caught:
        client.audio.speech.create(model="tts-1", voice="alloy", input="Nobody can say this.")
    assert caught.value.status_code == 503 and caught.value.body["code"] == "not_ready"
    assert stack.rows() == [] and stack.media_files() == []


def test_a_worker_killed_mid_job_loses_nothing_a_new_worker_finishes_it(stack, workers, checkpoints):
    clear(stack)
    first = workers("slow-1", TTS_TACOTRON2_CHECKPOINT=str(checkpoints["slow"]))
    status, _, body, _ = post_json(f"{stack.url}/api/tts/", {"text": SLOW_TEXT, "async": True})
    assert status == 202
    url = f"{stack.url}/api/tts/{body['uuid']}/"
    wait_status(stack, url, {"running"}, 30)
    time.sleep(1.0)  # well inside the synthesis
    first.kill()
    assert record(stack, url)["status"] == "running"  # the dead worker's claim: nothing else happened
    killed_at = time.monotonic()
    second = slow_worker(workers, checkpoints)
    done = wait_status(stack, url, {"done", "failed"}, 60)
    assert done["status"] == "done", done
    print(f"redelivered and done {time.monotonic() - killed_at:.1f} s after the kill")
    rows = json.loads(stack.manage("shell", "--no-imports", "-c",
                                   "import json; from API.models import TTSound; print(json.dumps(list("
                                   "TTSound.objects.values_list('attempts', 'runner'))))"))
    assert len(rows) == 1 and rows[0][0] == 2 and second.name in rows[0][1]
    assert [p.name for p in stack.media_files()] == [f"{body['uuid']}-2.wav"]  # exactly one file
    assert http("GET", done["audio_url"])[0] == 200


def test_a_pool_process_killed_mid_job_is_replaced_and_the_job_redelivered_at_once(stack, workers, checkpoints):
    clear(stack)
    worker = slow_worker(workers, checkpoints)
    lost_before = worker.text().count("WorkerLostError")
    status, _, body, _ = post_json(f"{stack.url}/api/tts/", {"text": SLOW_TEXT, "async": True})
    assert status == 202
    url = f"{stack.url}/api/tts/{body['uuid']}/"
    wait_status(stack, url, {"running"}, 30)
    time.sleep(1.0)
    (child,) = worker.pool_children()
    os.kill(child, signal.SIGKILL)  # e.g. the kernel's OOM killer: the main process sees WorkerLostError
    done = wait_status(stack, url, {"done", "failed"}, 60)
    assert done["status"] == "done", done
    assert worker.text().count("WorkerLostError") > lost_before
    assert len(stack.rows()) == 1 and [p.name for p in stack.media_files()] == [f"{body['uuid']}-2.wav"]


def test_a_synchronous_request_not_done_in_time_answers_202_and_the_job_goes_on(stack, workers, checkpoints):
    clear(stack)
    slow_worker(workers, checkpoints)
    started = time.monotonic()
    status, headers, body, _ = post_json(f"{stack.url}/api/tts/", {"text": SLOW_TEXT})
    assert status == 202, body  # TTS_SYNC_TIMEOUT is 4 s here; the slow voice needs more
    assert 3.5 < time.monotonic() - started < 15
    assert body["status"] in ("queued", "running") and headers["Location"].endswith(f"/{body['uuid']}/")
    assert wait_status(stack, f"{stack.url}/api/tts/{body['uuid']}/", {"done", "failed"}, 60)["status"] == "done"


def test_an_unreachable_broker_is_a_clear_503_and_nothing_is_stored(tmp_path_factory, checkpoints, broker):
    env = {**job_env(broker), "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0"}  # nothing listens
    s = Stack(tmp_path_factory.mktemp("no-broker"), checkpoints["quick"], checkpoints["waveglow"], extra_env=env)
    try:
        for payload in ({"text": "Anyone there?", "async": True}, {"text": "Anyone there?"}):
            started = time.monotonic()
            status, headers, body, _ = post_json(f"{s.url}/api/tts/", payload)
            assert status == 503, body
            assert body["error"]["code"] == "queue_unavailable" and headers["Retry-After"] == "5"
            assert time.monotonic() - started < 10  # no hanging request
        status, _, body, _ = http("GET", f"{s.url}/api/health/ready/")
        assert status == 503 and "broker" in json.loads(body)["reason"]
        assert s.rows() == [] and s.media_files() == []
    finally:
        s.stop()


def test_worker_sh_says_clearly_when_the_broker_is_unreachable(stack, tmp_path):
    env = {**stack.env, "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0", "BROKER_WAIT_TIMEOUT": "1"}
    out = subprocess.run([str(ROOT / "scripts/worker.sh")], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode != 0
    assert "not reachable" in out.stderr and "redis-server" in out.stderr
