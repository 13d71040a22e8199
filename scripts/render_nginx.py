#!/usr/bin/env python3
"""Render nginx templates for a native run: replaces ${NAME} for the names given in the environment only, like
the nginx image's envsubst step (nginx's own $variables are left alone).

Usage: render_nginx.py RUNTIME_DIR  (reads nginx/*.template, writes RUNTIME_DIR/default.conf and nginx.conf, and
RUNTIME_DIR/trusted-proxies.conf with nginx/trusted-proxies.sh, as the nginx image does)
"""
from __future__ import annotations

import grp
import os
import pathlib
import pwd
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULTS = {"NGINX_PORT": "8080", "NGINX_PROXY_TIMEOUT": "310", "NGINX_TTS_RATE": "5r/s", "NGINX_TTS_BURST": "10",
            "NGINX_MIME_TYPES": "/etc/nginx/mime.types"}


def render(text: str, values: dict[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in values:
            raise SystemExit(f"render_nginx: ${{{name}}} is not set")
        return values[name]

    return re.sub(r"\$\{([A-Z_][A-Z0-9_]*)\}", sub, text)


def worker_user() -> str:
    """nginx's ``user`` directive for the workers: the invoking user when started by root (nginx would otherwise
    switch to an unprivileged user who may not enter the project's folder), nothing otherwise."""
    if os.geteuid() != 0:
        return ""
    return f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};"


def main() -> None:
    runtime = pathlib.Path(sys.argv[1]).resolve()
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (runtime / sub).mkdir(parents=True, exist_ok=True)
    values = {**DEFAULTS, **os.environ, "NGINX_RUNTIME_DIR": str(runtime), "NGINX_USER": worker_user()}
    (runtime / "default.conf").write_text(render((ROOT / "nginx/default.conf.template").read_text(), values))
    subprocess.run(["sh", str(ROOT / "nginx/trusted-proxies.sh"), str(runtime / "trusted-proxies.conf")],
                   env={**os.environ}, check=True)
    (runtime / "nginx.conf").write_text(render((ROOT / "nginx/native.conf.template").read_text(), values))
    print(runtime / "nginx.conf")


if __name__ == "__main__":
    main()
