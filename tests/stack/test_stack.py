"""End-to-end: real Gunicorn + real Nginx from the repository's config files."""
from __future__ import annotations

import concurrent.futures
import io
import json
import time
import wave

import pytest

from .conftest import Stack, http, post_json

pytestmark = pytest.mark.stack
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}


def assert_security_headers(raw, what: str) -> None:
    """Exactly one of each, whoever answered (Django, nginx's files, nginx's own errors)."""
    for name, value in SECURITY_HEADERS.items():
        assert raw.get_all(name) == [value], (what, name, raw.get_all(name))


@pytest.fixture(scope="module")
def stack(tmp_path_factory, checkpoints):
    s = Stack(tmp_path_factory.mktemp("stack"), checkpoints["quick"], checkpoints["waveglow"])
    yield s
    s.stop()


def test_synthesis_audio_static_limits_and_delete_through_nginx(stack):
    stack.manage("shell", "-c",
                 "from django.contrib.auth.models import User; User.objects.create_user('eve', password='pw-eve-77')")
    status, _, body, _ = post_json(f"{stack.url}/api/auth/token/", {"username": "eve", "password": "pw-eve-77"})
    assert status == 200
    auth = {"Authorization": f"Token {body['token']}"}

    status, headers, record, raw = post_json(f"{stack.url}/api/tts/", {"text": "Hello through nginx."}, auth)
    assert status == 201, record
    # absolute, on the proxy's address; an access-checked, signed link (the record is eve's)
    assert record["audio_url"].startswith(f"{stack.url}/api/tts/{record['uuid']}/audio/?sig=")
    assert headers["Server"] == "nginx"  # server_tokens off: no version
    assert_security_headers(raw, "api")

    status, headers, audio, raw = http("GET", record["audio_url"])
    assert status == 200 and headers["Content-Type"] == "audio/wav"
    # Deletable user content: no shared cache keeps it, browsers revalidate.
    assert raw.get_all("Cache-Control") == ["private, no-cache"]
    assert_security_headers(raw, "media")
    assert http("GET", record["audio_url"], headers={"If-None-Match": headers["ETag"]})[0] == 304
    # The file itself is not public: only Django's access check hands it to nginx (X-Accel-Redirect).
    assert http("GET", f"{stack.url}/api/tts/{record['uuid']}/audio/")[0] == 404  # no signature, no token
    assert http("GET", f"{stack.url}/api/tts/{record['uuid']}/audio/", headers=auth)[0] == 200
    assert stack.media_files() and http("GET", f"{stack.url}/media/{stack.media_files()[0].relative_to(stack.media)}")[0] == 404
    with wave.open(io.BytesIO(audio)) as w:
        assert w.getframerate() == 22050 and w.getnframes() > 0
    status, headers, part, _ = http("GET", record["audio_url"], headers={"Range": "bytes=0-99"})
    assert status == 206 and len(part) == 100 and headers["Content-Range"] == f"bytes 0-99/{len(audio)}"

    status, headers, css, raw = http("GET", f"{stack.url}/static/admin/css/base.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css") and len(css) > 1000
    assert raw.get_all("Cache-Control") == ["public, max-age=604800"]
    assert_security_headers(raw, "static")
    assert_security_headers(http("GET", f"{stack.url}/static/nothing.css")[3], "static 404")

    status, _, error, raw = post_json(f"{stack.url}/api/tts/", {"text": "a" * 200_000})
    assert status == 413 and error["error"]["code"] == "too_large"
    assert_security_headers(raw, "nginx 413")

    status, _, _, _ = http("DELETE", f"{stack.url}/api/tts/{record['uuid']}/", headers=auth)
    assert status == 204
    status, _, _, raw = http("GET", record["audio_url"])
    assert status == 404  # (and "private, no-cache": no cache holds on to the 404 either)
    assert_security_headers(raw, "media 404")
    assert stack.media_files() == []


def test_http_benchmark_runs_against_the_stack(stack):
    import importlib.util

    from .conftest import ROOT

    spec = importlib.util.spec_from_file_location("bench_http", ROOT / "scripts/bench_http.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    time.sleep(2)  # let nginx's rate-limit bucket refill
    levels = bench.main(["--url", stack.url, "--requests", "3", "--concurrency", "1"])
    assert levels[0]["ok"] == 3 and levels[0]["error_rate"] == 0
    assert 0 < levels[0]["outside_synthesis_share"] < 1 and levels[0]["latency_p90_s"] > 0
    status, _, _, _ = http("DELETE", f"{stack.url}/api/tts/clean/")
    assert status == 401  # cleaning needs staff (anonymous: not signed in); the records stay owned by nobody


def test_burst_is_rate_limited_by_nginx(stack):
    time.sleep(2)  # let the bucket refill after the previous test
    files_before = stack.media_files()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: post_json(f"{stack.url}/api/tts/", {"text": ""}), range(12)))
    codes = [r[0] for r in results]
    assert 429 in codes and 400 in codes  # the first few reach Django (empty text -> 400), the rest are shed
    limited = next(r for r in results if r[0] == 429)
    assert limited[2]["error"]["code"] == "throttled" and limited[3].get_all("Retry-After") == ["1"]
    assert_security_headers(limited[3], "nginx 429")
    assert stack.media_files() == files_before


def test_a_huge_url_is_a_json_414_and_a_long_one_reaches_django(stack):
    # Between Gunicorn's old 4 KiB line limit and nginx's 8 KiB: Django answers (here 401: not signed in).
    status, headers, body, _ = http("GET", f"{stack.url}/api/tts/?search=" + "x" * 6000)
    assert status == 401 and headers["Content-Type"] == "application/json"
    status, headers, body, _ = http("GET", f"{stack.url}/api/tts/?search=" + "x" * 9000)
    assert status == 414 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "uri_too_long"


@pytest.mark.parametrize("fmt, mime", [("mp3", "audio/mpeg"), ("opus", "audio/ogg"), ("aac", "audio/aac"),
                                       ("flac", "audio/flac")])
def test_every_stored_format_is_served_by_nginx_with_its_type_and_ranges(stack, fmt, mime):
    time.sleep(0.6)  # nginx's POST rate limit here (2 r/s)
    status, _, body, _ = post_json(f"{stack.url}/api/tts/", {"text": "Served in any format.", "format": fmt})
    assert status == 201, body
    status, headers, audio, _ = http("GET", body["audio_url"])
    assert status == 200 and headers["Content-Type"] == mime and len(audio) > 100
    status, headers, part, _ = http("GET", body["audio_url"], headers={"Range": "bytes=0-99"})
    assert status == 206 and part == audio[:100] and headers["Content-Type"] == mime
