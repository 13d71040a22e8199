#!/usr/bin/env bash
# Set up (first run) and run the whole test suite: ./scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/venv.sh
. scripts/lib/debian.sh
# nginx, docker-compose and chromium: the stack tests run the real proxy, validate the compose file and drive the
# web page in a real browser.
ensure_commands nginx:nginx-light docker-compose:docker-compose chromium:chromium
ensure_venv requirements-dev.txt
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
exec .venv/bin/python -m pytest "$@"
