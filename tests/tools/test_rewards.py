"""Confirmation before spending or taking back credits: redeem_reward and reverse_credit_reception.

As for merges: nothing reaches Piggy's write endpoints until the user agreed, through elicitation (both protocol
eras) or, for a client without elicitation, through a signed confirmation_token on a second call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import respx
from mcp.server import MCPServer

from piggy_mcp.tools.runtime import Runtime
from tests.conftest import CONTACT_A, CONTACT_B, SHOP
from tests.test_confirmation import (
    ACCEPT,
    ACCEPT_UNTICKED,
    CANCEL,
    DECLINE,
    MERGE_ARGS,
    MODES,
    Mode,
    User,
    body,
    connect,
    contact,
    envelope,
    fake_merge,
    structured,
    text_of,
)

REWARD = "dddddddd-0000-4000-8000-000000000001"
RECEPTION = "66666666-6666-4666-8666-666666666666"
REVERSAL = "66666666-6666-4666-8666-777777777777"
SHOP_2 = "33333333-3333-4333-8333-333333333334"

EMAIL = "jane.doe@example.com"
BALANCE = 120
REWARD_TITLE = "Free coffee"
COST = 50
RECEPTION_CREDITS = 30

REDEEM_ARGS = {"contact_uuid": CONTACT_A, "reward_uuid": REWARD, "shop_uuid": SHOP}
REVERSE_ARGS = {"credit_reception_uuid": RECEPTION, "contact_uuid": CONTACT_A}


def reward(*, cost: int = COST, active: bool = True) -> dict[str, Any]:
    return {
        "uuid": REWARD,
        "id": 9,
        "title": REWARD_TITLE,
        "description": "Fake reward",
        "required_credits": cost,
        "reward_type": "DIGITAL",
        "is_active": active,
        "stock": None,
    }


def reward_reception() -> dict[str, Any]:
    """The documented reward-reception answer (§4)."""
    return {
        "type": "digital_reward_reception",
        "uuid": RECEPTION,
        "title": REWARD_TITLE,
        "credits": -COST,
        "contact": {"uuid": CONTACT_A, "credit_balance": {"id": 7, "balance": BALANCE - COST}},
        "shop": {"uuid": SHOP, "name": "Fake Test Shop"},
        "reward": reward(),
        "expires_at": "2026-12-31T23:59:00+00:00",
        "has_been_collected": False,
        "digital_reward_code": "FAKE-DRC-0001",
    }


def credit_reception(uuid: str, credits: int) -> dict[str, Any]:
    return {
        "type": "credit_reception",
        "uuid": uuid,
        "credits": credits,
        "created_at": "2026-01-02T10:00:00+00:00",
        "unit_value": 10.4,
        "shop": {"uuid": SHOP, "name": "Fake Test Shop"},
    }


def page_meta(page: int, last_page: int) -> dict[str, Any]:
    return {"page": page, "limit": 100, "last_page": last_page, "total": last_page * 100}


# Piggy, faked ------------------------------------------------------------------------------------


@dataclass
class RedeemRoutes:
    contact: respx.Route
    reward: respx.Route
    redeem: respx.Route


@dataclass
class ReverseRoutes:
    contact: respx.Route
    transactions: respx.Route
    reverse: respx.Route


def fake_redeem(piggy: respx.MockRouter, *, balance: int = BALANCE, **reward_kwargs: Any) -> RedeemRoutes:
    return RedeemRoutes(
        contact=piggy.get(f"/contacts/{CONTACT_A}").respond(200, json=envelope(contact(CONTACT_A, EMAIL, balance))),
        reward=piggy.get(f"/rewards/{REWARD}").respond(200, json=envelope(reward(**reward_kwargs))),
        redeem=piggy.post("/reward-receptions").respond(200, json=envelope(reward_reception())),
    )


def fake_reverse(piggy: respx.MockRouter, *, credits: int = RECEPTION_CREDITS) -> ReverseRoutes:
    others = [credit_reception(f"66666666-6666-4666-8666-0000000000{i:02d}", 5) for i in range(3)]
    reversal = {
        **credit_reception(REVERSAL, -credits),
        "contact": {"uuid": CONTACT_A, "credit_balance": {"id": 7, "balance": BALANCE - credits}},
    }
    return ReverseRoutes(
        contact=piggy.get(f"/contacts/{CONTACT_A}").respond(200, json=envelope(contact(CONTACT_A, EMAIL, BALANCE))),
        transactions=piggy.get("/loyalty-transactions").respond(
            200, json={"data": [*others, credit_reception(RECEPTION, credits)], "meta": page_meta(1, 1)}
        ),
        reverse=piggy.post(f"/credit-receptions/{RECEPTION}/reverse").respond(200, json=envelope(reversal)),
    )


def scanned(route: respx.Route) -> list[list[tuple[str, str]]]:
    """The query of each loyalty-transactions request the preview made."""
    return [sorted(call.request.url.params.multi_items()) for call in route.calls]


def transactions_query(page: int) -> list[tuple[str, str]]:
    return sorted([("contact_uuid", CONTACT_A), ("type", "credit_receptions"), ("page", str(page)), ("limit", "100")])


# The tools' shape --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_confirmation_is_not_an_argument_the_model_can_fill(server: MCPServer[Runtime], mode: Mode) -> None:
    async with connect(server, mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    # (tool, its arguments, the required ones); reverse's contact_uuid only enriches the preview.
    for name, own, required in [
        ("redeem_reward", set(REDEEM_ARGS), set(REDEEM_ARGS)),
        ("reverse_credit_reception", set(REVERSE_ARGS), {"credit_reception_uuid"}),
    ]:
        tool = tools[name]
        assert set(tool.input_schema["properties"]) == own | {"confirmation_token"}
        assert set(tool.input_schema.get("required", [])) == required
        assert tool.annotations is not None
        assert tool.annotations.destructive_hint is True
        assert tool.annotations.read_only_hint is False
        assert tool.annotations.idempotent_hint is False


# redeem_reward -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_redeem_accepted_through_elicitation_sends_once(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_redeem(piggy)
    user = User(**ACCEPT, probe=lambda: routes.redeem.called)  # type: ignore[arg-type]
    async with connect(server, mode, user) as client:
        result = await client.call_tool("redeem_reward", REDEEM_ARGS)

    data = structured(result)
    assert data["status"] == "done"
    assert "confirmation_token" not in data
    assert data["reception"] == {
        "uuid": RECEPTION,
        "credits": -COST,
        "balance_after": BALANCE - COST,
        "expires_at": "2026-12-31T23:59:00+00:00",
        "digital_reward_code": "FAKE-DRC-0001",
    }

    # Asked once, before anything was sent, about the reward, its cost and the balance now and after.
    assert len(user.messages) == 1
    message = user.messages[0]
    for fact in (REWARD_TITLE, f"{COST} credits", EMAIL, f"{BALANCE} credits", f"after: {BALANCE - COST} credits"):
        assert fact in message, (fact, message)
    assert user.probed == [False]

    assert routes.redeem.call_count == 1
    assert body(routes.redeem) == REDEEM_ARGS


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("answer", [ACCEPT_UNTICKED, DECLINE, CANCEL], ids=["unticked", "decline", "cancel"])
async def test_redeem_not_confirmed_sends_nothing(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode, answer: dict[str, Any]
) -> None:
    routes = fake_redeem(piggy)
    user = User(**answer)
    async with connect(server, mode, user) as client:
        result = await client.call_tool("redeem_reward", REDEEM_ARGS)

    data = structured(result)
    assert data["status"] == "cancelled"
    assert "Nothing was sent" in data["message"]
    assert "reception" not in data
    assert len(user.messages) == 1
    assert not routes.redeem.called


@pytest.mark.parametrize("mode", MODES)
async def test_redeem_without_elicitation_round_trips_through_a_token(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_redeem(piggy)
    async with connect(server, mode) as client:
        first = await client.call_tool("redeem_reward", REDEEM_ARGS)

        pending = structured(first)
        assert pending["status"] == "confirmation_required"
        assert pending["preview"] == (
            f'Redeem reward "{REWARD_TITLE}" for {COST} credits for {EMAIL}, who has {BALANCE} credits. '
            f"Balance after: {BALANCE - COST} credits."
        )
        assert "reception" not in pending
        token = pending["confirmation_token"]
        assert token in text_of(first)
        assert not routes.redeem.called

        second = await client.call_tool("redeem_reward", {**REDEEM_ARGS, "confirmation_token": token})

    done = structured(second)
    assert done["status"] == "done"
    assert done["reception"]["digital_reward_code"] == "FAKE-DRC-0001"
    assert routes.redeem.call_count == 1
    assert body(routes.redeem) == REDEEM_ARGS


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ({"balance": COST - 1}, f"it costs {COST} credits"),
        ({"active": False}, "inactive"),
    ],
    ids=["insufficient-credits", "inactive-reward"],
)
async def test_redeem_that_cannot_succeed_asks_nothing_and_sends_nothing(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode, setup: dict[str, Any], expected: str
) -> None:
    routes = fake_redeem(piggy, **setup)
    user = User(**ACCEPT)  # type: ignore[arg-type]
    async with connect(server, mode, user) as client:
        result = await client.call_tool("redeem_reward", REDEEM_ARGS)

    assert result.is_error
    assert expected in text_of(result)
    assert "Nothing was sent" in text_of(result)
    assert user.messages == []
    assert not routes.redeem.called


@pytest.mark.parametrize("mode", MODES)
async def test_redeem_of_an_unknown_reward_asks_nothing_and_sends_nothing(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_redeem(piggy)
    routes.reward.respond(400, json={"message": "Reward not found", "code": 6003, "status_code": 400})
    user = User(**ACCEPT)  # type: ignore[arg-type]
    async with connect(server, mode, user) as client:
        result = await client.call_tool("redeem_reward", REDEEM_ARGS)

    assert result.is_error
    assert "6003" in text_of(result)
    assert user.messages == []
    assert not routes.redeem.called


@pytest.mark.parametrize("mode", MODES)
async def test_redeem_token_for_another_shop_or_tool_is_refused(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    merge = fake_merge(piggy).merge
    routes = fake_redeem(piggy)  # after the merge's routes: its contact read wins
    async with connect(server, mode) as client:
        token = structured(await client.call_tool("redeem_reward", REDEEM_ARGS))["confirmation_token"]
        other_shop = await client.call_tool(
            "redeem_reward", {**REDEEM_ARGS, "shop_uuid": SHOP_2, "confirmation_token": token}
        )
        merge_token = structured(await client.call_tool("merge_contacts", MERGE_ARGS))["confirmation_token"]
        cross_tool = await client.call_tool("redeem_reward", {**REDEEM_ARGS, "confirmation_token": merge_token})
    for result in (other_shop, cross_tool):
        assert result.is_error
        assert "does not match" in text_of(result)
        assert "Nothing was sent" in text_of(result)
    assert not routes.redeem.called
    assert not merge.called


# reverse_credit_reception ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_reverse_accepted_through_elicitation_sends_once(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_reverse(piggy)
    user = User(**ACCEPT, probe=lambda: routes.reverse.called)  # type: ignore[arg-type]
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
@pytest.mark.parametrize("answer", [ACCEPT_UNTICKED, DECLINE, CANCEL], ids=["unticked", "decline", "cancel"])
async def test_reverse_not_confirmed_sends_nothing(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode, answer: dict[str, Any]
) -> None:
    routes = fake_reverse(piggy)
    user = User(**answer)
    async with connect(server, mode, user) as client:
        result = await client.call_tool("reverse_credit_reception", REVERSE_ARGS)

    assert structured(result)["status"] == "cancelled"
    assert len(user.messages) == 1
    assert not routes.reverse.called


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
    user = User(**ACCEPT)  # type: ignore[arg-type]
    async with connect(server, mode, user) as client:
        result = await client.call_tool("reverse_credit_reception", REVERSE_ARGS)

    assert result.is_error
    assert "is not among the latest credit receptions" in text_of(result)
    assert "Nothing was sent" in text_of(result)
    assert scanned(routes.transactions) == [transactions_query(page) for page in (1, 2, 3)]
    assert user.messages == []
    assert not routes.reverse.called


@pytest.mark.parametrize(
    ("tool", "args", "path"),
    [
        ("redeem_reward", REDEEM_ARGS, "/reward-receptions"),
        ("reverse_credit_reception", REVERSE_ARGS, f"/credit-receptions/{RECEPTION}/reverse"),
    ],
)
async def test_an_undocumented_success_answer_is_still_done(
    server: MCPServer[Runtime], piggy: respx.MockRouter, tool: str, args: dict[str, str], path: str
) -> None:
    """After Piggy accepted the write, an odd answer must not read as a failure the model would retry."""
    fake_redeem(piggy)
    fake_reverse(piggy)
    write = piggy.post(path).respond(204)
    user = User(**ACCEPT)  # type: ignore[arg-type]
    async with connect(server, "auto", user) as client:
        data = structured(await client.call_tool(tool, args))
    assert data["status"] == "done"
    assert write.call_count == 1
