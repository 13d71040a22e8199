#!/usr/bin/env bash
# API container entrypoint (also used natively by scripts/run.sh and the stack tests): wait for the database,
# run the release step (migrations and static files, under a deployment-wide lock, so replicas that start
# together do it once; DJANGO_RELEASE=0 skips it where a one-off job runs `manage.py release`), then exec Gunicorn.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
"$PYTHON" manage.py wait_for_db --timeout "${DB_WAIT_TIMEOUT:-60}"
if [ "${DJANGO_RELEASE:-1}" != "0" ]; then
    "$PYTHON" manage.py release
fi
exec "$PYTHON" -m gunicorn -c gunicorn.conf.py tacotron_tts.wsgi:application "$@"
