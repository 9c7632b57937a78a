"""tools/list as a real client sees it, in both eras: names, titles, annotations, schemas, each tool's snapshot,
and the token budget.

Each tool's listing is pinned in tests/__toolsnaps__/, so any change to what models see shows up in review. To
accept a deliberate change, regenerate them with `UPDATE_GOLDEN=1 python -m pytest tests/test_listing.py` and
commit the diff.

The token budget is what every session pays for the tools before the user says a word. Measured as a client
receives it, the compact JSON of the listed tools, for the default configuration and for every toolset (`all`):
on average at most 1,000 bytes (about 250 tokens) per tool. Over it, the test names the largest tools; trim their
wording or their output schemas (the fields an agent needs, not all Piggy returns). The means are the lean
schemas of piggy_mcp/schema.py (tests/test_schema.py).
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

import pytest
import respx
from mcp import Client

from piggy_mcp.server import build_server
from tests.conftest import CONTACT_A, PROMOTION, make_settings
from tests.helpers import EXPECTED_TOOLS, compact_size, list_all_tools, wire_tools

UPDATE_COMMAND = "UPDATE_GOLDEN=1 python -m pytest tests/test_listing.py"
SNAPSHOTS = Path(__file__).with_name("__toolsnaps__")

READ_ONLY_TOOLS = frozenset(
    {
        "get_contact_auth_token",
        "get_contact_credit_balance",
        "find_voucher_by_code",
        "list_forms",
        "list_perks",
        "find_contact",
        "get_contact",
        "list_contact_attributes",
        "list_loyalty_transactions",
        "list_shops",
        "list_rewards",
        "list_promotions",
        "list_contact_vouchers",
        "list_contacts",
        "get_loyalty_program",
        "list_tiers",
        "get_contact_tier",
    }
)
# Exactly the tools that ask the user to confirm first.
DESTRUCTIVE_TOOLS = frozenset(
    {
        "merge_contacts",
        "claim_anonymous_contact",
        "redeem_reward",
        "reverse_credit_reception",
        "delete_contact",
        "reverse_reward_reception",
    }
)
# Their descriptions tell the model "not idempotent"; the annotation must agree.
NOT_IDEMPOTENT_TOOLS = frozenset(
    {"create_credit_reception", "create_vouchers_batch", "redeem_voucher", "create_anonymous_contact"}
)
HINTS = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")

# Every argument that names a Piggy object by uuid (it becomes part of a URL path or a reference).
UUID_ARGS = {
    "get_contact_auth_token": {"contact_uuid"},
    "get_contact_credit_balance": {"contact_uuid"},
    "merge_contacts": {"source_contact_uuid", "destination_contact_uuid"},
    "claim_anonymous_contact": {"anonymous_contact_uuid"},
    "create_credit_reception": {"contact_uuid", "shop_uuid", "pos_transaction_uuid"},
    "create_vouchers_batch": {"promotion_uuid", "contact_uuid"},
    "update_booking": {"booking_uuid"},
    "get_contact": {"contact_uuid"},
    "update_contact": {"contact_uuid"},
    "list_loyalty_transactions": {"contact_uuid"},
    "list_rewards": {"contact_uuid", "shop_uuid"},
    "redeem_reward": {"contact_uuid", "reward_uuid", "shop_uuid"},
    "reverse_credit_reception": {"credit_reception_uuid", "contact_uuid"},
    "list_contact_vouchers": {"contact_uuid", "promotion_uuid"},
    "redeem_voucher": {"contact_uuid", "shop_uuid"},
    "delete_contact": {"contact_uuid"},
    "get_contact_tier": {"contact_uuid"},
    "reverse_reward_reception": {"reward_reception_uuid", "contact_uuid"},
}
EMAIL_ARGS = {
    "send_contact_verification_email": "email",
    "verify_login_code": "email",
    "claim_anonymous_contact": "email",
    "find_contact": "email",
    "create_contact": "email",
}
DATA_TYPES = {
    "url", "text", "date", "phone", "float", "color", "email", "number", "select", "boolean", "rich_text",
    "date_time", "long_text", "date_range", "time_range", "identifier", "birth_date", "file_upload",
    "media_upload", "multi_select", "license_plate",
}  # fmt: skip


@pytest.fixture(params=["client", "legacy_client"])
def mcp_client(request: pytest.FixtureRequest) -> Client:
    """The in-memory official client, once per protocol era (2026-07-28 and the legacy handshake)."""
    connected: Client = request.getfixturevalue(request.param)
    return connected


async def tools_by_name(client: Client) -> dict[str, dict[str, Any]]:
    return {tool["name"]: tool for tool in await wire_tools(client)}


def arg(tool: dict[str, Any], name: str) -> dict[str, Any]:
    """An argument's schema, with an optional argument's `anyOf: [T, null]` folded into T's keywords."""
    properties = tool["inputSchema"]["properties"]
    assert name in properties, f"{tool['name']} has no argument {name!r}"
    schema = dict(properties[name])
    branches = [branch for branch in schema.pop("anyOf", []) if branch.get("type") != "null"]
    assert len(branches) <= 1, f"{tool['name']}.{name} is an unexpected union: {properties[name]}"
    for branch in branches:
        schema = {**branch, **schema}
    return schema


