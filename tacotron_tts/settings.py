"""Django settings, read from the environment (12-factor) with django-environ.

Defaults are safe for production: DEBUG is off, a secret key must be given, HTTPS protections are on. A newcomer's
native run (scripts/run.sh) writes a local .env with a generated key; tests set their own values.
"""
from __future__ import annotations

import pathlib

import environ
from django.core.exceptions import ImproperlyConfigured

from tts_core.config import HandlerConfig  # the handler's defaults, stated once there (no torch import)

BASE_DIR = pathlib.Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env (written by scripts/run.sh, or copied from .env.example) fills in what the environment lacks;
# DJANGO_ENV_FILE points elsewhere, or, empty, disables it.
_env_file = env.str("DJANGO_ENV_FILE", default=str(BASE_DIR / ".env"))
if _env_file and pathlib.Path(_env_file).is_file():
    environ.Env.read_env(_env_file, overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
if DEBUG:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-development-key-only-for-DEBUG")
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")  # required: no secret default in production

# Values copied from .env.example or a tutorial must not reach production: refused at start-up, with the fix.
PLACEHOLDER_SECRETS = {"change-me", "changeme", "change-me-to-a-long-random-string", "secret", "password",
                       "postgres"}
_KEY_HELP = 'generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))"'


def _refuse_placeholders(secret_key: str, database_password: str | None) -> None:
    key = secret_key.strip()
    if key.lower() in PLACEHOLDER_SECRETS or "change-me" in key.lower() or key.startswith("django-insecure-"):
        raise ImproperlyConfigured(f"DJANGO_SECRET_KEY is a placeholder; {_KEY_HELP}")
    if len(key) < 50 or len(set(key)) < 5:
        raise ImproperlyConfigured(f"DJANGO_SECRET_KEY is too short or too simple (50 characters at least); "
                                   f"{_KEY_HELP}")
    if database_password and database_password.strip().lower() in PLACEHOLDER_SECRETS:
        raise ImproperlyConfigured("the database password (POSTGRES_PASSWORD / DATABASE_URL) is a placeholder; "
                                   "set a real one")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "API.apps.ApiConfig",
]

