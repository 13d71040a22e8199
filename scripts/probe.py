#!/usr/bin/env python3
"""Health probe of the local Gunicorn, for container health checks: exit 0 when PATH answers 200.

    python scripts/probe.py [PATH]    (default /api/health/; the port is GUNICORN_BIND's, default 8000)

It asks 127.0.0.1 directly, without proxy headers, which the API answers before host validation and the HTTPS
redirect (API.middleware.LocalProbeMiddleware), so it works under production settings.
"""
from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else "/api/health/"
    port = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[-1]
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=4) as resp:
            return 0 if resp.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"probe {path}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