# Names, titles, descriptions -------------------------------------------------------------------------------


async def test_lists_exactly_the_expected_tools(mcp_client: Client) -> None:
    names = [tool.name for tool in await list_all_tools(mcp_client)]
    assert len(names) == len(EXPECTED_TOOLS), names
    assert len(set(names)) == len(names), f"duplicate tool names: {names}"
    assert set(names) == EXPECTED_TOOLS


async def test_every_tool_has_a_title_and_a_description(mcp_client: Client) -> None:
    for tool in await list_all_tools(mcp_client):
        assert isinstance(tool.title, str) and tool.title.strip(), f"{tool.name} has no title"
        assert tool.title != tool.name, f"{tool.name}'s title is just its name"
        assert isinstance(tool.description, str) and tool.description.strip(), f"{tool.name} has no description"


# Annotations -----------------------------------------------------------------------------------------------


async def test_every_tool_sets_all_four_hints_explicitly(mcp_client: Client) -> None:
    for name, tool in (await tools_by_name(mcp_client)).items():
        annotations = tool.get("annotations")
        assert annotations is not None, f"{name} has no annotations: clients would assume destructive"
        for hint in HINTS:
            # Unset hints are dropped from the dump (exclude_none), so presence means the server sent it.
            assert isinstance(annotations.get(hint), bool), f"{name} does not set {hint}: {annotations}"
        assert annotations["openWorldHint"] is True, f"{name} talks to Piggy, an open world"


async def test_read_tools_are_read_only_and_only_they(mcp_client: Client) -> None:
    tools = await tools_by_name(mcp_client)
    read_only = {name for name, tool in tools.items() if tool["annotations"]["readOnlyHint"] is True}
    assert read_only == READ_ONLY_TOOLS
    for name in READ_ONLY_TOOLS:
        assert tools[name]["annotations"]["idempotentHint"] is True, f"reading twice is harmless: {name}"


async def test_only_the_confirmed_tools_are_destructive(mcp_client: Client) -> None:
    tools = await tools_by_name(mcp_client)
    destructive = {name for name, tool in tools.items() if tool["annotations"]["destructiveHint"] is True}
    assert destructive == DESTRUCTIVE_TOOLS
    for name in EXPECTED_TOOLS - DESTRUCTIVE_TOOLS:
        assert tools[name]["annotations"]["destructiveHint"] is False, name


async def test_writes_that_say_not_idempotent_are_annotated_so(mcp_client: Client) -> None:
    tools = await tools_by_name(mcp_client)
    for name in NOT_IDEMPOTENT_TOOLS:
        assert tools[name]["annotations"]["idempotentHint"] is False, name
        assert "not idempotent" in tools[name]["description"].lower(), name


# Schemas ---------------------------------------------------------------------------------------------------


async def test_every_tool_has_an_object_output_schema(mcp_client: Client) -> None:
    for name, tool in (await tools_by_name(mcp_client)).items():
        output = tool.get("outputSchema")
        assert output is not None, f"{name} has no outputSchema"
        assert output.get("type") == "object", f"{name}'s outputSchema is not an object: {output}"
        assert output.get("properties"), f"{name}'s outputSchema declares no fields"
        assert tool["inputSchema"].get("type") == "object", name


