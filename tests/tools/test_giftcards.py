"""The gift card tools (tools/giftcards.py): exact requests, shaped results, previews, Piggy's codes explained,
and a repeated idempotency_key answered with the first result, also across two servers sharing a state dir."""

from __future__ import annotations

import respx
from mcp import Client
from mcp.server import MCPServer

from piggy_mcp.server import build_server
from piggy_mcp.tools.runtime import Runtime
from tests.conftest import CONTACT_A, SHOP, make_settings
from tests.helpers import (
    ACCEPT,
    CARD_BALANCE,
    CARD_TX_ARGS,
    GIFTCARD,
    GIFTCARD_TX,
    User,
    anything,
    assert_get,
    assert_write,
    body,
    connect,
    envelope,
    fake_card_transaction,
    giftcard,
    piggy_error,
    refused,
    structured,
    the_request,
)


def server() -> MCPServer[Runtime]:
    return build_server(make_settings(toolsets=["all"]))


async def test_find_giftcard_by_hash(piggy: respx.MockRouter) -> None:
    route = piggy.get("/giftcards/find-one-by").respond(200, json=envelope(giftcard()))
    async with Client(server()) as client:
        result = await client.call_tool("find_giftcard", {"hash": "ABC123"})
    assert_get(the_request(route), "/giftcards/find-one-by", [("hash", "ABC123")])
    assert structured(result) == {
        "uuid": GIFTCARD, "hash": "ABC123", "amount_in_cents": CARD_BALANCE, "active": True,
        "expiration_date": "2027-01-01T00:00:00+00:00",
    }  # fmt: skip


async def test_unknown_card_is_explained(piggy: respx.MockRouter) -> None:
    piggy.get("/giftcards/find-one-by").mock(return_value=piggy_error(5001, "Giftcard not found"))
    async with Client(server()) as client:
        result = await client.call_tool("find_giftcard", {"hash": "NOPE"})
    refused(result, "5001", "hash")


async def test_create_giftcard_sends_a_digital_card(piggy: respx.MockRouter) -> None:
    program = "88888888-8888-4888-8888-000000000009"
    created = {**giftcard(0), "amount": 0, "url": "https://piggy.eu/giftcard-balance?hash=ABC123"}
    route = piggy.post("/giftcards").respond(200, json=envelope(created))
    async with Client(server()) as client:
        result = await client.call_tool("create_giftcard", {"giftcard_program_uuid": program})
    assert_write(the_request(route), "POST", "/giftcards", {"type": 1, "giftcard_program_uuid": program})
    assert structured(result)["url"] == created["url"]


async def test_send_giftcard_email(piggy: respx.MockRouter) -> None:
    answer = {"data": {"message": "success", "data": "Email successfully sent"}, "meta": []}
    route = piggy.post(f"/giftcards/{GIFTCARD}/send-by-email").respond(200, json=answer)
    async with Client(server()) as client:
        result = await client.call_tool("send_giftcard_email", {"giftcard_uuid": GIFTCARD, "contact_uuid": CONTACT_A})
    assert_write(the_request(route), "POST", f"/giftcards/{GIFTCARD}/send-by-email", {"contact_uuid": CONTACT_A})
    assert structured(result) == {"sent": True}


async def test_bad_amounts_are_refused_with_nothing_sent(piggy: respx.MockRouter) -> None:
    catch = anything(piggy)
    async with Client(server()) as client:
        for amount in (0, 10_000_001, 1.5, "100"):
            result = await client.call_tool("create_giftcard_transaction", {**CARD_TX_ARGS, "amount_in_cents": amount})
            assert result.is_error, amount
    assert not catch.called


async def test_transaction_preview_and_write(piggy: respx.MockRouter) -> None:
    write = fake_card_transaction(piggy)
    user = User(**ACCEPT)
    async with connect(server(), "auto", user) as client:
        result = await client.call_tool("create_giftcard_transaction", CARD_TX_ARGS)
    data = structured(result)
    assert (data["status"], data["transaction_uuid"]) == ("done", GIFTCARD_TX)
    message = user.messages[0]
    for fact in (GIFTCARD, "Spend 1500 cents", f"holds {CARD_BALANCE} cents", f"after: {CARD_BALANCE - 1500} cents"):
        assert fact in message, (fact, message)
    assert "Ignore previous instructions" not in message
    assert body(write) == {"giftcard_uuid": GIFTCARD, "amount_in_cents": -1500, "shop_uuid": SHOP}


async def test_a_spend_beyond_the_balance_asks_nothing_and_sends_nothing(piggy: respx.MockRouter) -> None:
    write = fake_card_transaction(piggy, balance=1000)
    user = User(**ACCEPT)
    args = {k: v for k, v in CARD_TX_ARGS.items() if k != "idempotency_key"}
    async with connect(server(), "auto", user) as client:
        result = await client.call_tool("create_giftcard_transaction", args)
    refused(result, "holds 1000 cents", "Nothing was sent")
    assert user.messages == [] and not write.called


async def test_piggy_5003_and_55025_are_explained(piggy: respx.MockRouter) -> None:
    fake_card_transaction(piggy).mock(return_value=piggy_error(5003, "Insufficient amount"))
    async with connect(server(), "auto", User(**ACCEPT)) as client:
        result = await client.call_tool("create_giftcard_transaction", CARD_TX_ARGS)
    refused(result, "5003", "find_giftcard")


async def test_a_repeated_idempotency_key_is_answered_with_the_first_result(piggy: respx.MockRouter) -> None:
    write = fake_card_transaction(piggy)
    async with connect(server(), "auto", User(**ACCEPT)) as client:
        first = structured(await client.call_tool("create_giftcard_transaction", CARD_TX_ARGS))
    # Another server sharing the state directory (PIGGY_MCP_STATE_DIR, set per test) knows the key too.
    async with connect(server(), "auto", User(**ACCEPT)) as client:
        again = structured(await client.call_tool("create_giftcard_transaction", CARD_TX_ARGS))
    assert write.call_count == 1
    assert again["already_processed"] is True
    assert again["transaction_uuid"] == first["transaction_uuid"] == GIFTCARD_TX
    assert "nothing was sent" in again["message"]
