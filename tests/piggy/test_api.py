"""Piggy's endpoints (piggy/api.py): an identifier that becomes part of a URL path must be a uuid, refused before
anything is sent otherwise, and sent in its normal form."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import respx

from piggy_mcp.piggy import PiggyAPI, PiggyClient
from piggy_mcp.piggy.errors import InvalidInputError
from tests.conftest import CONTACT_A, CONTACT_B, PROMOTION, SHOP, make_settings
from tests.helpers import BALANCE_OK, BALANCE_PATH, PREFIX

BAD_IDS = ["../contacts", "x/y", "..", f"{CONTACT_A}/../../shops", f"{CONTACT_A}?x=1", "%2e%2e%2f", "", " "]

PATH_CALLS: dict[str, Callable[[PiggyAPI, str], Awaitable[Any]]] = {
    "get_contact": lambda api, bad: api.get_contact(bad),
    "get_credit_balance": lambda api, bad: api.get_credit_balance(bad),
    "claim_anonymous_contact": lambda api, bad: api.claim_anonymous_contact(bad, "ann@example.com"),
    "merge_contacts.source": lambda api, bad: api.merge_contacts(bad, CONTACT_B),
    "merge_contacts.destination": lambda api, bad: api.merge_contacts(CONTACT_A, bad),
    "get_contact_auth_token": lambda api, bad: api.get_contact_auth_token(bad),
    "create_credit_reception.contact": lambda api, bad: api.create_credit_reception(bad, SHOP, credits=1),
    "create_credit_reception.shop": lambda api, bad: api.create_credit_reception(CONTACT_A, bad, credits=1),
    "create_vouchers_batch.promotion": lambda api, bad: api.create_vouchers_batch(bad, 1),
    "create_vouchers_batch.contact": lambda api, bad: api.create_vouchers_batch(PROMOTION, 1, contact_uuid=bad or " "),
    "update_booking": lambda api, bad: api.update_booking(bad, {"status": "confirmed"}),
}


@pytest.fixture
async def piggy_api() -> AsyncIterator[PiggyAPI]:
    async with PiggyClient(make_settings()) as piggy_client:
        yield PiggyAPI(piggy_client)


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize("call", list(PATH_CALLS), ids=list(PATH_CALLS))
async def test_api_rejects_non_uuid_path_arguments(
    piggy: respx.MockRouter, piggy_api: PiggyAPI, call: str, bad: str
) -> None:
    anything = piggy.route()
    with pytest.raises(InvalidInputError) as caught:
        await PATH_CALLS[call](piggy_api, bad)
    assert "is not a UUID" in str(caught.value)
    assert anything.call_count == 0
    assert len(piggy.calls) == 0


async def test_api_normalises_valid_uuids_in_paths(piggy: respx.MockRouter, piggy_api: PiggyAPI) -> None:
    route = piggy.get(BALANCE_PATH).respond(200, json=BALANCE_OK)
    assert await piggy_api.get_credit_balance(CONTACT_A.upper()) == 49
    assert route.call_count == 1
    assert route.calls.last.request.url.path == PREFIX + BALANCE_PATH
