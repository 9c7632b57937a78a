"""A stdio server starts and answers without importing httpx: it is first needed by the first Piggy request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mcp.types import LATEST_PROTOCOL_VERSION

# Serves stdio until stdin ends, then reports which of the slow imports happened.
SERVE_AND_REPORT = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps({m: m in sys.modules for m in ("httpx", "pygments")}), file=sys.stderr))
from piggy_mcp.cli import main
sys.exit(main([]))
"""


def test_a_stdio_session_without_piggy_requests_never_imports_httpx(tmp_path: Path) -> None:
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": LATEST_PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "test", "version": "1"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE_AND_REPORT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PATH": os.environ["PATH"], "PIGGY_API_KEY": "fake-key"},
        cwd=tmp_path,  # no .env file here
        text=True,
        encoding="utf-8",
    )
    assert server.stdin is not None and server.stdout is not None and server.stderr is not None
    try:
        server.stdin.write("".join(json.dumps(message) + "\n" for message in messages))
        server.stdin.flush()
        # stdin stays open until both answers are in: at end of input the server stops, pending requests or not.
        answers = [json.loads(server.stdout.readline()) for _ in range(2)]
        server.stdin.close()
        server.wait(timeout=60)
        stderr = server.stderr.read()
    finally:
        server.kill()
    assert server.returncode == 0, stderr
    assert [answer.get("id") for answer in answers] == [1, 2]
    assert answers[1]["result"]["tools"]
    assert json.loads(stderr.splitlines()[-1]) == {"httpx": False, "pygments": False}
