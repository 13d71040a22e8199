# shellcheck shell=bash
# ensure_commands "cmd:package ...": install the Debian packages whose commands are missing (needs root or sudo).
ensure_commands() {
    local missing=()
    local pair
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
            echo "missing: ${missing[*]} (install them with apt-get, or run as root)" >&2
            return 1
        fi
    fi
    echo "==> installing Debian packages: ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian starts nginx as a system service on install; this project runs its own instances.
    if [[ " ${missing[*]} " == *" nginx "* ]] && command -v service >/dev/null 2>&1; then
        $sudo service nginx stop >/dev/null 2>&1 || true
    fi
}
