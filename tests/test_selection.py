"""Which tools a server offers (selection.py): toolsets, single tools, exclusions and read-only mode, in the fixed
order of the toolsets, as the official client lists them; the deprecated `members` toolset; unknown names
stopping the start; and a tool that is not served cannot be called.

Expectations are computed from `piggy_mcp.tools.TOOLSETS` (see tests/helpers.py), so adding tools does not break
these tests; the tools named explicitly (merge_contacts, create_credit_reception, ...) are the long-standing ones.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import respx
from mcp import Client

from piggy_mcp.config import Settings
from piggy_mcp.selection import SelectionError, select_tools
from piggy_mcp.server import build_server
from piggy_mcp.tools import TOOLSETS, Toolset
from tests.conftest import CONTACT_A, SHOP, make_settings
from tests.helpers import (
    ALL_TOOLS,
    DEFAULT_TOOLS,
    EMAIL,
    MERGE_ARGS,
    MODES,
    READ_TOOLS,
    TOOLSET_NAMES,
    TOOLSETS_BY_DOMAIN,
    Mode,
    envelope,
    in_order,
    text_of,
    tools_of,
)

# What the deprecated `members` toolset served.
MEMBER_TOOLS = {
    "find_contact",
    "get_contact",
    "update_contact",
    "list_contact_attributes",
    "list_loyalty_transactions",
}


async def listed(settings: Settings, mode: Mode = "auto") -> list[str]:
    """tools/list as the official client sees it."""
    async with Client(build_server(settings), mode=mode) as client:
        listing = await client.list_tools(cache_mode="bypass")
    assert listing.next_cursor is None
    return [tool.name for tool in listing.tools]


# Selection, listed through the official client ---------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_default_serves_the_default_toolsets_in_toolset_order(mode: Mode) -> None:
    assert await listed(make_settings(), mode) == DEFAULT_TOOLS
    assert [spec.name for spec in select_tools()] == DEFAULT_TOOLS
    assert await listed(make_settings(toolsets=["all"]), mode) == ALL_TOOLS


def test_opt_in_toolsets_are_served_only_when_named() -> None:
    moved = dataclasses.replace(TOOLSETS[0].tools[0], toolset="opt_in_example")
    available = [*TOOLSETS, Toolset("opt_in_example", "An opt-in set.", [moved], default=False)]
    assert moved not in select_tools(available=available)
    assert select_tools(toolsets=["opt_in_example"], available=available) == [moved]
    assert moved in select_tools(toolsets=["all"], available=available)


@pytest.mark.parametrize("mode", MODES)
async def test_read_only_serves_exactly_the_read_only_tools(mode: Mode) -> None:
    names = await listed(make_settings(read_only=True), mode)
    assert names == [name for name in DEFAULT_TOOLS if name in READ_TOOLS]  # of the default toolsets
    async with Client(build_server(make_settings(read_only=True)), mode=mode) as client:
        for tool in (await client.list_tools()).tools:
            assert tool.annotations is not None
            assert tool.annotations.read_only_hint is True, tool.name
            assert tool.annotations.destructive_hint is False, tool.name


@pytest.mark.parametrize("toolset", TOOLSET_NAMES)
async def test_one_toolset(toolset: str) -> None:
    assert await listed(make_settings(toolsets=[toolset])) == tools_of(toolset)


async def test_several_toolsets_keep_the_fixed_order_whatever_order_they_are_named_in() -> None:
    expected = tools_of("loyalty", "vouchers")
    assert await listed(make_settings(toolsets=["vouchers", "loyalty"])) == expected
    assert await listed(make_settings(toolsets=["loyalty", "vouchers"])) == expected
    assert expected.index("get_contact_credit_balance") < expected.index("create_vouchers_batch")


async def test_single_tools_only() -> None:
    named = ["create_credit_reception", "merge_contacts"]
    # contacts comes before loyalty in TOOLSETS, so merge_contacts is listed first.
    assert await listed(make_settings(tools=named)) == ["merge_contacts", "create_credit_reception"]


async def test_single_tools_add_to_toolsets() -> None:
    names = await listed(make_settings(toolsets=["loyalty"], tools=["merge_contacts"]))
    assert names == in_order({*tools_of("loyalty"), "merge_contacts"})


@pytest.mark.parametrize("mode", MODES)
async def test_exclude_tools_takes_away_from_everything(mode: Mode) -> None:
    excluded = ["merge_contacts", "get_contact_credit_balance"]
    names = await listed(make_settings(exclude_tools=excluded), mode)
    assert names == [name for name in DEFAULT_TOOLS if name not in excluded]


async def test_exclude_tools_takes_away_from_toolsets_and_from_named_tools() -> None:
    names = await listed(
        make_settings(
            toolsets=["contacts", "loyalty"],
            tools=["create_vouchers_batch"],
            exclude_tools=["merge_contacts", "create_vouchers_batch"],
        )
    )
    # Exclusion wins over naming a tool.
    assert names == [name for name in tools_of("contacts", "loyalty") if name != "merge_contacts"]


@pytest.mark.parametrize("mode", MODES)
async def test_read_only_wins_over_tools_naming_a_write_tool(mode: Mode) -> None:
    names = await listed(
        make_settings(
            read_only=True, tools=["merge_contacts", "create_credit_reception", "get_contact_credit_balance"]
        ),
        mode,
    )
    assert names == ["get_contact_credit_balance"]


async def test_read_only_wins_over_toolsets() -> None:
    names = await listed(make_settings(read_only=True, toolsets=["contacts", "loyalty"]))
    assert names == [name for name in tools_of("contacts", "loyalty") if name in READ_TOOLS]
    assert "merge_contacts" not in names
    assert "get_contact_auth_token" in names


async def test_read_only_with_only_write_tools_named_serves_nothing() -> None:
    assert await listed(make_settings(read_only=True, tools=["merge_contacts", "create_credit_reception"])) == []


async def test_order_is_deterministic() -> None:
    settings = make_settings(toolsets=["catalog", "contacts"], tools=["update_booking", "get_contact_credit_balance"])
    first = await listed(settings)
    assert first == await listed(settings)
    reordered = make_settings(toolsets=["contacts", "catalog"], tools=["get_contact_credit_balance", "update_booking"])
    assert await listed(reordered) == first
    assert first == in_order(first)


@pytest.mark.parametrize("toolset", ["contacts", "rewards", "vouchers"])
async def test_an_operator_can_serve_one_toolset(toolset: str) -> None:
    server = build_server(make_settings(toolsets=[toolset]))
    async with Client(server) as client:
        names = [tool.name for tool in (await client.list_tools()).tools]
    assert names == TOOLSETS_BY_DOMAIN[toolset]


async def test_the_old_members_toolset_serves_what_it_served_and_says_it_is_deprecated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = build_server(make_settings(toolsets=["members"]))
    async with Client(server) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert names == MEMBER_TOOLS
    assert any("'members' is deprecated" in record.getMessage() for record in caplog.records)


async def test_read_only_mode_keeps_only_the_reads() -> None:
    server = build_server(make_settings(toolsets=["members", "rewards"], read_only=True))
    async with Client(server) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert names == (MEMBER_TOOLS | {"list_rewards"}) - {"update_contact"}


# Unknown names ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "kind", "valid"),
    [
        ({"toolsets": ["contacts", "nope"]}, "toolset", TOOLSET_NAMES),
        ({"tools": ["merge_contact"]}, "tool", ALL_TOOLS),
        ({"exclude_tools": ["delete_everything"]}, "tool", ALL_TOOLS),
    ],
    ids=["toolset", "tool", "excluded-tool"],
)
def test_unknown_names_stop_the_start_with_the_valid_names(
    overrides: dict[str, Any], kind: str, valid: list[str]
) -> None:
    unknown = [name for names in overrides.values() for name in names if name not in valid]
    for attempt in (lambda: select_tools(**overrides), lambda: build_server(make_settings(**overrides))):
        with pytest.raises(SelectionError) as raised:
            attempt()
        message = str(raised.value)
        assert f"unknown {kind} {unknown[0]!r}" in message
        for name in valid:
            assert name in message


def test_unknown_names_are_all_reported() -> None:
    with pytest.raises(SelectionError, match=r"'nope'.*'neither'"):
        select_tools(toolsets=["nope", "contacts", "neither"])


# A tool that is not served cannot be called --------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("overrides", "tool", "arguments"),
    [
        ({"read_only": True}, "merge_contacts", MERGE_ARGS),
        ({"read_only": True, "tools": ["merge_contacts"]}, "merge_contacts", MERGE_ARGS),
        (
            {"exclude_tools": ["create_credit_reception"]},
            "create_credit_reception",
            {"contact_uuid": CONTACT_A, "shop_uuid": SHOP, "credits": 5},
        ),
        ({"toolsets": ["loyalty"]}, "create_vouchers_batch", {"promotion_uuid": CONTACT_A, "quantity": 1}),
        ({"tools": ["get_contact_credit_balance"]}, "send_contact_verification_email", {"email": EMAIL}),
    ],
    ids=["read-only", "read-only-wins", "excluded", "other-toolset", "not-named"],
)
async def test_a_tool_that_is_not_served_cannot_be_called(
    piggy: respx.MockRouter, mode: Mode, overrides: dict[str, Any], tool: str, arguments: dict[str, Any]
) -> None:
    # Piggy would answer anything; nothing may reach it.
    catch_all = piggy.route().respond(200, json=envelope({}))
    settings = make_settings(**overrides)
    async with Client(build_server(settings), mode=mode) as client:
        assert tool not in [t.name for t in (await client.list_tools()).tools]
        result = await client.call_tool(tool, arguments)
        # With a confirmation token too: a token cannot unlock a tool that is not served.
        again = await client.call_tool(tool, {**arguments, "confirmation_token": "c1.4000000000.sig"})
    for outcome in (result, again):
        assert outcome.is_error
        assert tool in text_of(outcome)
    assert not catch_all.called
    assert piggy.calls.call_count == 0
