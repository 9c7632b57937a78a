"""The loyalty tools (tools/loyalty.py): get_contact_credit_balance, create_credit_reception, the confirmed
reverse_credit_reception, list_loyalty_transactions and list_shops.

Each sends exactly the request Piggy documents (shared/piggy-api.md §3, §4) and shapes the documented answer; bad
arguments are refused before anything reaches Piggy. For reverse_credit_reception: how its preview finds the
reception among the contact's, what the user is asked, and what is sent once they agreed. That nothing is sent
before the user agreed is tests/tools/test_confirmation_contract.py's.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx
from mcp import Client
from mcp.server import MCPServer

from piggy_mcp.server import build_server
from piggy_mcp.tools.runtime import Runtime
from tests.conftest import CONTACT_A, CONTACT_B, SHOP, make_settings
from tests.helpers import (
    ACCEPT,
    BALANCE,
    EMAIL,
    MODES,
    RECEPTION,
    RECEPTION_CREDITS,
    REVERSAL,
    REVERSE_ARGS,
    REWARD,
    SHOP_2,
    Mode,
    User,
    anything,
    assert_get,
    assert_write,
    connect,
    credit_reception,
    envelope,
    fake_reverse,
    page_meta,
    pairs,
    refused,
    structured,
    text_of,
    the_request,
)

POS_TRANSACTION = "99999999-9999-4999-8999-999999999999"


# get_contact_credit_balance (§3.8) -------------------------------------------------------------------


async def test_get_contact_credit_balance_reads_the_balance(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get(f"/contacts/{CONTACT_A}/credit-balance").respond(200, json=envelope({"balance": 49}))

    result = await client.call_tool("get_contact_credit_balance", {"contact_uuid": CONTACT_A})

    assert result.is_error is False
    assert_get(the_request(route), f"/contacts/{CONTACT_A}/credit-balance")
    assert result.structured_content == {"contact_uuid": CONTACT_A, "balance": 49}


async def test_get_contact_credit_balance_refuses_a_non_uuid(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)

    result = await client.call_tool("get_contact_credit_balance", {"contact_uuid": "1111-not-a-uuid"})

    refused(result, "contact_uuid", "must be a uuid")
    assert catch.called is False


# create_credit_reception (§3.3) ----------------------------------------------------------------------


def credit_reception_data(credits: int, unit_value: float | None, balance: int) -> dict[str, Any]:
    """The documented credit-reception object, with one custom loyalty-transaction attribute flattened in."""
    return {
        "type": "credit_reception",
        "uuid": RECEPTION,
        "credits": credits,
        "created_at": "2026-01-02T10:00:00+00:00",
        "unit_value": unit_value,
        "unit": {"id": 1, "name": "purchase_amount", "label": "Purchase amount", "prefix": "€", "is_default": True},
        "contact": {
            "uuid": CONTACT_A,
            "email": "jane.doe@example.com",
            "credit_balance": {"id": 7, "balance": balance},
        },
        "shop": {
            "id": 3,
            "uuid": SHOP,
            "type": "web",
            "name": "Fake Test Shop",
            "address": {"street": "Teststraat", "housenumber": "1", "postalcode": "0000 AA", "city": "Nowhere"},
        },
        "contact_identifier": None,
        "channel": "API",
        "fake_table_number": "12",
    }


async def test_create_credit_reception_sends_unit_value_and_attributes_top_level(
    client: Client, piggy: respx.MockRouter
) -> None:
    route = piggy.post("/credit-receptions").respond(200, json=envelope(credit_reception_data(10, 10.4, 59), meta={}))

    result = await client.call_tool(
        "create_credit_reception",
        {
            "contact_uuid": CONTACT_A,
            "shop_uuid": SHOP,
            "unit_value": 10.4,
            "unit_name": "purchase_amount",
            "contact_identifier_value": "FAKE-CARD-0001",
            "pos_transaction_uuid": POS_TRANSACTION,
            "attributes": pairs({"fake_table_number": "12", "fake_guests": 3, "fake_takeaway": True}),
        },
    )

    assert result.is_error is False
    assert_write(
        the_request(route),
        "POST",
        "/credit-receptions",
        {
            "contact_uuid": CONTACT_A,
            "shop_uuid": SHOP,
            "unit_value": 10.4,
            "unit_name": "purchase_amount",
            "contact_identifier_value": "FAKE-CARD-0001",
            "pos_transaction_uuid": POS_TRANSACTION,
            "fake_table_number": "12",
            "fake_guests": 3,
            "fake_takeaway": True,
        },
    )
    assert result.structured_content == {"uuid": RECEPTION, "credits": 10, "balance_after": 59}


async def test_create_credit_reception_sends_credits_alone(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.post("/credit-receptions").respond(200, json=envelope(credit_reception_data(-5, None, 44), meta={}))

    result = await client.call_tool(
        "create_credit_reception", {"contact_uuid": CONTACT_A, "shop_uuid": SHOP, "credits": -5}
    )

    assert result.is_error is False
    assert_write(
        the_request(route),
        "POST",
        "/credit-receptions",
        {"contact_uuid": CONTACT_A, "shop_uuid": SHOP, "credits": -5},
    )
    assert result.structured_content == {"uuid": RECEPTION, "credits": -5, "balance_after": 44}


async def test_create_credit_reception_refuses_both_credits_and_unit_value(
    client: Client, piggy: respx.MockRouter
) -> None:
    catch = anything(piggy)

    result = await client.call_tool(
        "create_credit_reception", {"contact_uuid": CONTACT_A, "shop_uuid": SHOP, "credits": 5, "unit_value": 10.4}
    )

    refused(result, "exactly one of credits", "unit_value")
    assert catch.called is False


async def test_create_credit_reception_refuses_neither_credits_nor_unit_value(
    client: Client, piggy: respx.MockRouter
) -> None:
    catch = anything(piggy)

    result = await client.call_tool("create_credit_reception", {"contact_uuid": CONTACT_A, "shop_uuid": SHOP})

    refused(result, "exactly one of credits", "unit_value")
    assert catch.called is False


async def test_create_credit_reception_refuses_non_uuids(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)

    bad_contact = await client.call_tool(
        "create_credit_reception", {"contact_uuid": "jane", "shop_uuid": SHOP, "credits": 5}
    )
    bad_shop = await client.call_tool(
        "create_credit_reception", {"contact_uuid": CONTACT_A, "shop_uuid": "shop-1", "credits": 5}
    )

    refused(bad_contact, "contact_uuid", "must be a uuid")
    refused(bad_shop, "shop_uuid", "must be a uuid")
    assert catch.called is False


# reverse_credit_reception ----------------------------------------------------------------------------------


def scanned(route: respx.Route) -> list[list[tuple[str, str]]]:
    """The query of each loyalty-transactions request the preview made."""
    return [sorted(call.request.url.params.multi_items()) for call in route.calls]


def transactions_query(page: int) -> list[tuple[str, str]]:
    return sorted([("contact_uuid", CONTACT_A), ("type", "credit_receptions"), ("page", str(page)), ("limit", "100")])


@pytest.mark.parametrize("mode", MODES)
async def test_reverse_accepted_through_elicitation_sends_once(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_reverse(piggy)
    user = User(**ACCEPT, probe=lambda: routes.reverse.called)
    async with connect(server, mode, user) as client:
        result = await client.call_tool("reverse_credit_reception", REVERSE_ARGS)

    data = structured(result)
    assert data["status"] == "done"
    assert data["reversal"] == {"uuid": REVERSAL, "credits": -RECEPTION_CREDITS, "balance_after": BALANCE - 30}

    # The preview found the reception among the contact's credit receptions.
    assert scanned(routes.transactions)[0] == transactions_query(1)
    assert len(user.messages) == 1
    message = user.messages[0]
    for fact in (
        f"Take {RECEPTION_CREDITS} credits back",
        EMAIL,
        f"{BALANCE} credits",
        "2026-01-02T10:00:00+00:00",
        f"after: {BALANCE - RECEPTION_CREDITS} credits",
    ):
        assert fact in message, (fact, message)
    assert user.probed == [False]

    assert routes.reverse.call_count == 1
    request: httpx.Request = routes.reverse.calls.last.request
    assert request.url.path.endswith(f"/credit-receptions/{RECEPTION}/reverse")
    assert request.content == b""


@pytest.mark.parametrize("mode", MODES)
async def test_reverse_without_elicitation_round_trips_through_a_token(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_reverse(piggy)
    async with connect(server, mode) as client:
        pending = structured(await client.call_tool("reverse_credit_reception", REVERSE_ARGS))
        assert pending["status"] == "confirmation_required"
        assert pending["preview"] == (
            f"Take {RECEPTION_CREDITS} credits back from {EMAIL}, who has {BALANCE} credits, by reversing the "
            f"credit reception of 2026-01-02T10:00:00+00:00. Balance after: {BALANCE - RECEPTION_CREDITS} credits."
        )
        assert not routes.reverse.called

        # The token names this reception for this contact only.
        other = await client.call_tool(
            "reverse_credit_reception",
            {**REVERSE_ARGS, "contact_uuid": CONTACT_B, "confirmation_token": pending["confirmation_token"]},
        )
        assert other.is_error and "does not match" in text_of(other)
        assert not routes.reverse.called

        done = await client.call_tool(
            "reverse_credit_reception", {**REVERSE_ARGS, "confirmation_token": pending["confirmation_token"]}
        )

    assert structured(done)["status"] == "done"
    assert routes.reverse.call_count == 1


@pytest.mark.parametrize("mode", MODES)
async def test_reverse_without_a_contact_previews_what_happens_and_reads_nothing(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_reverse(piggy)
    only_reception = {"credit_reception_uuid": RECEPTION}
    async with connect(server, mode) as client:
        pending = structured(await client.call_tool("reverse_credit_reception", only_reception))
        assert pending["status"] == "confirmation_required"
        assert pending["preview"].startswith(f"Reverse credit reception {RECEPTION}: Piggy books an opposite")
        # Nothing to read without the contact: Piggy offers no way to read one credit reception.
        assert [call.request.method for call in piggy.calls] == []
        done = await client.call_tool(
            "reverse_credit_reception", {**only_reception, "confirmation_token": pending["confirmation_token"]}
        )
    assert structured(done)["status"] == "done"
    assert routes.reverse.call_count == 1


async def test_reverse_of_a_negative_reception_gives_credits_back(
    server: MCPServer[Runtime], piggy: respx.MockRouter
) -> None:
    fake_reverse(piggy, credits=-10)
    async with connect(server, "auto") as client:
        preview = structured(await client.call_tool("reverse_credit_reception", REVERSE_ARGS))["preview"]
    assert preview.startswith(f"Give 10 credits to {EMAIL}") and f"Balance after: {BALANCE + 10} credits" in preview


@pytest.mark.parametrize("mode", MODES)
async def test_reverse_finds_the_reception_on_a_later_page(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_reverse(piggy)
    pages = {
        "1": {"data": [credit_reception(CONTACT_B, 5)], "meta": page_meta(1, 4)},
        "2": {"data": [credit_reception(RECEPTION, RECEPTION_CREDITS)], "meta": page_meta(2, 4)},
    }
    routes.transactions.side_effect = lambda request: httpx.Response(200, json=pages[request.url.params["page"]])
    async with connect(server, mode) as client:
        preview = structured(await client.call_tool("reverse_credit_reception", REVERSE_ARGS))["preview"]
    assert preview.startswith(f"Take {RECEPTION_CREDITS} credits back")
    assert scanned(routes.transactions) == [transactions_query(1), transactions_query(2)]


@pytest.mark.parametrize("mode", MODES)
async def test_reverse_of_a_reception_the_contact_did_not_get_asks_nothing_and_sends_nothing(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_reverse(piggy)
    # Many pages, none holding the reception: the scan stops after a bounded number of pages.
    routes.transactions.side_effect = lambda request: httpx.Response(
        200, json={"data": [credit_reception(CONTACT_B, 5)], "meta": page_meta(int(request.url.params["page"]), 50)}
    )
    user = User(**ACCEPT)
    async with connect(server, mode, user) as client:
        result = await client.call_tool("reverse_credit_reception", REVERSE_ARGS)

    assert result.is_error
    assert "is not among the latest credit receptions" in text_of(result)
    assert "Nothing was sent" in text_of(result)
    assert scanned(routes.transactions) == [transactions_query(page) for page in (1, 2, 3)]
    assert user.messages == []
    assert not routes.reverse.called


# list_loyalty_transactions ---------------------------------------------------------------------------


def transaction(uuid: str, kind: str, credits: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": kind,
        "uuid": uuid,
        "credits": credits,
        "created_at": "2026-01-02T10:00:00+00:00",
        "shop": {"id": 3, "uuid": SHOP, "name": "Fake Test Shop", "type": "web"},
        "contact": {"uuid": CONTACT_A, "email": EMAIL},
    }
    if kind == "credit_reception":
        item["unit_value"] = 10.4
    else:
        item["title"] = "Free coffee"
    return item


async def test_list_loyalty_transactions_sends_every_filter_and_says_there_is_more(
    client: Client, piggy: respx.MockRouter
) -> None:
    items = [transaction(RECEPTION, "credit_reception", 10), transaction(REWARD, "reward_reception", -50)]
    meta = {"page": 2, "limit": 2, "viewing_from": 3, "viewing_to": 4, "last_page": 3, "total": 6}
    route = piggy.get("/loyalty-transactions").respond(200, json=envelope(items, meta=meta))

    result = await client.call_tool(
        "list_loyalty_transactions", {"contact_uuid": CONTACT_A, "type": "credit_receptions", "page": 2, "limit": 2}
    )

    assert result.is_error is False
    assert_get(
        the_request(route),
        "/loyalty-transactions",
        [("contact_uuid", CONTACT_A), ("limit", "2"), ("page", "2"), ("type", "credit_receptions")],
    )
    assert result.structured_content == {
        "total": 6,
        "has_more": True,
        "next_page": 3,
        "transactions": [
            {
                "type": "credit_reception",
                "uuid": RECEPTION,
                "credits": 10,
                "created_at": "2026-01-02T10:00:00+00:00",
                "unit_value": 10.4,
            },
            {
                "type": "reward_reception",
                "uuid": REWARD,
                "credits": -50,
                "created_at": "2026-01-02T10:00:00+00:00",
                "title": "Free coffee",
            },
        ],
    }


async def test_list_loyalty_transactions_sends_only_what_was_given(client: Client, piggy: respx.MockRouter) -> None:
    meta = {"page": 1, "limit": 10, "viewing_from": 1, "viewing_to": 1, "last_page": 1, "total": 1}
    route = piggy.get("/loyalty-transactions").respond(
        200, json=envelope([transaction(RECEPTION, "credit_reception", 10)], meta=meta)
    )

    result = await client.call_tool("list_loyalty_transactions", {"contact_uuid": CONTACT_A})

    assert_get(the_request(route), "/loyalty-transactions", [("contact_uuid", CONTACT_A)])
    data = result.structured_content
    assert data is not None
    assert (data["total"], data["has_more"]) == (1, False)
    assert "next_page" not in data


@pytest.mark.parametrize(("count", "more"), [(10, True), (9, False)])
async def test_without_pagination_meta_a_full_page_suggests_more(
    client: Client, piggy: respx.MockRouter, count: int, more: bool
) -> None:
    items = [transaction(f"66666666-6666-4666-8666-6666666666{i:02d}", "credit_reception", 1) for i in range(count)]
    piggy.get("/loyalty-transactions").respond(200, json=envelope(items))

    result = await client.call_tool("list_loyalty_transactions", {"contact_uuid": CONTACT_A})

    data = result.structured_content
    assert data is not None
    assert data["has_more"] is more
    assert "total" not in data
    if more:
        assert data["next_page"] == 2
    else:
        assert "next_page" not in data


# list_shops ------------------------------------------------------------------------------------------------


async def test_list_shops(client: Client, piggy: respx.MockRouter) -> None:
    shops = [
        {"id": 3, "uuid": SHOP, "name": "Fake Test Shop", "type": "physical", "reference": "FAKE-1"},
        {"id": 4, "uuid": SHOP_2, "name": "Fake Web Shop", "type": "web", "reference": None, "address": {}},
    ]
    route = piggy.get("/shops").respond(200, json=envelope(shops))

    result = await client.call_tool("list_shops", {})

    assert result.is_error is False
    assert_get(the_request(route), "/shops")
    assert result.structured_content == {
        "shops": [
            {"uuid": SHOP, "name": "Fake Test Shop", "type": "physical", "reference": "FAKE-1"},
            {"uuid": SHOP_2, "name": "Fake Web Shop", "type": "web"},
        ]
    }


# idempotency_key -------------------------------------------------------------------------------------------


async def test_an_award_repeated_with_its_idempotency_key_is_answered_and_not_sent(piggy: respx.MockRouter) -> None:
    route = piggy.post("/credit-receptions").respond(200, json=envelope(credit_reception_data(10, None, 59)))
    award = {"contact_uuid": CONTACT_A, "shop_uuid": SHOP, "credits": 10, "idempotency_key": "order-1001"}
    # Two servers sharing one state directory, as the stdio processes of one desktop do.
    async with Client(build_server(make_settings())) as first, Client(build_server(make_settings())) as second:
        sent = structured(await first.call_tool("create_credit_reception", award))
        again = structured(await second.call_tool("create_credit_reception", award))
        other = structured(await first.call_tool("create_credit_reception", {**award, "idempotency_key": "order-1002"}))
    assert route.call_count == 2  # the first and the other key; never the repeat
    assert "already_processed" not in sent and "already_processed" not in other
    assert again == {**sent, "already_processed": True}


async def test_without_an_idempotency_key_an_award_is_sent_each_time(piggy: respx.MockRouter) -> None:
    route = piggy.post("/credit-receptions").respond(200, json=envelope(credit_reception_data(10, None, 59)))
    award = {"contact_uuid": CONTACT_A, "shop_uuid": SHOP, "credits": 10}
    async with Client(build_server(make_settings())) as client:
        for _ in range(2):
            assert not (await client.call_tool("create_credit_reception", award)).is_error
    assert route.call_count == 2
