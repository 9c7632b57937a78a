"""Server assembly (server.py): tools are built at start-up through the SDK's public API (`Tool.from_function`),
only those served; and one Piggy client for each run of the lifespan, opened on the first request and closed at
the end."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import respx
from mcp import Client
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.tools import Tool

from piggy_mcp.server import build_server, sdk_tool
from piggy_mcp.tools.results import Result
from piggy_mcp.tools.toolset import READ, Toolset
from tests.conftest import make_settings
from tests.helpers import ClosingMockTransport, assert_ok_balance, balance, text_of


@pytest.fixture
def from_function_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Names of the tools the SDK builds in full, in order."""
    calls: list[str] = []
    original = Tool.from_function.__func__  # type: ignore[attr-defined]

    def counting(cls: type[Tool], fn: Any, *args: Any, **kwargs: Any) -> Tool:
        calls.append(kwargs["name"])
        built: Tool = original(cls, fn, *args, **kwargs)
        return built

    monkeypatch.setattr(Tool, "from_function", classmethod(counting))
    sdk_tool.cache_clear()  # built tools are shared by every server of the process
    yield calls
    sdk_tool.cache_clear()


def test_start_builds_exactly_the_served_tools_through_the_sdk(from_function_calls: list[str]) -> None:
    build_server(make_settings(toolsets=["loyalty"], read_only=True))
    assert from_function_calls == [
        "get_contact_credit_balance",
        "list_loyalty_transactions",
        "list_shops",
        "get_loyalty_program",
        "list_tiers",
        "get_contact_tier",
    ]


async def test_arguments_are_validated_before_the_tool_runs(piggy: respx.MockRouter) -> None:
    async with Client(build_server(make_settings())) as client:
        result = await client.call_tool("get_contact_credit_balance", {"contact_uuid": "not-a-uuid"})
    assert result.is_error
    assert not piggy.calls


class Echo(Result):
    said: str


async def test_a_new_tool_is_listed_lean_and_served(from_function_calls: list[str]) -> None:
    extra = Toolset("extra", "A toolset of one tool.")

    @extra.tool(title="Echo", annotations=READ)
    async def echo_words(words: str, ctx: Context[Any, Any]) -> Echo:
        """Say the words back."""
        return Echo(said=words)

    server = build_server(make_settings(), tools=extra.tools)
    assert from_function_calls == ["echo_words"]
    async with Client(server) as client:
        (listed,) = (await client.list_tools()).tools
        result = await client.call_tool("echo_words", {"words": "hello"})
    assert listed.input_schema["properties"] == {"words": {"type": "string"}}
    assert listed.output_schema == {"properties": {"said": {"type": "string"}}, "required": ["said"], "type": "object"}
    assert result.structured_content == {"said": "hello"}


# One HTTP client per lifespan -----------------------------------------------------------------------


async def test_the_lifespan_opens_one_client_and_closes_it() -> None:
    transport = ClosingMockTransport()
    async with Client(build_server(make_settings(), transport=transport)) as client:
        for _ in range(3):
            assert_ok_balance(await balance(client))
        assert transport.closed == 0
    assert len(transport.requests) == 3
    assert transport.closed == 1


async def test_missing_key_sends_nothing() -> None:
    transport = ClosingMockTransport()
    async with Client(build_server(make_settings(api_key=None), transport=transport)) as client:
        result = await balance(client)
    assert result.is_error
    assert "PIGGY_API_KEY" in text_of(result)
    assert transport.requests == []


async def test_unused_server_opens_nothing() -> None:
    transport = ClosingMockTransport()
    async with Client(build_server(make_settings(), transport=transport)) as client:
        await client.list_tools()
    # The HTTP client is made on the first request: a server that made none has nothing to close.
    assert transport.requests == []
    assert transport.closed == 0
