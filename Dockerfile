# syntax=docker/dockerfile:1.6
# API image: Django + Gunicorn + tts_core; the same image runs the synthesis workers (entrypoint scripts/worker.sh).
#   GPU (default):  docker build -t tts-api .
#   CPU only:       docker build --target cpu -t tts-api:cpu .   (pass --build-arg TORCH_INDEX_URL=<PyTorch's
#                   CPU wheel index> to avoid downloading the CUDA wheels of torch from PyPI)

ARG PYTHON_VERSION=3.11

# ----------------------------------------------------------------------------------------------- builders
FROM python:${PYTHON_VERSION}-slim AS build-cpu
ARG TORCH_INDEX_URL=""
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt requirements-core.txt /tmp/req/
RUN if [ -n "$TORCH_INDEX_URL" ]; then pip install --index-url "$TORCH_INDEX_URL" torch==2.13.0; fi \
 && pip install -r /tmp/req/requirements.txt

FROM python:${PYTHON_VERSION}-slim AS build-gpu
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt requirements-core.txt /tmp/req/
# PyPI's torch 2.13.0 wheel for Linux x86-64 is the CUDA build and brings its CUDA libraries.
RUN pip install -r /tmp/req/requirements.txt

# ----------------------------------------------------------------------------------------------- runtime
FROM python:${PYTHON_VERSION}-slim AS runtime-base
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=tacotron_tts.settings \
    STATIC_ROOT=/vol/static MEDIA_ROOT=/vol/media \
    GUNICORN_BIND=0.0.0.0:8000 GUNICORN_WORKER_TMP_DIR=/dev/shm
RUN groupadd --system --gid 1000 app && useradd --system --uid 1000 --gid app --home /app app \
 && mkdir -p /vol/static /vol/media /app && chown -R app:app /vol /app
WORKDIR /app
COPY --chown=app:app manage.py gunicorn.conf.py ./
COPY --chown=app:app tacotron_tts ./tacotron_tts
COPY --chown=app:app API ./API
COPY --chown=app:app tts_core ./tts_core
COPY --chown=app:app scripts/entrypoint.sh scripts/worker.sh scripts/probe.py ./scripts/
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "scripts/probe.py", "/api/health/"]
ENTRYPOINT ["./scripts/entrypoint.sh"]

FROM runtime-base AS cpu
COPY --from=build-cpu /opt/venv /opt/venv
ENV TTS_DEVICE=cpu

FROM runtime-base AS gpu
COPY --from=build-gpu /opt/venv /opt/venv
ENV NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility
