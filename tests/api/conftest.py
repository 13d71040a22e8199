import contextlib
import pathlib

import pytest
import torch
from rest_framework.test import APIClient

from tests.tts_core.factories import save_our_tacotron, tiny_tacotron, tiny_waveglow


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("api-ckpt")
    taco = tiny_tacotron(max_decoder_steps=25)
    taco.decoder.gate_layer.linear_layer.bias.data.fill_(-2.5)  # stops after a few steps, sometimes not
    tpath = save_our_tacotron(folder / "tacotron2.pt", taco)
    wpath = folder / "waveglow.pt"
    torch.save({"state_dict": tiny_waveglow().state_dict()}, wpath)
    return tpath, wpath


@pytest.fixture
def set_tts(settings):
    """Change the settings' TTS block for one test: ``set_tts(handler={...}, ANONYMOUS_SYNTHESIS=False)``."""
    def apply(handler: dict | None = None, **block) -> None:
        tts = dict(settings.TTS, **block)
        if handler:
            tts["HANDLER"] = tts["HANDLER"].replace(**handler)
        settings.TTS = tts

    return apply


@pytest.fixture
def throttle_rates(settings):
    """``with throttle_rates(synthesis_anon="2/min"): ...``: other rates for the block, and the exact previous ones
    (and an empty cache) afterwards, so no later test sees them. DRF reads its rates into a class attribute at
    import; the settings fixture alone would not put that back."""
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    @contextlib.contextmanager
    def apply(**rates):
        original = SimpleRateThrottle.THROTTLE_RATES
        merged = dict(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates)
        settings.REST_FRAMEWORK = dict(settings.REST_FRAMEWORK, DEFAULT_THROTTLE_RATES=merged)
        SimpleRateThrottle.THROTTLE_RATES = merged
        cache.clear()
        try:
            yield
        finally:
            SimpleRateThrottle.THROTTLE_RATES = original
            cache.clear()

    return apply


@pytest.fixture(autouse=True)
def tts_env(set_tts, tiny_checkpoints, settings, tmp_path):
    from API import engine

    tpath, wpath = tiny_checkpoints
    set_tts(handler={"tacotron2_checkpoint": str(tpath), "waveglow_checkpoint": str(wpath)})
    settings.MEDIA_ROOT = str(tmp_path / "media")
    engine.reset_for_tests()
    yield
    engine.reset_for_tests()


@pytest.fixture
def media_files(settings):
    def files() -> list[pathlib.Path]:
        root = pathlib.Path(settings.MEDIA_ROOT)
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []

    return files


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", password="pw-alice-123")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user("bob", password="pw-bob-123")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("admin", password="pw-admin-123", is_staff=True,
                                                 is_superuser=True)


@pytest.fixture
def as_user(user):
    c = APIClient()
    c.force_authenticate(user)
    return c


@pytest.fixture
def as_other(other_user):
    c = APIClient()
    c.force_authenticate(other_user)
    return c


@pytest.fixture
def as_staff(staff):
    c = APIClient()
    c.force_authenticate(staff)
    return c
