"""Settings for the test suite: the real settings module, fed test values through the environment."""
import os
import tempfile

os.environ.setdefault("DJANGO_ENV_FILE", "")  # never a developer's local .env
os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_HTTPS", "0")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="tts-test-media-"))
os.environ.setdefault("TTS_THROTTLE_USER", "1000/min")
os.environ.setdefault("TTS_THROTTLE_ANON", "1000/min")

from .settings import *  # noqa: E402,F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast user creation in tests
