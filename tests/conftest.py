"""Shared fixtures: Piggy is faked with respx; the server is used through the official MCP client, in memory."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import respx
from mcp import Client
from mcp.server import MCPServer

from piggy_mcp.config import Settings
from piggy_mcp.server import build_server
from piggy_mcp.tools.runtime import Runtime
from tests.servers import redis_server

BASE_URL = "https://api.piggy.test"
API = BASE_URL + "/api/v3/oauth/clients"
# Obviously fake; tests assert it never shows up anywhere but the Authorization header.
API_KEY = "fake-key-do-not-leak-7"
SIGNING_KEY = "test-signing-key"

CONTACT_A = "11111111-1111-4111-8111-111111111111"
CONTACT_B = "22222222-2222-4222-8222-222222222222"
SHOP = "33333333-3333-4333-8333-333333333333"
PROMOTION = "44444444-4444-4444-8444-444444444444"
BOOKING = "55555555-5555-4555-8555-555555555555"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]) -> None:
    """No test sees the developer's PIGGY_* variables or .env file."""
    for name in list(os.environ):
        if name.startswith("PIGGY_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    # Used confirmation tokens are recorded here: never in the developer's own state directory.
    monkeypatch.setenv("PIGGY_MCP_STATE_DIR", str(Path(tmp_path) / "state"))


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries happen as in production, without the waiting."""
    monkeypatch.setattr("piggy_mcp.piggy.client._backoff", lambda attempt: 0.0)


def make_settings(**overrides: object) -> Settings:
    values: dict[str, Any] = {
        "api_key": API_KEY,
        "base_url": BASE_URL,
        "mcp_signing_key": SIGNING_KEY,
        "max_retry_after": 1.0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def piggy() -> Iterator[respx.MockRouter]:
    """Piggy's API, faked: register routes relative to /api/v3/oauth/clients. Unmatched requests fail."""
    with respx.mock(base_url=API, assert_all_called=False, assert_all_mocked=True) as router:
        yield router


@pytest.fixture
def server(settings: Settings) -> MCPServer[Runtime]:
    return build_server(settings)


@pytest.fixture
async def client(server: MCPServer[Runtime]) -> AsyncIterator[Client]:
    async with Client(server) as connected:
        yield connected


@pytest.fixture
async def legacy_client(server: MCPServer[Runtime]) -> AsyncIterator[Client]:
    async with Client(server, mode="legacy") as connected:
        yield connected


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis on a free loopback port, for the whole session."""
    yield from redis_server(tmp_path_factory.mktemp("redis"))
