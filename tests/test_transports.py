"""piggy-mcp as a separate process, reached the way real clients reach it: stdio (Claude Desktop) and streamable HTTP.

Piggy itself is a loopback port nobody listens on (bound, never listening, so connections are refused and no other
process can take it): nothing leaves this machine, and every tool call that reaches Piggy fails the way an outage would.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

from tests.conftest import API_KEY, CONTACT_A
from tests.helpers import ERA_REQUESTS, EXPECTED_TOOLS, MODES, assert_no_stdio_server_left, post_mcp, text_of
from tests.servers import SESSION_DEADLINE, HttpServer
from tests.servers import http_server as serve_http

UNREACHABLE = "could not be reached"  # what the model reads when Piggy is down


@pytest.fixture(scope="module")
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections for as long as the module runs."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))  # bound but never listening: connect() gets ECONNREFUSED
        yield sock.getsockname()[1]


def server_env(closed_port: int, *, api_key: str | None = API_KEY) -> dict[str, str]:
    env = {"PATH": os.environ["PATH"], "PIGGY_BASE_URL": f"http://127.0.0.1:{closed_port}"}
    if api_key is not None:
        env["PIGGY_API_KEY"] = api_key
    return env


async def assert_serves_all_tools(client: Client) -> None:
    # "bypass": the client may cache listings; these calls must reach the server process.
    listing = await client.list_tools(cache_mode="bypass")
    assert listing.next_cursor is None
    assert {tool.name for tool in listing.tools} == EXPECTED_TOOLS
    assert len(listing.tools) == len(EXPECTED_TOOLS)


async def assert_piggy_unreachable_is_a_tool_error(client: Client) -> None:
    result = await client.call_tool("get_contact_credit_balance", {"contact_uuid": CONTACT_A})
    assert result.is_error, result
    assert UNREACHABLE in text_of(result), text_of(result)
    assert result.structured_content is None


# stdio -----------------------------------------------------------------------------------------------------


def stdio_params(tmp_path: Path, env: dict[str, str], *extra_args: str) -> StdioServerParameters:
    # cwd: an empty directory, so no developer .env file is read.
    return StdioServerParameters(
        command=sys.executable, args=["-m", "piggy_mcp", *extra_args], env=env, cwd=str(tmp_path)
    )


@pytest.mark.parametrize("mode", MODES)
async def test_stdio_lists_tools_and_survives_unreachable_piggy(tmp_path: Path, closed_port: int, mode: str) -> None:
    with anyio.fail_after(SESSION_DEADLINE):
        async with Client(stdio_params(tmp_path, server_env(closed_port)), mode=mode) as client:
            await assert_serves_all_tools(client)
            await assert_piggy_unreachable_is_a_tool_error(client)
            # The failure was the tool's, not the server's: it keeps serving.
            await assert_serves_all_tools(client)
            await assert_piggy_unreachable_is_a_tool_error(client)
    assert_no_stdio_server_left()


async def test_stdio_without_api_key_lists_tools_and_names_the_variable(tmp_path: Path, closed_port: int) -> None:
    with anyio.fail_after(SESSION_DEADLINE):
        async with Client(stdio_params(tmp_path, server_env(closed_port, api_key=None)), mode="legacy") as client:
            await assert_serves_all_tools(client)
            result = await client.call_tool("get_contact_credit_balance", {"contact_uuid": CONTACT_A})
            assert result.is_error, result
            assert "PIGGY_API_KEY" in text_of(result), text_of(result)
            assert UNREACHABLE not in text_of(result), "with no key, Piggy must not even be tried"
            await assert_serves_all_tools(client)
    assert_no_stdio_server_left()


async def test_stdio_stderr_never_shows_the_api_key(tmp_path: Path, closed_port: int) -> None:
    log = tmp_path / "stderr.log"
    # DEBUG: the most the server ever writes to stderr.
    params = stdio_params(tmp_path, server_env(closed_port), "--log-level", "DEBUG")
    with log.open("w", encoding="utf-8") as errlog, anyio.fail_after(SESSION_DEADLINE):
        async with Client(stdio_client(params, errlog=errlog)) as client:
            await assert_serves_all_tools(client)
            await assert_piggy_unreachable_is_a_tool_error(client)
            # A write too: its failure takes another path (no retry, "outcome unknown" when sent).
            result = await client.call_tool("create_vouchers_batch", {"promotion_uuid": CONTACT_A, "quantity": 1})
            assert result.is_error, result
            assert UNREACHABLE in text_of(result), text_of(result)
    assert_no_stdio_server_left()
    stderr = log.read_text(encoding="utf-8")
    # The capture works: the failed requests to Piggy were logged ...
    assert "/credit-balance" in stderr and "ConnectError" in stderr, stderr[-2000:]
    # ... and the key was not.
    leaked = [line for line in stderr.splitlines() if API_KEY in line]
    assert not leaked, f"the API key appears on stderr: {leaked[:3]}"


# Streamable HTTP -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def http_server(tmp_path_factory: pytest.TempPathFactory, closed_port: int) -> Iterator[HttpServer]:
    with serve_http(server_env(closed_port), tmp_path_factory.mktemp("http")) as server:
        yield server


def test_http_health_check(http_server: HttpServer) -> None:
    with httpx.Client(trust_env=False, timeout=10.0) as http:
        response = http.get(http_server.base + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("mode", MODES)
async def test_http_client_lists_tools_and_gets_a_clear_error(http_server: HttpServer, mode: str) -> None:
    with anyio.fail_after(SESSION_DEADLINE):
        async with Client(http_server.mcp_url, mode=mode) as client:
            expected_versions = HANDSHAKE_PROTOCOL_VERSIONS if mode == "legacy" else MODERN_PROTOCOL_VERSIONS
            assert client.protocol_version in expected_versions
            await assert_serves_all_tools(client)
            await assert_piggy_unreachable_is_a_tool_error(client)
            await assert_serves_all_tools(client)
    assert http_server.process.poll() is None, "the server must outlive its clients"


# One POST per protocol era: the SDK routes them to different handlers, both of which must check Host and Origin.


@pytest.mark.parametrize("era", ERA_REQUESTS)
def test_http_accepts_its_own_host_and_a_loopback_origin(http_server: HttpServer, era: str) -> None:
    """The control for the two rejections below: the same request, from where it should come, is served."""
    assert post_mcp(http_server, era).status_code == 200
    response = post_mcp(http_server, era, Origin=f"http://localhost:{http_server.port}")
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("era", ERA_REQUESTS)
@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.evil.example"])
def test_http_rejects_a_foreign_host_with_421(http_server: HttpServer, era: str, host: str) -> None:
    response = post_mcp(http_server, era, Host=host)
    assert response.status_code == 421, (response.status_code, response.text)


@pytest.mark.parametrize("era", ERA_REQUESTS)
@pytest.mark.parametrize("origin", ["http://evil.example", "https://evil.example:443", "http://127.0.0.1.evil.example"])
def test_http_rejects_a_foreign_origin_with_403(http_server: HttpServer, era: str, origin: str) -> None:
    response = post_mcp(http_server, era, Origin=origin)
    assert response.status_code == 403, (response.status_code, response.text)
