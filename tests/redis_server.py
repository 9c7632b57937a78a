"""A real Redis for the tests of what replicas share: Debian's redis-server on a free loopback port.

Without redis-server the tests that need it skip, saying why; under CI (where .ci/run installs it) they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.servers import free_port

START_DEADLINE = 15.0


def redis_server(workdir: Path) -> Iterator[str]:
    """Runs redis-server until the generator is closed; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (Debian: apt-get install redis-server); these tests need a real Redis"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen([*command, "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + START_DEADLINE
        while True:
            try:
                redis.Redis.from_url(url, socket_timeout=1).ping()
                break
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"redis-server did not start on port {port}") from None
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(10)