MIDDLEWARE = [
    # First: the container's own health probe is answered before host validation and the HTTPS redirect.
    "API.middleware.LocalProbeMiddleware",
    "API.middleware.MetricsEndpointMiddleware",
    "API.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "API.middleware.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tacotron_tts.urls"
WSGI_APPLICATION = "tacotron_tts.wsgi.application"

TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
# A persistent connection is checked before reuse: after a database restart the first request reconnects
# instead of failing on a dead socket.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default: a write-ahead log, and commits that do not wait for the disk (an application crash
    # loses nothing; a power cut may lose the last commits, never the file's consistency). Measured through Nginx
    # (scripts/bench_http.py): the journal's fsyncs were two thirds of a short request's time outside synthesis.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
if not DEBUG:
    _refuse_placeholders(SECRET_KEY, DATABASES["default"].get("PASSWORD"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static and media files: served by Nginx from volumes shared with the API container.
STATIC_URL = "/static/"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "playground"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))
# Nginx runs as another user (uid 101 in Docker, nobody natively) and must be able to read what we write.
FILE_UPLOAD_PERMISSIONS = 0o644
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o755

# Request size: text is small; anything bigger than this is refused with 413 before parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_MAX_BODY_BYTES", default=64 * 1024)

# HTTPS protections (on by default; a plain-HTTP local run turns them off with DJANGO_HTTPS=0).
HTTPS = env.bool("DJANGO_HTTPS", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
USE_X_FORWARDED_HOST = env.bool("DJANGO_USE_X_FORWARDED_HOST", default=False)

# --------------------------------------------------------------------------------------------- TTS
def _set(**values):
    """Only the variables that are set: every other handler option keeps its one default (HandlerConfig)."""
    return {k: v for k, v in values.items() if v is not None}


# TTS_PRECISION names the precision; TTS_FP16=1 is an alias kept for older deployments: fp16 where TTS_PRECISION is
# unset or auto (as before the alias, when the handler had a flag of its own).
_precision = env.str("TTS_PRECISION", default=None) or None
if _precision in (None, "auto") and env.bool("TTS_FP16", default=False):
    _precision = "fp16"

# The one TTS block: the web process, Gunicorn's hooks and any worker process read this, parsed once here.
TTS = {
    "HANDLER": HandlerConfig(**_set(
        tacotron2_checkpoint=env.str("TTS_TACOTRON2_CHECKPOINT", default=None) or None,
        waveglow_checkpoint=env.str("TTS_WAVEGLOW_CHECKPOINT", default=None) or None,
        device=env.str("TTS_DEVICE", default=None) or None,
        precision=_precision,
        default_vocoder=env.str("TTS_VOCODER", default=None) or None,
        max_text_length=env.int("TTS_MAX_TEXT_LENGTH", default=None),
        max_decoder_steps=env.int("TTS_MAX_DECODER_STEPS", default=None),
        griffin_lim_iters=env.int("TTS_GRIFFIN_LIM_ITERS", default=None),
        # Dynamic batching across concurrent requests; off by default (it changes how requests queue): README,
        # "Performance".
        dynamic_batch_size=env.int("TTS_DYNAMIC_BATCH_SIZE", default=None),
        dynamic_batch_wait_ms=env.float("TTS_DYNAMIC_BATCH_WAIT_MS", default=None),
        cmudict_path=env.str("TTS_CMUDICT_PATH", default=None) or None,
        cuda_graphs=env.bool("TTS_CUDA_GRAPHS", default=None),
    )),
    # Load the models in each worker process when it starts (after the fork), not on the first request.
    "LOAD_AT_STARTUP": env.bool("TTS_LOAD_AT_STARTUP", default=False),
    "TORCH_THREADS": env.int("TTS_TORCH_THREADS", default=None),  # intra-op threads per process; None: torch's
    # Anonymous users may synthesize and read records by uuid.
    "ANONYMOUS_SYNTHESIS": env.bool("TTS_ANONYMOUS_SYNTHESIS", default=True),
    # Audio is served through an access check (GET /api/tts/<uuid>/audio/). Owned records' links are signed and
    # expire; PRIVATE_AUDIO makes every record's link so (else anonymous records' links are permanent capabilities).
    "PRIVATE_AUDIO": env.bool("TTS_PRIVATE_AUDIO", default=False),
    "AUDIO_LINK_MAX_AGE": env.int("TTS_AUDIO_LINK_MAX_AGE", default=3600),  # seconds a signed link works
    # Who sends the file after the check: "nginx" (X-Accel-Redirect to its internal /media/; Range, sendfile) or
    # "django" (a run without this repository's nginx, e.g. DEBUG).
    "AUDIO_SENDER": env.str("TTS_AUDIO_SENDER", default="django" if DEBUG else "nginx"),
}

# --------------------------------------------------------------------------------------------- OpenAI door (/v1/)
# OpenAI voice names (and any others clients send) -> our voice ids ("tacotron2", "tacotron2-griffinlim",
# "tacotron2-waveglow"): "alloy=tacotron2-waveglow,echo=tacotron2-griffinlim"; a name not listed is the default voice.
TTS["OPENAI_VOICES"] = env.dict("TTS_OPENAI_VOICES", default={})
# Record each /v1/audio/speech request like any other synthesis (a record with its file); false: kept only while
# it streams.
TTS["OPENAI_RECORD"] = env.bool("TTS_OPENAI_RECORD", default=True)
# Keep a record and file of each Wyoming (Home Assistant) request; by default not: Home Assistant keeps its own
# cache of what it speaks, and announcements would pile up.
TTS["WYOMING_RECORD"] = env.bool("TTS_WYOMING_RECORD", default=False)

# --------------------------------------------------------------------------------------------- jobs
# Where synthesis runs: "inline" (in the web process; no broker) or "celery" (queued to worker processes, which alone
# load the models). Both give the same API: a request waits for its audio, or with "async" gets a job to poll.
TTS["BACKEND"] = env.str("TTS_SYNTHESIS_BACKEND", default="inline")
if TTS["BACKEND"] not in ("inline", "celery"):
    raise ImproperlyConfigured(f"TTS_SYNTHESIS_BACKEND must be inline or celery, not {TTS['BACKEND']!r}")
# A request without "async" waits this long for a queued job, then answers 202 with the job to poll.
TTS["SYNC_TIMEOUT"] = env.float("TTS_SYNC_TIMEOUT", default=120.0)
TTS["INLINE_JOBS"] = env.int("TTS_INLINE_JOBS", default=1)
# "worker" in a Celery worker's processes (scripts/worker.sh sets it): where the models live with the celery backend.
TTS["PROCESS_ROLE"] = env.str("TTS_PROCESS_ROLE", default="web")  # async jobs run at once by each inline web process
# The longest a job may synthesize (seconds); it then fails with "timeout".
TTS["JOB_TIME_LIMIT"] = env.int("TTS_JOB_TIME_LIMIT", default=900)
TTS["JOB_MAX_RETRIES"] = env.int("TTS_JOB_MAX_RETRIES", default=4)  # transient failures (models, disk, database)
TTS["JOB_RETRY_DELAY"] = env.float("TTS_JOB_RETRY_DELAY", default=5.0)  # seconds, doubled at each retry

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
# Where workers publish a streaming request's audio for the web process to relay (a Redis stream per job): a Redis
# URL; by default the broker's, when the broker is Redis (with RabbitMQ, set it: streaming needs it).
TTS["STREAM_URL"] = env.str("TTS_STREAM_URL", default="") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else "")
TTS["STREAM_TTL"] = env.int("TTS_STREAM_TTL", default=600)  # seconds a job's stream outlives its last chunk
CELERY_TASK_DEFAULT_QUEUE = env.str("TTS_QUEUE", default="tts")
# The record is the job's state and result (status, error, file): no result backend.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Crash safety: a message is acknowledged only when its job has ended; a worker that dies mid-job (SIGKILL, OOM)
# gives it back to the queue; each worker process takes one job at a time.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True  # they are redelivered: never run twice at once
CELERY_TASK_SOFT_TIME_LIMIT = TTS["JOB_TIME_LIMIT"]
# A task still running past the soft limit (stuck in one long step) is killed: 30 s later (a tenth for short limits).
CELERY_TASK_TIME_LIMIT = TTS["JOB_TIME_LIMIT"] + max(5, min(30, TTS["JOB_TIME_LIMIT"] // 10))
# Redis redelivers a message unacknowledged for this long (a worker that vanished): longer than any job can run,
# so a live job is never handed to a second worker.
_visibility = env.int("TTS_JOB_VISIBILITY_TIMEOUT", default=max(3600, 2 * CELERY_TASK_TIME_LIMIT))
if _visibility <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(f"TTS_JOB_VISIBILITY_TIMEOUT ({_visibility} s) must be longer than the longest job "
                               f"(the hard time limit, {CELERY_TASK_TIME_LIMIT} s)")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _visibility,
    # look for such messages every minute at most (a 60th of the timeout), not kombu's default 100 s
    "unacked_restore_interval": max(1, min(60, _visibility // 60)),
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 3,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request must not hang on an unreachable broker: a few quick tries, then 503.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --------------------------------------------------------------------------------------------- REST framework
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "API.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": env.int("TTS_PAGE_SIZE", default=20),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "API.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "synthesis_user": env.str("TTS_THROTTLE_USER", default="30/min"),
        "synthesis_anon": env.str("TTS_THROTTLE_ANON", default="10/min"),
        "readiness": env.str("TTS_THROTTLE_READINESS", default="120/min"),
    },
    # Nginx resolves the client's address (its real_ip module trusts only NGINX_TRUSTED_PROXIES) and sends
    # exactly that one address in X-Forwarded-For; DRF's throttles key clients by it.
    "NUM_PROXIES": env.int("DJANGO_NUM_PROXIES", default=1),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tacotron2 TTS API",
    "DESCRIPTION": "Text to speech with NVIDIA Tacotron2 + WaveGlow (or Griffin-Lim).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}
