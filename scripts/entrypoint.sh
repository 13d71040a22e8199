#!/usr/bin/env bash
# API container entrypoint (also used natively by scripts/run.sh and the stack tests):
# wait for the database, migrate, collect static files, then exec Gunicorn.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
"$PYTHON" manage.py wait_for_db --timeout "${DB_WAIT_TIMEOUT:-60}"
"$PYTHON" manage.py migrate --noinput
"$PYTHON" manage.py collectstatic --noinput --verbosity 0
exec "$PYTHON" -m gunicorn -c gunicorn.conf.py tacotron_tts.wsgi:application "$@"
