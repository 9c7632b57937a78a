"""The sandbox's orders and returns, straight through PiggyAPI: an order earns points by the credit-reception rule
and moves the balance; a repeated external identifier is refused as Piggy's validator refuses a taken value; a
partial return takes back the points of the returned lines' amounts, a whole return what is left."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from piggy_mcp.piggy import PiggyAPI, PiggyClient
from piggy_mcp.piggy.errors import InvalidInputError
from piggy_mcp.piggy.orders import AlreadyProcessedError
from piggy_mcp.sandbox import SEED, credits_for
from piggy_mcp.sandbox.serving import sandboxed
from tests.conftest import make_settings

SANNE = SEED.contacts.sanne_online
SANNE_BALANCE = 54 + 41
LINES = [
    {"external_identifier": "L1", "name": "Beans", "quantity": 2, "price": 1250},
    {"external_identifier": "L2", "name": "Grinder", "quantity": 1, "price": 3650},
]


@pytest.fixture
async def api() -> AsyncIterator[PiggyAPI]:
    settings, transport = sandboxed(make_settings())
    async with PiggyClient(settings, transport=transport) as client:
        yield PiggyAPI(client)


async def order(api: PiggyAPI, external_identifier: str = "WEB-1001", **changes: Any) -> Any:
    arguments: dict[str, Any] = {
        "external_identifier": external_identifier,
        "contact_uuid": SANNE,
        "shop_uuid": SEED.shops.web,
        "status": "COMPLETED",
        "payment_status": "PAID",
        "total_order_amount": 6150,
        "line_items": LINES,
    }
    return await api.create_order(**{**arguments, **changes})


async def give_back(api: PiggyAPI, external_identifier: str, lines: list[dict[str, Any]]) -> Any:
    return await api.create_order_return(
        external_identifier=external_identifier,
        order_uuid=None,
        order_external_identifier="WEB-1001",
        status="COMPLETED",
        line_items=lines,
    )


async def test_an_order_earns_points_by_the_credit_reception_rule(api: PiggyAPI) -> None:
    placed = await order(api)
    assert placed.result_type == "POINTS_TRANSACTION"
    assert placed.points == credits_for(61.50) == 61
    assert placed.new_balance == SANNE_BALANCE + 61 == await api.get_credit_balance(SANNE)


async def test_a_repeated_external_identifier_is_refused(api: PiggyAPI) -> None:
    await order(api)
    with pytest.raises(AlreadyProcessedError):
        await order(api, total_order_amount=100)
    assert await api.get_credit_balance(SANNE) == SANNE_BALANCE + 61


async def test_a_partial_return_takes_back_the_points_of_what_is_returned(api: PiggyAPI) -> None:
    await order(api)
    one_bag = await give_back(api, "RET-1", [{"external_identifier": "L1", "quantity": 1}])
    assert one_bag.points == -credits_for(12.50) == -12
    rest = await give_back(api, "RET-2", [])
    assert rest.points == -(61 - 12)
    assert await api.get_credit_balance(SANNE) == SANNE_BALANCE
    with pytest.raises(AlreadyProcessedError):
        await give_back(api, "RET-2", [])


async def test_a_return_cannot_give_back_more_than_was_bought(api: PiggyAPI) -> None:
    await order(api)
    await give_back(api, "RET-1", [{"external_identifier": "L2", "quantity": 1}])
    with pytest.raises(InvalidInputError, match="more of it is returned than was left"):
        await give_back(api, "RET-2", [{"external_identifier": "L2", "quantity": 1}])
