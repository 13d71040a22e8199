#!/usr/bin/env bash
# One command for a newcomer: set up and run the TTS service natively (Gunicorn + Nginx, the same config files as
# Docker), on http://127.0.0.1:${PORT:-8080}. Ctrl-C stops everything.
# TTS_SYNTHESIS_BACKEND=celery ./scripts/run.sh: synthesis on one Celery worker beside them (Redis must be running,
# at CELERY_BROKER_URL, default redis://127.0.0.1:6379/0); the default, inline, needs no broker.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PORT="${PORT:-8080}"
API_PORT="${API_PORT:-8001}"
. scripts/lib/venv.sh
. scripts/lib/debian.sh

ensure_commands nginx:nginx-light curl:curl
ensure_venv requirements.txt

if [ ! -f .env ]; then
    echo "==> writing .env (local settings with a generated secret key)"
    key=$(.venv/bin/python -c "import secrets; print(secrets.token_urlsafe(50))")
    cat > .env <<ENV
DJANGO_SECRET_KEY=$key
DJANGO_DEBUG=0
# plain HTTP on localhost: no HTTPS redirect or secure-only cookies
DJANGO_HTTPS=0
DJANGO_ALLOWED_HOSTS=localhost,127.0.0.1
DJANGO_CSRF_TRUSTED_ORIGINS=http://localhost:$PORT,http://127.0.0.1:$PORT
ENV
fi

export PYTHON="$ROOT/.venv/bin/python"
BACKEND="${TTS_SYNTHESIS_BACKEND:-inline}"
if [ "$BACKEND" = celery ]; then
    echo "==> celery backend: checking the broker"
    "$PYTHON" manage.py wait_for_broker --timeout "${BROKER_WAIT_TIMEOUT:-5}" || exit 1
fi
export STATIC_ROOT="${STATIC_ROOT:-$ROOT/staticfiles}" MEDIA_ROOT="${MEDIA_ROOT:-$ROOT/media}"
export GUNICORN_BIND="127.0.0.1:$API_PORT" GUNICORN_WORKERS="${GUNICORN_WORKERS:-1}"
export TTS_LOAD_AT_STARTUP=1 TTS_UPSTREAM="127.0.0.1:$API_PORT" NGINX_PORT="$PORT"
RUN_DIR="$ROOT/run"
mkdir -p "$RUN_DIR" "$MEDIA_ROOT" "$STATIC_ROOT"
# nginx's workers run as the user who runs this script (root included: see nginx/native.conf.template), so the
# served folders need no extra permissions, wherever the project was cloned.

"$PYTHON" scripts/render_nginx.py "$RUN_DIR/nginx" >/dev/null

pids=()
cleanup() {
    trap - INT TERM EXIT
    echo
    echo "==> stopping"
    for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

echo "==> starting Gunicorn (migrate, collectstatic, load the voice)"
setsid scripts/entrypoint.sh > "$RUN_DIR/gunicorn.log" 2>&1 &
pids+=($!)
echo "==> starting Nginx on port $PORT"
setsid nginx -c "$RUN_DIR/nginx/nginx.conf" -e "$RUN_DIR/nginx/error.log" > "$RUN_DIR/nginx.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 180); do
    curl -fs "http://127.0.0.1:$PORT/api/health/ready/" >/dev/null 2>&1 && break
    for pid in "${pids[@]}"; do
        kill -0 "$pid" 2>/dev/null || { echo "a server exited; see $RUN_DIR/*.log" >&2; tail -20 "$RUN_DIR/gunicorn.log" >&2; exit 1; }
    done
    sleep 1
done
curl -fs "http://127.0.0.1:$PORT/api/health/ready/" || { echo "not ready; see $RUN_DIR/gunicorn.log" >&2; exit 1; }
echo

if [ "$BACKEND" = celery ]; then
    echo "==> starting a synthesis worker (Celery; loading the voice)"
    setsid scripts/worker.sh > "$RUN_DIR/worker.log" 2>&1 &
    worker=$!
    pids+=("$worker")
    for _ in $(seq 1 180); do
        grep -q "TTS voice active" "$RUN_DIR/worker.log" 2>/dev/null && break
        kill -0 "$worker" 2>/dev/null || { echo "the worker exited; see $RUN_DIR/worker.log" >&2; tail -20 "$RUN_DIR/worker.log" >&2; exit 1; }
        sleep 1
    done
    grep -q "TTS voice active" "$RUN_DIR/worker.log" || { echo "the worker did not load the voice; see $RUN_DIR/worker.log" >&2; exit 1; }
fi

echo "==> saying hello"
fail() {
    echo >&2
    echo "run.sh: $1" >&2
    [ -n "${2:-}" ] && tail -5 "$2" >&2
    [ "$BACKEND" = celery ] && tail -5 "$RUN_DIR/worker.log" >&2
    exit 1
}
code=$(curl -s -o "$RUN_DIR/hello.json" -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/api/tts/" \
    -H 'Content-Type: application/json' -d '{"text": "Hello! Your text to speech service is up and running."}') || true
[ "$code" = 201 ] || fail "the hello synthesis answered HTTP $code: $(cat "$RUN_DIR/hello.json" 2>/dev/null)" \
    "$RUN_DIR/gunicorn.log"
url=$("$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["audio_url"])' <"$RUN_DIR/hello.json")
code=$(curl -s -o "$RUN_DIR/hello.wav" -w '%{http_code}' "$url") || true
[ "$code" = 200 ] || fail "nginx could not serve the audio file $url (HTTP $code); nginx runs as $(id -un) and \
serves $MEDIA_ROOT: check that this user may read it. nginx's error log says:" "$RUN_DIR/nginx/error.log"
for player in aplay paplay afplay; do
    if command -v "$player" >/dev/null 2>&1; then "$player" "$RUN_DIR/hello.wav" >/dev/null 2>&1 || true; break; fi
done

cat <<MSG

  Text to speech is running.
    API:     http://127.0.0.1:$PORT/api/tts/
    Docs:    http://127.0.0.1:$PORT/api/docs/
    Admin:   http://127.0.0.1:$PORT/admin/
    Hello:   $url   (saved to run/hello.wav)

  Create an admin user (another terminal):  .venv/bin/python manage.py createsuperuser
  Try it:
    curl -s -X POST http://127.0.0.1:$PORT/api/tts/ -H 'Content-Type: application/json' \\
         -d '{"text": "Speech synthesis on my own machine."}'

  Synthesis: $BACKEND$([ "$BACKEND" = celery ] && echo " (worker log: run/worker.log; more workers: scripts/worker.sh)")
  Logs in run/. Press Ctrl-C to stop.
MSG
wait
