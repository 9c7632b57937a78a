"""Server processes for the tests, on free loopback ports, always stopped afterwards: piggy-mcp over HTTP, and
Debian's redis-server for the tests of what replicas share (without it they skip saying why; under CI, where
.ci/run installs it, they fail)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
import httpx2
import pytest
import redis
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

# Generous: a loaded 2-core machine may take seconds to start Python and import the SDK.
SESSION_DEADLINE = 90.0  # one whole client session, start to finish
HEALTH_DEADLINE = 15.0  # the HTTP server answering /healthz
STOP_DEADLINE = 15.0  # a terminated HTTP server exiting


@dataclass(frozen=True)
class HttpServer:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mcp_url(self) -> str:
        return self.base + "/mcp"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate a server this module started, escalating to SIGKILL of its process group; always reaped."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: see start_new_session below
            process.wait(STOP_DEADLINE)
    assert process.returncode is not None


def wait_until_healthy(server: HttpServer) -> bool:
    """Poll /healthz until it answers; False if the process died first (e.g. lost the port to someone else)."""
    deadline = time.monotonic() + HEALTH_DEADLINE
    last_error: object = None
    with httpx.Client(trust_env=False, timeout=2.0) as http:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                return False
            try:
                response = http.get(server.base + "/healthz")
            except httpx.TransportError as exc:
                last_error = exc
            else:
                assert response.status_code == 200, response.text
                assert response.json() == {"status": "ok"}
                return True
            time.sleep(0.1)
    log = server.log.read_text(encoding="utf-8", errors="replace")
    raise AssertionError(f"/healthz did not answer within {HEALTH_DEADLINE}s ({last_error!r}); stderr:\n{log}")


@contextmanager
def http_server(env: dict[str, str], workdir: Path, *args: str) -> Iterator[HttpServer]:
    """`python -m piggy_mcp <args> --transport http` on a free loopback port; always stopped afterwards."""
    for attempt in range(3):  # the free port can be taken between choosing and binding it
        port = free_port()
        log = workdir / f"stderr-{port}.log"
        command = [sys.executable, "-m", "piggy_mcp", *args, "--transport", "http", "--port", str(port)]
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                [*command, "--host", "127.0.0.1"],
                env=env,
                cwd=workdir,  # no developer .env file here
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,
            )
        server = HttpServer(port, process, log)
        try:
            if wait_until_healthy(server):
                yield server
                return
        finally:
            stop(process)
        text = log.read_text(encoding="utf-8", errors="replace")
        if "address already in use" not in text.lower():
            raise AssertionError(f"the HTTP server exited with {process.returncode} (attempt {attempt}):\n{text}")
    raise AssertionError("could not find a free port for the HTTP server in 3 attempts")


REDIS_DEADLINE = 15.0  # redis-server answering PING


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
        deadline = time.monotonic() + REDIS_DEADLINE
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


@asynccontextmanager
async def connect_http(
    url: str, token: str | None, mode: Literal["auto", "legacy"] = "auto", **options: Any
) -> AsyncIterator[Client]:
    """The official client over streamable HTTP, presenting `token` as a bearer token on every request."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    timeout = httpx2.Timeout(30.0, read=60.0)
    async with (
        httpx2.AsyncClient(headers=headers, timeout=timeout, trust_env=False) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode, **options) as client,
    ):
        yield client
