import os
import pathlib
import subprocess
import sys

import pytest

from API.models import TTSound

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_admin_list_detail_player_and_delete_removes_files(client, as_user, staff, media_files):
    ids = [as_user.post("/api/tts/", {"text": f"Admin test {i}."}, format="json").json()["uuid"] for i in range(3)]
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


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    out = _manage({"DJANGO_SECRET_KEY": "p" * 20 + "-production-secret-9f8e7d6c5b4a-" + "q" * 20,
                   "DJANGO_ALLOWED_HOSTS": "tts.example.com", "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"},
                  "check", "--deploy", "--fail-level", "WARNING")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


def test_production_requires_a_secret_key(tmp_path):
    out = _manage({"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}, "check")
    assert out.returncode != 0 and "DJANGO_SECRET_KEY" in out.stderr
