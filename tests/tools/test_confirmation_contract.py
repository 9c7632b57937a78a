"""The confirmation contract, for every confirmed tool and both protocol eras.

Whatever the tool: nothing reaches Piggy's write endpoint before the user agreed; an elicitation that is
accepted sends the write once, one declined, cancelled or unticked sends nothing; without elicitation the
tool answers with a preview and a token, and only that token, for exactly these arguments and unexpired,
sends the write, once. What each preview says is tested beside its tool.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import respx

from piggy_mcp.selection import select_tools
from piggy_mcp.server import build_server
from piggy_mcp.signing import Signer
from tests.conftest import CONTACT_B, make_settings
from tests.helpers import (
    ACCEPT,
    ACCEPT_UNTICKED,
    CANCEL,
    CARD_REVERSE_ARGS,
    CARD_TX_ARGS,
    CLAIM_ARGS,
    DECLINE,
    DELETE_ARGS,
    MERGE_ARGS,
    MODES,
    ORDER_RETURN_ARGS,
    PREPAID_REVERSE_ARGS,
    PREPAID_TX_ARGS,
    REDEEM_ARGS,
    REVERSE_ARGS,
    REVERSE_REWARD_ARGS,
    SHOP_2,
    Mode,
    User,
    connect,
    fake_card_reverse,
    fake_card_transaction,
    fake_claim,
    fake_delete,
    fake_merge,
    fake_order_return,
    fake_prepaid_reverse,
    fake_prepaid_transaction,
    fake_redeem,
    fake_reverse,
    fake_reverse_reward,
    structured,
    text_of,
)

CONTACT_C = "77777777-7777-4777-8777-777777777777"


@dataclass(frozen=True)
class Case:
    arguments: dict[str, Any]
    # The same call with one argument changed: a token for `arguments` must not confirm it.
    other_arguments: dict[str, Any]
    # Fakes what the preview reads; returns the write's route.
    fake: Callable[[respx.MockRouter], respx.Route]


CASES = {
    "merge_contacts": Case(
        MERGE_ARGS,
        {**MERGE_ARGS, "destination_contact_uuid": CONTACT_C},
        lambda piggy: fake_merge(piggy).merge,
    ),
    "claim_anonymous_contact": Case(
        CLAIM_ARGS,
        {**CLAIM_ARGS, "email": "someone.else@example.com"},
        lambda piggy: fake_claim(piggy, existing=False).claim,
    ),
    "redeem_reward": Case(
        REDEEM_ARGS,
        {**REDEEM_ARGS, "shop_uuid": SHOP_2},
        lambda piggy: fake_redeem(piggy).redeem,
    ),
    "reverse_credit_reception": Case(
        REVERSE_ARGS,
        {**REVERSE_ARGS, "contact_uuid": CONTACT_B},
        lambda piggy: fake_reverse(piggy).reverse,
    ),
    "delete_contact": Case(
        DELETE_ARGS,
        {**DELETE_ARGS, "type": "DEFAULT"},
        lambda piggy: fake_delete(piggy).delete,
    ),
    "reverse_reward_reception": Case(
        REVERSE_REWARD_ARGS,
        {**REVERSE_REWARD_ARGS, "contact_uuid": CONTACT_B},
        lambda piggy: fake_reverse_reward(piggy).reverse,
    ),
    "create_order_return": Case(
        ORDER_RETURN_ARGS,
        {**ORDER_RETURN_ARGS, "order_external_identifier": "WEB-1002"},
        fake_order_return,
    ),
    "create_giftcard_transaction": Case(
        CARD_TX_ARGS, {**CARD_TX_ARGS, "amount_in_cents": -1}, lambda piggy: fake_card_transaction(piggy)
    ),
    "reverse_giftcard_transaction": Case(
        CARD_REVERSE_ARGS, {"giftcard_transaction_uuid": CONTACT_C}, lambda piggy: fake_card_reverse(piggy)
    ),
    "create_prepaid_transaction": Case(
        PREPAID_TX_ARGS, {**PREPAID_TX_ARGS, "amount_in_cents": -1}, lambda piggy: fake_prepaid_transaction(piggy)
    ),
    "reverse_prepaid_transaction": Case(
        PREPAID_REVERSE_ARGS,
        {**PREPAID_REVERSE_ARGS, "contact_uuid": CONTACT_B},
        lambda piggy: fake_prepaid_reverse(piggy),
    ),
}
CONFIRMED = sorted(spec.name for spec in select_tools(toolsets=["all"]) if spec.confirmed)


def test_every_confirmed_tool_is_covered_and_every_destructive_tool_is_confirmed() -> None:
    assert sorted(CASES) == CONFIRMED
    destructive = sorted(spec.name for spec in select_tools(toolsets=["all"]) if spec.annotations.destructive_hint)
    assert destructive == CONFIRMED


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("tool", CONFIRMED)
async def test_an_accepted_elicitation_sends_the_write_once_after_the_question(
    piggy: respx.MockRouter, tool: str, mode: Mode
) -> None:
    case = CASES[tool]
    write = case.fake(piggy)
    user = User(**ACCEPT, probe=lambda: write.called)
    async with connect(build_server(make_settings(toolsets=["all"])), mode, user) as client:
        result = await client.call_tool(tool, case.arguments)
    assert structured(result)["status"] == "done"
    assert user.probed == [False]  # asked once, before anything was written
    assert write.call_count == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("answer", [DECLINE, CANCEL, ACCEPT_UNTICKED], ids=["decline", "cancel", "unticked"])
@pytest.mark.parametrize("tool", CONFIRMED)
async def test_anything_but_a_yes_sends_nothing(
    piggy: respx.MockRouter, tool: str, answer: dict[str, Any], mode: Mode
) -> None:
    case = CASES[tool]
    write = case.fake(piggy)
    async with connect(build_server(make_settings(toolsets=["all"])), mode, User(**answer)) as client:
        result = await client.call_tool(tool, case.arguments)
    data = structured(result)
    assert data["status"] == "cancelled"
    assert "Nothing was sent" in data["message"]
    assert not write.called


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("tool", CONFIRMED)
async def test_without_elicitation_a_token_confirms_exactly_one_write(
    piggy: respx.MockRouter, tool: str, mode: Mode
) -> None:
    case = CASES[tool]
    write = case.fake(piggy)
    async with connect(build_server(make_settings(toolsets=["all"])), mode) as client:
        first = await client.call_tool(tool, case.arguments)
        pending = structured(first)
        assert pending["status"] == "confirmation_required"
        assert pending["preview"]
        token = pending["confirmation_token"]
        assert token in text_of(first)  # a model that reads only the text gets it too
        assert not write.called

        done = await client.call_tool(tool, {**case.arguments, "confirmation_token": token})
        assert structured(done)["status"] == "done"
        assert write.call_count == 1

        again = await client.call_tool(tool, {**case.arguments, "confirmation_token": token})
    assert again.is_error
    assert "already used" in text_of(again)
    assert write.call_count == 1


def _expired_token(tool: str, arguments: dict[str, Any]) -> str:
    settings = make_settings()
    issued_long_ago = Signer(settings.derived_key("confirmation"), 60, clock=lambda: time.time() - 3600)
    return issued_long_ago.issue(tool, arguments, "the preview")


def refused_call(refusal: str, tool: str, case: Case, token: str) -> tuple[dict[str, Any], str]:
    """Arguments that present a token wrongly, given a valid token for the case's arguments, and what the
    refusal must say."""
    if refusal == "garbage":
        return {**case.arguments, "confirmation_token": "yes-please"}, "not a token"
    if refusal == "other-arguments":
        return {**case.other_arguments, "confirmation_token": token}, "does not match"
    assert refusal == "expired"
    return {**case.arguments, "confirmation_token": _expired_token(tool, case.arguments)}, "expired"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("refusal", ["garbage", "other-arguments", "expired"])
@pytest.mark.parametrize("tool", CONFIRMED)
async def test_a_wrong_token_is_refused_and_sends_nothing(
    piggy: respx.MockRouter, tool: str, refusal: str, mode: Mode
) -> None:
    case = CASES[tool]
    write = case.fake(piggy)
    async with connect(build_server(make_settings(toolsets=["all"])), mode) as client:
        token = structured(await client.call_tool(tool, case.arguments))["confirmation_token"]
        arguments, says = refused_call(refusal, tool, case, token)
        result = await client.call_tool(tool, arguments)
    assert result.is_error
    assert says in text_of(result)
    assert "Nothing was sent" in text_of(result)
    assert not write.called
