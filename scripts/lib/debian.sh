# shellcheck shell=bash
# ensure_commands "cmd:package ...": install the Debian packages whose commands are missing (needs root or sudo).
ensure_commands() {
    local missing=()
    local pair
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
    _apt_install "${missing[@]}"
}

# ensure_files "/path:package ...": the same for packages that bring data files rather than commands.
ensure_files() {
    local missing=()
    local pair
    for pair in "$@"; do
        [ -e "${pair%%:*}" ] || missing+=("${pair#*:}")
    done
    _apt_install "${missing[@]}"
}

_apt_install() {
    [ $# -eq 0 ] && return 0
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
            echo "missing: $* (install them with apt-get, or run as root)" >&2
            return 1
        fi
    fi
    echo "==> installing Debian packages: $*"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    # Debian starts nginx as a system service on install; this project runs its own instances.
    if [[ " $* " == *" nginx"* ]] && command -v service >/dev/null 2>&1; then
        $sudo service nginx stop >/dev/null 2>&1 || true
    fi
}
