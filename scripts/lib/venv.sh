# shellcheck shell=bash
# ensure_venv REQUIREMENTS_FILE: create .venv (if missing), install torch==2.13.0 and the requirements, then this
# project itself in editable mode (so scripts and tests import it from the venv); pip is skipped entirely when
# nothing changed since the last install.
ensure_venv() {
    local req="$1"
    local py="${PYTHON:-python3}"
    if [ ! -x .venv/bin/python ]; then
        echo "==> creating virtualenv .venv"
        "$py" -m venv .venv
    fi
    local stamp=".venv/.installed-$(basename "$req")"
    local digest
    digest=$(cat requirements*.txt pyproject.toml | sha256sum | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
        return 0
    fi
    # requirements-dev.txt includes requirements.txt: after ./scripts/test.sh, ./scripts/run.sh installs nothing.
    if [ "$(basename "$req")" = requirements.txt ] && [ -f .venv/.installed-requirements-dev.txt ] \
        && [ "$(cat .venv/.installed-requirements-dev.txt)" = "$digest" ]; then
        return 0
    fi
    echo "==> installing Python packages from $req"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
    # The exact CPU build first: any other torch spec would pull gigabytes of CUDA packages.
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$req"
    # The project itself, built with the venv's own setuptools (no build environment to download); setuptools'
    # generic notice about editable installs is silenced (PYTHONWARNINGS), errors still stop the script.
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "setuptools>=68"
    PYTHONWARNINGS=ignore .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
        --no-build-isolation --editable .
    echo "$digest" > "$stamp"
}
