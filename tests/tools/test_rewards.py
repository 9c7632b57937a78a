"""The rewards tools (tools/rewards.py): list_rewards, and the confirmed redeem_reward.

list_rewards sends exactly the request Piggy documents (§4) and shapes the answer. For redeem_reward: what the
user is asked (the reward, its cost, the balance now and after), the preview a client without elicitation gets,
what is sent once they agreed, the redemptions refused before anything is asked, and a token that confirms no
other redemption and no other tool. That nothing is sent before the user agreed is
tests/tools/test_confirmation_contract.py's.
"""

from __future__ import annotations

from typing import Any

import pytest
import respx
from mcp import Client
from mcp.server import MCPServer

from piggy_mcp.tools.runtime import Runtime
from tests.conftest import CONTACT_A, SHOP
from tests.helpers import (
    ACCEPT,
    BALANCE,
    COST,
    EMAIL,
    MERGE_ARGS,
    MODES,
    RECEPTION,
    REDEEM_ARGS,
    REWARD,
    REWARD_TITLE,
    SHOP_2,
    Mode,
    User,
    assert_get,
    body,
    connect,
    envelope,
    fake_merge,
    fake_redeem,
    structured,
    text_of,
    the_request,
)

# list_rewards ------------------------------------------------------------------------------------------


def reward_data(uuid: str, title: str, cost: int) -> dict[str, Any]:
    return {
        "uuid": uuid,
        "id": 9,
        "title": title,
        "description": "Fake reward",
        "required_credits": cost,
        "reward_type": "DIGITAL",
        "type": "digital_reward",
        "is_active": True,
        "media": {"type": "image", "value": "https://fake.example/img.png"},
        "pre_redeemable": False,
        "expiration_duration": None,
        "stock": None,
        "cost_price": 100,
    }


async def test_list_rewards_for_a_contact_in_a_shop(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get("/rewards").respond(200, json=envelope([reward_data(REWARD, "Free coffee", 50)]))

    result = await client.call_tool("list_rewards", {"contact_uuid": CONTACT_A, "shop_uuid": SHOP})

    assert result.is_error is False
    assert_get(the_request(route), "/rewards", [("contact_uuid", CONTACT_A), ("shop_uuid", SHOP)])
    assert result.structured_content == {
        "rewards": [
            {
                "uuid": REWARD,
                "title": "Free coffee",
                "description": "Fake reward",
                "required_credits": 50,
                "reward_type": "DIGITAL",
                "is_active": True,
            }
        ]
    }


async def test_list_rewards_without_filters(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get("/rewards").respond(200, json=envelope([]))

    result = await client.call_tool("list_rewards", {})

    assert_get(the_request(route), "/rewards")
    assert result.structured_content == {"rewards": []}


# redeem_reward -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_redeem_accepted_through_elicitation_sends_once(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_redeem(piggy)
    user = User(**ACCEPT, probe=lambda: routes.redeem.called)
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

    # Asked once, before anything was sent, about the reward, its cost and the balance now and after; the reward
    # by its uuid, since its title is text that staff wrote.
    assert len(user.messages) == 1
    message = user.messages[0]
    for fact in (REWARD, f"{COST} credits", EMAIL, f"{BALANCE} credits", f"after: {BALANCE - COST} credits"):
        assert fact in message, (fact, message)
    assert REWARD_TITLE not in message
    assert user.probed == [False]

    assert routes.redeem.call_count == 1
    assert body(routes.redeem) == REDEEM_ARGS


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
            f"Redeem reward {REWARD} for {COST} credits for {EMAIL}, who has {BALANCE} credits. "
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
    user = User(**ACCEPT)
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
    user = User(**ACCEPT)
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
