"""Schemathesis, a property-based OpenAPI fuzzer, against the schema the running stack serves (through Nginx):
no 5xx, and every response matches the schema (status codes, content types, bodies, headers). Bounded examples
and a fixed seed keep it reproducible and inside CI time."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from .conftest import Stack, post_json

pytestmark = pytest.mark.stack
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
          "response_headers_conformance")


def test_fuzzing_the_served_schema_finds_no_server_error_or_schema_violation(tmp_path, checkpoints):
    exe = shutil.which("schemathesis", path=os.path.dirname(sys.executable))
    if exe is None:
        raise RuntimeError("schemathesis is in requirements-dev.txt; run ./scripts/test.sh to install it")
    stack = Stack(tmp_path, checkpoints["quick"], checkpoints["waveglow"],
                  {"NGINX_TTS_RATE": "10000r/s", "NGINX_TTS_BURST": "1000", "TTS_THROTTLE_READINESS": "100000/min"})
    try:
        stack.manage("shell", "-c", "from django.contrib.auth.models import User; "
                                    "User.objects.create_superuser('fuzz', password='pw-fuzz-123456')")
        token = post_json(f"{stack.url}/api/auth/token/", {"username": "fuzz", "password": "pw-fuzz-123456"})[2]
        done = subprocess.run(
            [exe, "run", f"{stack.url}/api/schema/", "--url", stack.url, "--checks", CHECKS,
             "--max-examples", os.environ.get("TTS_FUZZ_EXAMPLES", "40"), "--seed", "20", "--workers", "1",
             "--generation-database", "none", "--no-color", "--request-timeout", "60",
             "-H", f"Authorization: Token {token['token']}", "--report", "junit",
             "--report-junit-path", str(tmp_path / "schemathesis.xml")],
            cwd=tmp_path, capture_output=True, text=True, timeout=600)  # its cache stays out of the repository
        output = done.stdout + done.stderr
        cases = re.findall(r"^\s*(\d+ generated, .*)$", output, flags=re.M)
        summary = re.findall(r"^=+ (.* in [0-9.]+s) =+$", output, flags=re.M)
        print(f"\n[schemathesis] {cases[-1] if cases else '?'}; {summary[-1] if summary else output[-500:]}")
        assert done.returncode == 0, output[:8000]  # the failures come first; the summary last
        assert len(stack.rows()) == len(stack.media_files())
    finally:
        stack.stop()
