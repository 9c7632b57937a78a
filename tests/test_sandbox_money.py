"""The sandbox's gift cards and prepaid balances (sandbox/giftcards.py, sandbox/prepaid.py), through PiggyAPI.

Gift cards start at 0 and never go below it (5003); only a card's latest transaction can be reversed (55025);
prepaid balances move with their transactions and never go below zero.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from piggy_mcp.piggy import PiggyAPI, PiggyClient
from piggy_mcp.piggy.errors import InvalidInputError, NotFoundError, RejectedError
from piggy_mcp.sandbox import SEED, create_app
from tests.test_sandbox import KEY, ManualClock, settings

STORE = SEED.shops.store
EMMA = SEED.contacts.emma


@pytest.fixture
async def api() -> AsyncIterator[PiggyAPI]:
    app = create_app(api_key=KEY, clock=ManualClock())
    async with PiggyClient(settings(), transport=httpx.ASGITransport(app)) as client:
        yield PiggyAPI(client, default_shop=STORE)


async def test_the_seeded_program_and_card(api: PiggyAPI) -> None:
    programs = await api.list_giftcard_programs()
    assert [p.uuid for p in programs] == [SEED.giftcards.program]
    card = await api.find_giftcard(SEED.giftcards.card_hash)
    assert (card.uuid, card.amount_in_cents) == (SEED.giftcards.card, 2500)
    with pytest.raises(NotFoundError) as caught:
        await api.find_giftcard("NO-SUCH-CARD")
    assert caught.value.code == 5001


async def test_a_new_card_starts_at_zero_is_loaded_once_and_never_goes_negative(api: PiggyAPI) -> None:
    card = await api.create_giftcard(SEED.giftcards.program)
    assert card.amount_in_cents == 0 and card.url and card.hash
    with pytest.raises(RejectedError) as caught:
        await api.create_giftcard_transaction(card.uuid, -1, None)
    assert caught.value.code == 5003
    load = await api.create_giftcard_transaction(card.uuid, 1000, None)
    assert (load.amount_in_cents, load.giftcard_uuid) == (1000, card.uuid)
    spend = await api.create_giftcard_transaction(card.uuid, -400, None)
    assert (await api.get_giftcard(card.uuid)).amount_in_cents == 600
    with pytest.raises(RejectedError) as caught:
        await api.create_giftcard_transaction(card.uuid, -601, None)
    assert caught.value.code == 5003

    # Only the latest transaction can be reversed.
    with pytest.raises(RejectedError) as caught:
        await api.reverse_giftcard_transaction(load.uuid or "")
    assert caught.value.code == 55025
    reversal = await api.reverse_giftcard_transaction(spend.uuid or "")
    assert reversal.amount_in_cents == 400
    assert (await api.get_giftcard(card.uuid)).amount_in_cents == 1000
    assert (await api.get_giftcard_transaction(spend.uuid or "")).amount_in_cents == -400


async def test_the_program_maximum_and_unknown_programs(api: PiggyAPI) -> None:
    card = await api.create_giftcard(SEED.giftcards.program)
    with pytest.raises(RejectedError) as caught:
        await api.create_giftcard_transaction(card.uuid, 15_001, None)
    assert caught.value.code == 5008
    with pytest.raises(NotFoundError) as unknown:
        await api.create_giftcard(SEED.contacts.emma)
    assert unknown.value.code == 1100


async def test_sending_a_card_by_email(api: PiggyAPI) -> None:
    assert await api.send_giftcard_email(SEED.giftcards.card, EMMA) is True
    with pytest.raises(NotFoundError) as caught:
        await api.send_giftcard_email(SEED.giftcards.card, SEED.shops.web)
    assert caught.value.code == 55031


async def test_prepaid_balances_move_and_never_go_below_zero(api: PiggyAPI) -> None:
    assert await api.get_prepaid_balance(EMMA) == 2500
    seeded = await api.list_prepaid_transactions(EMMA)
    assert [t.amount_in_cents for t in seeded.items] == [2500]

    spent = await api.create_prepaid_transaction(EMMA, -1000, None)
    assert spent.uuid is not None
    assert await api.get_prepaid_balance(EMMA) == 1500
    with pytest.raises(InvalidInputError) as caught:
        await api.create_prepaid_transaction(EMMA, -1501, None)
    assert "amount_in_cents" in caught.value.field_errors
    assert await api.get_prepaid_balance(EMMA) == 1500

    # A reversal books the opposite amount, once; reversing the top-up now would go below zero.
    await api.reverse_prepaid_transaction(spent.uuid)
    assert await api.get_prepaid_balance(EMMA) == 2500
    with pytest.raises(InvalidInputError):
        await api.reverse_prepaid_transaction(spent.uuid)
    found = await api.find_prepaid_transaction(EMMA, spent.uuid)
    assert found is not None and found.amount_in_cents == -1000
    page = await api.list_prepaid_transactions(EMMA, limit=2)
    assert (len(page.items), page.total, page.has_more) == (2, 3, True)