async def test_uuid_and_email_arguments_declare_their_format(mcp_client: Client) -> None:
    tools = await tools_by_name(mcp_client)
    for name, tool in tools.items():
        declared = {prop for prop in tool["inputSchema"]["properties"] if prop.endswith("_uuid")}
        assert declared == UUID_ARGS.get(name, set()), f"{name}: uuid arguments changed"
    for name, props in UUID_ARGS.items():
        for prop in props:
            schema = arg(tools[name], prop)
            assert (schema.get("type"), schema.get("format")) == ("string", "uuid"), f"{name}.{prop}: {schema}"
    for name, prop in EMAIL_ARGS.items():
        schema = arg(tools[name], prop)
        assert (schema.get("type"), schema.get("format")) == ("string", "email"), f"{name}.{prop}: {schema}"


async def test_numeric_and_list_bounds(mcp_client: Client) -> None:
    tools = await tools_by_name(mcp_client)
    quantity = arg(tools["create_vouchers_batch"], "quantity")
    assert (quantity["type"], quantity["minimum"], quantity["maximum"]) == ("integer", 1, 500)
    people = arg(tools["update_booking"], "number_of_people")
    assert (people["type"], people["minimum"]) == ("integer", 1)
    products = arg(tools["find_or_create_products"], "products")
    assert (products["type"], products["minItems"], products["maxItems"]) == ("array", 1, 100)
    for name, most in [("list_loyalty_transactions", 100), ("list_contact_vouchers", 100)]:
        limit, page = arg(tools[name], "limit"), arg(tools[name], "page")
        assert (limit["type"], limit["minimum"], limit["maximum"]) == ("integer", 1, most), name
        assert (page["type"], page["minimum"]) == ("integer", 1), name
    attributes = arg(tools["update_contact"], "attributes")
    assert (attributes["type"], attributes["minItems"], attributes["maxItems"]) == ("array", 1, 50)


async def test_enums(mcp_client: Client) -> None:
    tools = await tools_by_name(mcp_client)
    data_type = arg(tools["create_contact_attribute"], "data_type")
    assert len(data_type["enum"]) == 21
    assert set(data_type["enum"]) == DATA_TYPES
    assert set(arg(tools["list_forms"], "status")["enum"]) == {"PUBLISHED", "DRAFT", "BIN"}
    assert set(arg(tools["list_forms"], "type")["enum"]) == {"PUBLIC", "PRIVATE"}
    assert set(arg(tools["list_loyalty_transactions"], "type")["enum"]) == {"credit_receptions", "reward_receptions"}
    assert set(arg(tools["list_contact_vouchers"], "status")["enum"]) == {
        "ACTIVE", "REDEEMED", "EXPIRED", "DEACTIVATED", "INACTIVE", "LOCKED"
    }  # fmt: skip


# (tool, arguments, the argument the schema must reject)
BAD_CALLS = [
    ("create_vouchers_batch", {"promotion_uuid": PROMOTION, "quantity": 0}, "quantity"),
    ("create_vouchers_batch", {"promotion_uuid": PROMOTION, "quantity": 501}, "quantity"),
    ("get_contact_credit_balance", {"contact_uuid": "../../admin"}, "contact_uuid"),
    ("send_contact_verification_email", {"email": "not-an-email"}, "email"),
    ("create_contact_attribute", {"name": "tier", "label": "Tier", "data_type": "colour"}, "data_type"),
    ("create_contact_attribute", {"name": "Tier", "label": "Tier", "data_type": "text"}, "name"),
    ("create_contact_attribute", {"name": "t" * 65, "label": "Tier", "data_type": "text"}, "name"),
    ("create_contact_attribute", {"name": "tier", "label": "Tier", "data_type": "select", "options": []}, "options"),
    ("list_forms", {"status": "ARCHIVED"}, "status"),
    (
        "find_or_create_products",
        {"products": [{"external_identifier": f"p{i}", "name": "P"} for i in range(101)]},
        "products",
    ),
    ("update_booking", {"booking_uuid": CONTACT_A, "number_of_people": 0}, "number_of_people"),
    # A guard: enforced, though the schema does not advertise it.
    ("update_booking", {"booking_uuid": CONTACT_A, "number_of_people": 10_001}, "number_of_people"),
    ("find_contact", {"email": "jane@"}, "email"),
    ("update_contact", {"contact_uuid": CONTACT_A, "attributes": {}}, "attributes"),
    ("update_contact", {"contact_uuid": CONTACT_A, "attributes": {"firstname": {"a": 1}}}, "attributes"),
    ("list_loyalty_transactions", {"contact_uuid": CONTACT_A, "limit": 101}, "limit"),
    ("list_loyalty_transactions", {"contact_uuid": CONTACT_A, "type": "credit_reception"}, "type"),
    ("list_contact_vouchers", {"contact_uuid": CONTACT_A, "status": "USED"}, "status"),
    ("list_contact_vouchers", {"contact_uuid": CONTACT_A, "page": 0}, "page"),
    ("list_rewards", {"shop_uuid": "shop-1"}, "shop_uuid"),
    ("redeem_voucher", {"code": ""}, "code"),
    ("reverse_credit_reception", {"credit_reception_uuid": "../x", "contact_uuid": CONTACT_A}, "credit_reception_uuid"),
]


