"""The prepaid tools (tools/prepaid.py): exact requests, shaped results, previews, refusals, idempotency."""

from __future__ import annotations

import respx
from mcp import Client
from mcp.server import MCPServer

from piggy_mcp.server import build_server
from piggy_mcp.tools.runtime import Runtime
from tests.conftest import CONTACT_A, SHOP, make_settings
from tests.helpers import (
    ACCEPT,
    EMAIL,
    PREPAID_BALANCE,
    PREPAID_REVERSE_ARGS,
    PREPAID_TX,
    PREPAID_TX_ARGS,
    User,
    anything,
    assert_get,
    body,
    connect,
    envelope,
    fake_prepaid_reverse,
    fake_prepaid_transaction,
    prepaid_transaction,
    refused,
    structured,
    the_request,
)


def server() -> MCPServer[Runtime]:
    return build_server(make_settings(toolsets=["all"]))


async def test_get_prepaid_balance(piggy: respx.MockRouter) -> None:
    route = piggy.get(f"/contacts/{CONTACT_A}/prepaid-balance").respond(
        200, json=envelope({"balance_in_cents": 5000, "balance": "€50.00"})
    )
    async with Client(server()) as client:
        result = await client.call_tool("get_prepaid_balance", {"contact_uuid": CONTACT_A})
    assert_get(the_request(route), f"/contacts/{CONTACT_A}/prepaid-balance")
    assert structured(result) == {"balance_in_cents": 5000}


async def test_list_prepaid_transactions(piggy: respx.MockRouter) -> None:
    meta = {"current_page": 1, "from": 1, "last_page": 2, "per_page": 30, "total": 31}
    route = piggy.get("/prepaid-transactions").respond(
        200, json=envelope([prepaid_transaction(PREPAID_TX, -1000, 1500), "garbage"], meta)
    )
    async with Client(server()) as client:
        result = await client.call_tool("list_prepaid_transactions", {"contact_uuid": CONTACT_A, "limit": 30})
    assert_get(the_request(route), "/prepaid-transactions", [("contact_uuid", CONTACT_A), ("limit", "30")])
    assert structured(result) == {
        "transactions": [{"uuid": PREPAID_TX, "amount_in_cents": -1000, "created_at": "2026-01-02T10:00:00+00:00"}],
        "total": 31, "has_more": True, "next_page": 2,
    }  # fmt: skip


async def test_limits_beyond_30_are_refused_with_nothing_sent(piggy: respx.MockRouter) -> None:
    catch = anything(piggy)
    async with Client(server()) as client:
        result = await client.call_tool("list_prepaid_transactions", {"contact_uuid": CONTACT_A, "limit": 31})
    assert result.is_error and not catch.called


async def test_create_previews_and_sends(piggy: respx.MockRouter) -> None:
    write = fake_prepaid_transaction(piggy)
    user = User(**ACCEPT)
    async with connect(server(), "auto", user) as client:
        result = await client.call_tool("create_prepaid_transaction", PREPAID_TX_ARGS)
    assert structured(result)["transaction_uuid"] == PREPAID_TX
    message = user.messages[0]
    for fact in ("Spend 1000 cents", EMAIL, f"is {PREPAID_BALANCE} cents", f"after: {PREPAID_BALANCE - 1000} cents"):
        assert fact in message, (fact, message)
    assert body(write) == {"contact_uuid": CONTACT_A, "amount_in_cents": -1000, "shop_uuid": SHOP}


async def test_a_spend_below_zero_asks_nothing_and_sends_nothing(piggy: respx.MockRouter) -> None:
    write = fake_prepaid_transaction(piggy, balance=500)
    user = User(**ACCEPT)
    args = {k: v for k, v in PREPAID_TX_ARGS.items() if k != "idempotency_key"}
    async with connect(server(), "auto", user) as client:
        result = await client.call_tool("create_prepaid_transaction", args)
    refused(result, "below zero", "Nothing was sent")
    assert user.messages == [] and not write.called


async def test_a_repeated_idempotency_key_sends_nothing_across_servers(piggy: respx.MockRouter) -> None:
    write = fake_prepaid_transaction(piggy)
    for _ in range(2):
        async with connect(server(), "auto", User(**ACCEPT)) as client:
            last = structured(await client.call_tool("create_prepaid_transaction", PREPAID_TX_ARGS))
    assert write.call_count == 1
    assert last["already_processed"] is True and last["transaction_uuid"] == PREPAID_TX


async def test_reverse_finds_the_transaction_and_previews_the_balance(piggy: respx.MockRouter) -> None:
    write = fake_prepaid_reverse(piggy)
    user = User(**ACCEPT)
    async with connect(server(), "auto", user) as client:
        result = await client.call_tool("reverse_prepaid_transaction", PREPAID_REVERSE_ARGS)
    assert structured(result)["status"] == "done"
    assert f"Reverse prepaid transaction {PREPAID_TX} of -1000 cents" in user.messages[0]
    assert f"after: {PREPAID_BALANCE + 1000} cents" in user.messages[0]
    assert write.call_count == 1
