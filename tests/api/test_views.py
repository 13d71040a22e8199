import io
import pathlib
import wave

import pytest
from django.conf import settings
from django.db import DatabaseError

from API import engine
from API.models import TTSound

pytestmark = pytest.mark.django_db(transaction=True)


def _path_of(client, url: str) -> pathlib.Path:
    """The file the access-checked audio URL hands to nginx (X-Accel-Redirect to its internal /media/)."""
    assert url.startswith("http://testserver/api/tts/") and "/audio/" in url
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "audio/wav"
    assert response["X-Accel-Redirect"].startswith("/media/")
    return pathlib.Path(settings.MEDIA_ROOT) / response["X-Accel-Redirect"].removeprefix("/media/")


def test_create_fetch_list_delete_round_trip(as_user, media_files):
    response = as_user.post("/api/tts/", {"text": "Hello world. How are you?"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["voice"] == "tacotron2.pt" and body["vocoder"] == "waveglow" and body["owner"] == "alice"
    assert body["sigma"] == pytest.approx(0.666)
    path = _path_of(as_user, body["audio_url"])
    assert path.relative_to(settings.MEDIA_ROOT).parts[0] == "tts"  # relative name under a dated folder
    with wave.open(io.BytesIO(path.read_bytes())) as w:
        assert w.getframerate() == body["sample_rate"] == 22050 and w.getnframes() > 0
        assert w.getnframes() / 22050 == pytest.approx(body["duration"], abs=1e-3)
    row = TTSound.objects.get(pk=body["uuid"])
    assert row.audio_join.name == str(path.relative_to(settings.MEDIA_ROOT))

    again = as_user.get(f"/api/tts/{body['uuid']}/").json()["audio_url"]
    assert again.split("?")[0] == body["audio_url"].split("?")[0]
    listing = as_user.get("/api/tts/").json()
    assert listing["count"] == 1 and listing["results"][0]["uuid"] == body["uuid"]

    assert as_user.delete(f"/api/tts/{body['uuid']}/").status_code == 204
    assert not path.exists() and media_files() == []
    assert not TTSound.objects.exists()
    assert as_user.get(f"/api/tts/{body['uuid']}/").status_code == 404


def test_options_and_griffinlim(as_user):
    response = as_user.post("/api/tts/", {"text": "Options.", "sigma": 0.5, "denoiser_strength": 0.1},
                            format="json")
    assert response.status_code == 201
    assert response.json()["sigma"] == 0.5 and response.json()["denoiser_strength"] == 0.1
    gl = as_user.post("/api/tts/", {"text": "Options.", "vocoder": "griffinlim"}, format="json").json()
    assert gl["vocoder"] == "griffinlim" and gl["sigma"] is None


BAD_INPUTS = [
    ({}, 400, "text"),
    ({"text": ""}, 400, "text"),
    ({"text": "   \n\t "}, 400, "text"),
    ({"text": "😀😀😀"}, 400, "text"),
    ({"text": "中文字符"}, 400, "text"),
    ({"text": "a" * 5000}, 400, "text"),
    ({"text": 123}, 400, "text"),
    ({"text": ["a"]}, 400, "text"),
    ({"text": None}, 400, "text"),
    ({"text": "ok", "sigma": -1}, 400, "sigma"),
    ({"text": "ok", "sigma": "0.5"}, 400, "sigma"),
    ({"text": "ok", "sigma": True}, 400, "sigma"),
    ({"text": "ok", "denoiser_strength": 3}, 400, "denoiser_strength"),
    ({"text": "ok", "vocoder": "wavenet"}, 400, "vocoder"),
    ({"text": "ok", "speaker": "x"}, 400, "speaker"),
    ({"text": "a\x00b"}, 400, "text"),
]


@pytest.mark.parametrize("payload, status_code, field", BAD_INPUTS)
def test_bad_json_input_is_rejected_without_side_effects(client, media_files, payload, status_code, field):
    response = client.post("/api/tts/", payload, format="json")
    assert response.status_code == status_code, response.content
    error = response.json()["error"]
    assert error["status"] == status_code and field in str(error["details"])
    assert not TTSound.objects.exists() and media_files() == []


@pytest.mark.parametrize("body, content_type, status_code", [
    (b"not json", "application/json", 400),
    (b'["a", "b"]', "application/json", 400),
    (b"text=hello", "application/x-www-form-urlencoded", 415),
    (b"\xff\xfe\x00binary", "application/json", 400),
    (b'{"text": "' + b"x" * (2 * 1024 * 1024) + b'"}', "application/json", 413),
])
def test_malformed_bodies(client, media_files, body, content_type, status_code):
    response = client.generic("POST", "/api/tts/", body, content_type=content_type)
    assert response.status_code == status_code
    assert response.json()["error"]["status"] == status_code
    assert not TTSound.objects.exists() and media_files() == []


@pytest.mark.parametrize("text", ["Robert'); DROP TABLE API_ttsound;--", "<script>alert(1)</script> hello"])
def test_injection_strings_are_just_text(as_user, text):
    response = as_user.post("/api/tts/", {"text": text}, format="json")
    assert response.status_code == 201
    assert TTSound.objects.get().text_content == text  # stored verbatim, parameterised, rendered as JSON


def test_anonymous_can_synthesize_and_read_by_uuid_but_not_list_or_delete(client):
    body = client.post("/api/tts/", {"text": "Anonymous."}, format="json").json()
    assert body["owner"] is None
    assert client.get(f"/api/tts/{body['uuid']}/").status_code == 200
    assert client.get("/api/tts/").status_code == 401  # not signed in (Token auth's challenge), not "forbidden"
    assert client.delete(f"/api/tts/{body['uuid']}/").status_code == 401
    assert TTSound.objects.count() == 1


def test_anonymous_synthesis_can_be_turned_off(client, set_tts):
    set_tts(ANONYMOUS_SYNTHESIS=False)
    response = client.post("/api/tts/", {"text": "Hello."}, format="json")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    assert not TTSound.objects.exists()


def test_users_see_and_delete_only_their_own(as_user, as_other, as_staff, media_files):
    mine = as_user.post("/api/tts/", {"text": "Mine."}, format="json").json()
    theirs = as_other.post("/api/tts/", {"text": "Theirs."}, format="json").json()
    assert [r["uuid"] for r in as_user.get("/api/tts/").json()["results"]] == [mine["uuid"]]
    assert as_user.get(f"/api/tts/{theirs['uuid']}/").status_code == 404
    assert as_user.delete(f"/api/tts/{theirs['uuid']}/").status_code == 404
    assert TTSound.objects.count() == 2
    assert as_staff.get("/api/tts/").json()["count"] == 2
    assert as_staff.delete(f"/api/tts/{theirs['uuid']}/").status_code == 204
    assert len(media_files()) == 1


def test_list_filters_and_pagination(as_user, settings):
    for i in range(3):
        as_user.post("/api/tts/", {"text": f"Sentence {'apple' if i == 1 else 'pear'} {i}."}, format="json")
    assert as_user.get("/api/tts/?search=apple").json()["count"] == 1
    assert as_user.get("/api/tts/?created_after=2999-01-01T00:00:00Z").json()["count"] == 0
    assert as_user.get("/api/tts/?created_before=2999-01-01T00:00:00Z").json()["count"] == 3
    assert as_user.get("/api/tts/?created_after=yesterday").status_code == 400
    results = as_user.get("/api/tts/").json()["results"]
    assert [r["created_at"] for r in results] == sorted((r["created_at"] for r in results), reverse=True)


def test_bulk_clean_is_staff_only_and_removes_files(as_user, as_staff, media_files):
    for text in ("One.", "Two.", "Three."):
        as_user.post("/api/tts/", {"text": text}, format="json")
    assert as_user.delete("/api/tts/clean/").status_code == 403
    assert len(media_files()) == 3
    response = as_staff.delete("/api/tts/clean/")  # no filter: refused, not "delete everything"
    assert response.status_code == 400 and "all=true" in response.json()["error"]["message"]
    assert len(media_files()) == 3
    response = as_staff.delete("/api/tts/clean/?created_before=2000-01-01T00:00:00Z")
    assert response.status_code == 200 and response.json() == {"deleted": 0}
    response = as_staff.delete("/api/tts/clean/?all=true")
    assert response.status_code == 200 and response.json() == {"deleted": 3}
    assert media_files() == [] and not TTSound.objects.exists()


def test_queryset_delete_removes_files(as_user, media_files):
    as_user.post("/api/tts/", {"text": "Queryset."}, format="json")
    TTSound.objects.all().delete()
    assert media_files() == []


def test_failed_synthesis_leaves_nothing(as_user, media_files, monkeypatch):
    from tts_core.handler import TacotronHandler

    def boom(*args, **kwargs):
        raise RuntimeError("vocoder exploded")

    monkeypatch.setattr(TacotronHandler, "synthesize", boom)
    as_user.raise_request_exception = False
    response = as_user.post("/api/tts/", {"text": "Hello."}, format="json")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    assert not TTSound.objects.exists() and media_files() == []


def test_database_error_after_file_written_removes_file(as_user, media_files, monkeypatch):
    def fail_save(self, *args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(TTSound, "save", fail_save)
    as_user.raise_request_exception = False
    response = as_user.post("/api/tts/", {"text": "Hello."}, format="json")
    assert response.status_code == 500
    assert media_files() == []


def test_long_text_is_split_into_sentences(as_user, settings):
    text = " ".join(f"This is sentence number {i}." for i in range(12))
    body = as_user.post("/api/tts/", {"text": text}, format="json").json()
    assert body["duration"] > 11 * 0.25  # at least the pauses between 12 sentences


@pytest.mark.parametrize(("gate_bias", "truncated"), [(-30.0, True), (30.0, False)])
def test_truncation_is_reported_in_the_response_and_the_row(as_user, set_tts, tmp_path, gate_bias, truncated):
    from tests.tts_core.factories import save_our_tacotron, tiny_tacotron

    model = tiny_tacotron(max_decoder_steps=50)
    model.decoder.gate_layer.linear_layer.bias.data.fill_(gate_bias)  # never stops / stops at once
    set_tts(handler={"tacotron2_checkpoint": str(save_our_tacotron(tmp_path / "t.pt", model)),
                     "max_decoder_steps": 5})
    body = as_user.post("/api/tts/", {"text": "One sentence. And another one."}, format="json").json()
    assert body["truncated"] is truncated
    assert TTSound.objects.get(pk=body["uuid"]).truncated is truncated


def test_json_errors_for_unknown_paths_and_methods(client):
    response = client.get("/api/nothing-here/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    response = client.put("/api/health/", {"text": "x"}, format="json")
    assert response.status_code == 405 and response.json()["error"]["status"] == 405
    assert client.get("/api/tts/not-a-uuid/").status_code == 404


def test_health_and_readiness(client):
    assert client.get("/api/health/").json() == {"status": "ok"}
    ready = client.get("/api/health/ready/")
    assert ready.status_code == 200
    assert ready.json()["ready"] is True and ready.json()["voice"] == "tacotron2.pt"
    assert ready.json()["vocoders"] == ["waveglow", "griffinlim"]


def test_readiness_reports_missing_checkpoint(client, set_tts, tmp_path):
    set_tts(handler={"tacotron2_checkpoint": str(tmp_path / "missing.pt")})
    ready = client.get("/api/health/ready/")
    assert ready.status_code == 503
    assert ready.json()["ready"] is False and ready.json()["reason"] == engine.PUBLIC_LOAD_FAILURE
    response = client.post("/api/tts/", {"text": "Hello."}, format="json")
    assert response.status_code == 503 and response.json()["error"]["code"] == "not_ready"
    assert response["Retry-After"]
    # Nothing about the server's files reaches the caller; the operator's log has it.
    assert str(tmp_path) not in ready.content.decode() + response.content.decode()


def test_throttling_answers_429_with_retry_after(client, throttle_rates):
    with throttle_rates(synthesis_anon="2/min"):
        codes = [client.post("/api/tts/", {"text": "Hi."}, format="json", REMOTE_ADDR="10.9.9.9").status_code
                 for _ in range(3)]
        assert codes[:2] == [201, 201] and codes[2] == 429
        last = client.post("/api/tts/", {"text": "Hi."}, format="json", REMOTE_ADDR="10.9.9.9")
        assert last.status_code == 429 and int(last["Retry-After"]) > 0
        assert last.json()["error"]["code"] == "throttled"
        # Another client is not affected; behind the proxy, clients are told apart by X-Forwarded-For.
        assert client.post("/api/tts/", {"text": "Hi."}, format="json", REMOTE_ADDR="10.8.8.8").status_code == 201
        proxied = [client.post("/api/tts/", {"text": "Hi."}, format="json", REMOTE_ADDR="127.0.0.1",
                               HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in (1, 1, 1, 2)]
        assert proxied == [201, 201, 429, 201]


def test_throttle_rates_are_restored_after_a_test(client):
    # Runs after the test above (file order): the suite's raised rates (test_settings) are back, not 2/min.
    from rest_framework.throttling import SimpleRateThrottle

    assert SimpleRateThrottle.THROTTLE_RATES["synthesis_anon"] == "1000/min"
    codes = [client.post("/api/tts/", {"text": "Hi."}, format="json", REMOTE_ADDR="10.9.9.9").status_code
             for _ in range(4)]
    assert codes == [201] * 4


def test_openapi_schema_and_docs(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"] if schema["Content-Type"].endswith("json") else None
    if paths is None:
        import yaml

        paths = yaml.safe_load(schema.content)["paths"]
    assert "/api/tts/" in paths and "/api/tts/{id}/" in paths and "/api/health/ready/" in paths
    assert client.get("/api/docs/").status_code == 200


def test_pagination_past_the_first_page(as_user, client):
    from django.conf import settings as django_settings

    size = django_settings.REST_FRAMEWORK["PAGE_SIZE"]
    for i in range(size + 2):
        as_user.post("/api/tts/", {"text": f"Page item {i}."}, format="json")
    first = as_user.get("/api/tts/").json()
    assert first["count"] == size + 2 and len(first["results"]) == size and first["previous"] is None
    second = as_user.get(first["next"]).json()
    assert len(second["results"]) == 2 and second["next"] is None and second["previous"]
    seen = [r["uuid"] for r in first["results"] + second["results"]]
    assert len(set(seen)) == size + 2  # every record once, none on both pages
    beyond = as_user.get("/api/tts/?page=3")
    assert beyond.status_code == 404 and beyond.json()["error"]["code"] == "not_found"
