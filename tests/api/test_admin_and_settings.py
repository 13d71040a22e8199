import os
import pathlib
import subprocess
import sys

import pytest

from API.models import TTSound

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_admin_list_detail_player_and_delete_removes_files(client, as_user, staff, media_files):
    responses = [as_user.post("/api/tts/", {"text": f"Admin test {i}."}, format="json") for i in range(3)]
    assert all(r.status_code == 201 for r in responses), [r.content for r in responses]
    ids = [r.json()["uuid"] for r in responses]
    client.force_login(staff)
    listing = client.get("/admin/API/ttsound/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert html.count("<audio controls") == 3 and "Admin test 1." in html
    detail = client.get(f"/admin/API/ttsound/{ids[0]}/change/")
    assert detail.status_code == 200 and "<audio controls" in detail.content.decode()
    assert client.get("/admin/API/ttsound/add/").status_code == 403  # records come from synthesis only

    response = client.post(f"/admin/API/ttsound/{ids[0]}/delete/", {"post": "yes"})
    assert response.status_code == 302 and len(media_files()) == 2
    response = client.post("/admin/API/ttsound/", {"action": "delete_selected", "_selected_action": ids[1:],
                                                   "post": "yes"})
    assert response.status_code == 302
    assert media_files() == [] and not TTSound.objects.exists()


def _manage(env_overrides: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update({"DJANGO_SETTINGS_MODULE": "tacotron_tts.settings", "DJANGO_ENV_FILE": "", **env_overrides})
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)


@pytest.mark.own_settings
def test_check_deploy_is_clean_with_production_settings(tmp_path):
    out = _manage({"DJANGO_SECRET_KEY": "p" * 20 + "-production-secret-9f8e7d6c5b4a-" + "q" * 20,
                   "DJANGO_ALLOWED_HOSTS": "tts.example.com", "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"},
                  "check", "--deploy", "--fail-level", "WARNING")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


@pytest.mark.own_settings
def test_production_requires_a_secret_key(tmp_path):
    out = _manage({"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}, "check")
    assert out.returncode != 0 and "DJANGO_SECRET_KEY" in out.stderr


@pytest.mark.own_settings
def test_the_embedded_sqlite_database_writes_ahead_and_commits_without_waiting_for_the_disk(tmp_path):
    code = ("from django.db import connection; c = connection.cursor(); "
            "print(c.execute('PRAGMA journal_mode').fetchone()[0], c.execute('PRAGMA synchronous').fetchone()[0])")
    out = _manage({"DJANGO_DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}, "shell", "-c", code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-2:] == ["wal", "1"]  # synchronous 1 = NORMAL: a commit does not fsync


def _tts_block(env: dict[str, str]) -> dict:
    code = ("import json; from django.conf import settings; h = settings.TTS['HANDLER']; "
            "print(json.dumps({'handler': h.__dict__, **{k: v for k, v in settings.TTS.items() if k != 'HANDLER'}}))")
    out = _manage({"DJANGO_DEBUG": "1", **env}, "shell", "-c", code)
    assert out.returncode == 0, out.stderr
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.own_settings
def test_the_tts_block_is_parsed_once_from_the_environment_with_one_default_each(tmp_path):
    from tts_core.config import HandlerConfig

    defaults = _tts_block({})
    assert defaults["handler"] == HandlerConfig().__dict__  # unset variables keep the handler's own defaults
    assert defaults["LOAD_AT_STARTUP"] is False and defaults["ANONYMOUS_SYNTHESIS"] is True
    block = _tts_block({"TTS_TACOTRON2_CHECKPOINT": "/m/t.pt", "TTS_MAX_TEXT_LENGTH": "99", "TTS_FP16": "1",
                        "TTS_LOAD_AT_STARTUP": "yes", "TTS_TORCH_THREADS": "3", "TTS_MAX_DECODER_STEPS": "500",
                        "TTS_CUDA_GRAPHS": "1"})
    assert block["handler"]["tacotron2_checkpoint"] == "/m/t.pt" and block["handler"]["max_text_length"] == 99
    assert block["handler"]["precision"] == "fp16"  # TTS_FP16=1 is an alias of TTS_PRECISION=fp16
    assert block["handler"]["max_decoder_steps"] == 500 and block["handler"]["cuda_graphs"] is True
    assert block["LOAD_AT_STARTUP"] is True and block["TORCH_THREADS"] == 3
    assert _tts_block({"TTS_FP16": "1", "TTS_PRECISION": "auto"})["handler"]["precision"] == "fp16"
    assert _tts_block({"TTS_FP16": "1", "TTS_PRECISION": "int8"})["handler"]["precision"] == "int8"


@pytest.mark.django_db
def test_a_worker_process_takes_threads_and_start_up_loading_from_the_block(set_tts):
    import torch

    from API import engine

    before = torch.get_num_threads()
    set_tts(TORCH_THREADS=1, LOAD_AT_STARTUP=True)
    try:
        engine.process_started()
        assert torch.get_num_threads() == 1 and engine.status()["ready"] is True
    finally:
        torch.set_num_threads(before)
    engine.reset_for_tests()
    set_tts(LOAD_AT_STARTUP=False, TORCH_THREADS=None)
    engine.process_started()
    assert engine.status()["ready"] is False  # nothing loaded until the first request
