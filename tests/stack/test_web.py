"""The web page in real headless Chromium (Debian's, driven by Playwright), through Nginx + Gunicorn with the
bundled voice: it loads without console errors, speaks (streamed mp3 into MediaSource, and a wav file), shows the
API's error for empty text, and a signed-in user's history lists and deletes a sound (row and file gone)."""
from __future__ import annotations

import os
import pathlib
import shutil

import pytest

from .conftest import Stack

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("web-stack"), tacotron=None, waveglow=None,
              extra_env={"TTS_TACOTRON2_CHECKPOINT": None, "TTS_WAVEGLOW_CHECKPOINT": None,
                         "NGINX_TTS_RATE": "100r/s", "NGINX_TTS_BURST": "100"})
    s.manage("shell", "-c", "from django.contrib.auth.models import User; "
                            "User.objects.create_user('carol', password='pw-carol-12345')")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            raise RuntimeError("chromium is required for the browser tests (scripts/test.sh installs it)")
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--autoplay-policy="
                                                                     "no-user-gesture-required"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone-sized screen
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    yield page
    context.close()


def speak(page, text: str, fmt: str) -> None:
    page.fill("#text", text)
    page.select_option("#format", fmt)
    page.click("#speak")


def test_typing_and_submitting_plays_the_speech_streamed_and_whole(stack, page, tmp_path):
    page.goto(stack.url + "/")
    assert page.title().startswith("Tacotron2")
    speak(page, "Hello from the browser. This sentence is streamed.", "mp3")
    page.wait_for_function("document.querySelector('#status').textContent === 'Done.'", timeout=60_000)
    assert page.evaluate("document.querySelector('#player').src").startswith("blob:")  # MediaSource: streamed
    page.wait_for_function("document.querySelector('#player').duration > 0 && "
                           "isFinite(document.querySelector('#player').duration)", timeout=30_000)
    assert "real time" in page.text_content("#stats")
    assert page.locator("#words span").count() == 8  # word timings, shown for highlighting
    assert page.get_attribute("#download", "href").startswith(stack.url + "/api/tts/")
    shot = pathlib.Path(os.environ.get("TTS_SCREENSHOT_DIR", tmp_path)) / "playground.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    speak(page, "And now a whole file.", "wav")
    page.wait_for_function("document.querySelector('#player').src.includes('/api/tts/')", timeout=60_000)
    page.wait_for_function("document.querySelector('#player').duration > 0", timeout=30_000)
    assert page.locator("#history li").count() == 2  # this browser session's sounds
    page.reload()
    assert page.locator("#history li").count() == 2
    assert page.console_errors == []


def test_an_api_error_is_shown_in_the_page(stack, page):
    page.goto(stack.url + "/")
    for fmt in ("mp3", "wav"):  # both doors: /v1/audio/speech and /api/tts/
        speak(page, "", fmt)
        page.wait_for_selector("#error:not([hidden])")
        assert "blank" in page.text_content("#error")
    assert page.console_errors == [] or all("400" in e for e in page.console_errors)


def test_a_signed_in_users_history_lists_and_deletes_a_sound(stack, page):
    page.goto(stack.url + "/login/")
    page.fill("#id_username", "carol")
    page.fill("#id_password", "pw-carol-12345")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Signed in as")
    speak(page, "Carol keeps this one.", "wav")
    page.wait_for_function("document.querySelector('#status').textContent === 'Done.'", timeout=60_000)
    page.reload()  # the server renders the history now
    row = page.locator("#history li").first
    assert "Carol keeps this one." in row.text_content()
    uuid = row.get_attribute("data-uuid")
    assert any(p.name.startswith(uuid) for p in stack.media_files())
    page.keyboard.press("Tab")  # keyboard: the delete button is reachable and pressable
    row.locator("button.delete").focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"!document.querySelector('[data-uuid=\"{uuid}\"]')")
    assert uuid not in stack.rows() and not any(p.name.startswith(uuid) for p in stack.media_files())
    page.reload()
    assert page.locator(f"[data-uuid='{uuid}']").count() == 0


@pytest.fixture(scope="module")
def unkept_stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("web-unkept"), tacotron=None, waveglow=None,
              extra_env={"TTS_TACOTRON2_CHECKPOINT": None, "TTS_WAVEGLOW_CHECKPOINT": None,
                         "TTS_OPENAI_RECORD": "0"})
    yield s
    s.stop()


def test_a_stream_the_server_does_not_keep_still_plays_and_downloads(unkept_stack, page):
    page.goto(unkept_stack.url + "/")
    speak(page, "Nothing of this is stored. It plays all the same.", "mp3")
    page.wait_for_function("document.querySelector('#status').textContent.startsWith('Done')", timeout=60_000)
    assert "not kept" in page.text_content("#status")
    page.wait_for_function("document.querySelector('#player').duration > 1 && "
                           "isFinite(document.querySelector('#player').duration)", timeout=30_000)
    assert "real time" in page.text_content("#stats")
    href = page.get_attribute("#download", "href")
    assert href.startswith("blob:")  # the stream's own bytes
    size = page.evaluate("async (u) => (await (await fetch(u)).arrayBuffer()).byteLength", href)
    assert size > 5_000
    assert page.locator("#history li.empty").count() == 1  # nothing to list: the server kept nothing
    assert unkept_stack.rows() == [] and list(unkept_stack.media_files()) == []
    assert page.console_errors == []
