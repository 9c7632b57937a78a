"""Start-up builds no tool in full: recorded tools are listed from the record and built on their first call."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx
from mcp import Client
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.tools import Tool

from piggy_mcp.server import build_server
from piggy_mcp.tools.base import READ, Result, Toolset
from tests.conftest import CONTACT_A, make_settings


@pytest.fixture
def from_function_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the tools the SDK builds in full, in order."""
    calls: list[str] = []
    original = Tool.from_function.__func__  # type: ignore[attr-defined]

    def counting(cls: type[Tool], fn: Any, *args: Any, **kwargs: Any) -> Tool:
        calls.append(kwargs["name"])
        built: Tool = original(cls, fn, *args, **kwargs)
        return built

    monkeypatch.setattr(Tool, "from_function", classmethod(counting))
    return calls


async def test_start_and_listing_build_no_tool_and_a_call_builds_only_its_own(
    from_function_calls: list[str], piggy: respx.MockRouter
) -> None:
    piggy.get(f"/contacts/{CONTACT_A}/credit-balance").mock(
        return_value=httpx.Response(200, json={"data": {"balance": 12}})
    )
    async with Client(build_server(make_settings())) as client:
        assert len((await client.list_tools()).tools) == 26
        assert from_function_calls == []
        for _ in range(2):
            result = await client.call_tool("get_contact_credit_balance", {"contact_uuid": CONTACT_A})
            assert result.structured_content == {"contact_uuid": CONTACT_A, "balance": 12}
    assert from_function_calls == ["get_contact_credit_balance"]


async def test_a_recorded_tool_validates_arguments_on_its_first_call(piggy: respx.MockRouter) -> None:
    async with Client(build_server(make_settings())) as client:
        result = await client.call_tool("get_contact_credit_balance", {"contact_uuid": "not-a-uuid"})
    assert result.is_error
    assert not piggy.calls


class Echo(Result):
    said: str


async def test_a_tool_missing_from_the_record_is_built_at_start(from_function_calls: list[str]) -> None:
    extra = Toolset("extra", "Not in the record.")

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