@pytest.mark.parametrize(
    ("tool", "arguments", "rejected"), BAD_CALLS, ids=[f"{tool}-{field}" for tool, _, field in BAD_CALLS]
)
async def test_schema_constraints_are_enforced_before_piggy_is_called(
    mcp_client: Client, piggy: respx.MockRouter, tool: str, arguments: dict[str, Any], rejected: str
) -> None:
    result = await mcp_client.call_tool(tool, arguments)
    assert result.is_error, f"{tool} accepted {arguments}"
    text = " ".join(getattr(block, "text", "") for block in result.content)
    # Argument validation, not a failed request: an unmocked request would also be an error, but a different one.
    assert "Invalid arguments; nothing was sent to Piggy" in text and rejected in text, text
    assert not piggy.calls, "an invalid call reached Piggy"


# The whole listing -----------------------------------------------------------------------------------------


async def test_both_protocol_eras_list_the_same_tools(client: Client, legacy_client: Client) -> None:
    assert await wire_tools(client) == await wire_tools(legacy_client)


async def test_each_tool_matches_its_snapshot() -> None:
    """What models see of each tool, opt-in ones too, is pinned in tests/__toolsnaps__/<tool>.json, so a change
    shows as a small diff.

    To accept a deliberate change: `UPDATE_GOLDEN=1 python -m pytest tests/test_listing.py`, then review it.
    """
    async with Client(build_server(make_settings(toolsets=["all"]))) as client:
        listed = {tool["name"]: tool for tool in await wire_tools(client)}
    if os.environ.get("UPDATE_GOLDEN") == "1":
        for stale in SNAPSHOTS.glob("*.json"):
            stale.unlink()
        for name, tool in listed.items():
            (SNAPSHOTS / f"{name}.json").write_text(_snapshot_text(tool), encoding="utf-8", newline="\n")
        return
    snapshots = {path.stem: path.read_text(encoding="utf-8") for path in SNAPSHOTS.glob("*.json")}
    assert sorted(snapshots) == sorted(listed), f"tools and snapshots differ; update them with {UPDATE_COMMAND}"
    for name, tool in listed.items():
        actual, expected = _snapshot_text(tool), snapshots[name]
        if actual != expected:
            diff = "".join(
                difflib.unified_diff(
                    expected.splitlines(keepends=True), actual.splitlines(keepends=True), "snapshot", "served", n=2
                )
            )
            pytest.fail(
                f"{name} differs from its snapshot: models would see a different interface.\n"
                f"If the change is intended, update the snapshots with:\n    {UPDATE_COMMAND}\n"
                f"and review their diff.\n\n{diff[:6000]}"
            )


def _snapshot_text(tool: dict[str, Any]) -> str:
    return json.dumps(tool, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# The token budget ------------------------------------------------------------------------------------------

BUDGET_PER_TOOL = 1_000
LARGEST_SHOWN = 5


@pytest.mark.parametrize("toolsets", [[], ["all"]], ids=["default", "all"])
async def test_tools_list_stays_within_the_token_budget(toolsets: list[str]) -> None:
    configuration = ",".join(toolsets) or "default"
    async with Client(build_server(make_settings(toolsets=toolsets))) as client:
        tools = await wire_tools(client)
    assert tools, f"{configuration} lists no tools"
    per_tool = compact_size(tools) / len(tools)
    limit = BUDGET_PER_TOOL
    largest = sorted(((compact_size(tool), tool["name"]) for tool in tools), reverse=True)[:LARGEST_SHOWN]
    shown = "\n".join(f"    {size:6,} bytes  {name}" for size, name in largest)
    assert per_tool <= limit, (
        f"tools/list ({configuration}) takes {per_tool:,.0f} bytes per tool, over the budget of {limit:,}: "
        f"{compact_size(tools):,} bytes for {len(tools)} tools. The largest:\n{shown}"
    )
