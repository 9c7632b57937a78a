"""PIGGY_SHOP_UUID: a shop with one store need not name it on every call; without it, a call that names no shop
is refused, saying what to do, before anything is sent or asked."""

from __future__ import annotations

import pytest
import respx
from pydantic import ValidationError

from piggy_mcp.server import build_server
from tests.conftest import SHOP, make_settings
from tests.helpers import (
    ACCEPT,
    AWARD,
    MODES,
    RECEPTION_OK,
    REDEEM_ARGS,
    Mode,
    User,
    anything,
    body,
    connect,
    fake_redeem,
    refused,
    structured,
)

WITHOUT_SHOP = {key: value for key, value in AWARD.items() if key != "shop_uuid"}


async def test_a_write_without_a_shop_goes_to_the_default_shop(piggy: respx.MockRouter) -> None:
    route = piggy.post("/credit-receptions").respond(200, json=RECEPTION_OK)
    async with connect(build_server(make_settings(shop_uuid=SHOP)), "auto") as client:
        result = await client.call_tool("create_credit_reception", WITHOUT_SHOP)
    assert not result.is_error
    assert body(route)["shop_uuid"] == SHOP


async def test_a_named_shop_wins_over_the_default(piggy: respx.MockRouter) -> None:
    other = "44444444-4444-4444-8444-444444444444"
    route = piggy.post("/credit-receptions").respond(200, json=RECEPTION_OK)
    async with connect(build_server(make_settings(shop_uuid=SHOP)), "auto") as client:
        await client.call_tool("create_credit_reception", {**WITHOUT_SHOP, "shop_uuid": other})
    assert body(route)["shop_uuid"] == other


async def test_without_a_shop_or_a_default_nothing_is_sent(piggy: respx.MockRouter) -> None:
    catch = anything(piggy)
    async with connect(build_server(make_settings()), "auto") as client:
        result = await client.call_tool("create_credit_reception", WITHOUT_SHOP)
    refused(result, "no shop was named", "shop_uuid", "list_shops", "PIGGY_SHOP_UUID", "Nothing was sent")
    assert not catch.called


@pytest.mark.parametrize("mode", MODES)
async def test_a_redemption_without_a_shop_is_refused_before_the_user_is_asked(
    piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_redeem(piggy)
    user = User(**ACCEPT)
    without_shop = {key: value for key, value in REDEEM_ARGS.items() if key != "shop_uuid"}
    async with connect(build_server(make_settings()), mode, user) as client:
        result = await client.call_tool("redeem_reward", without_shop)
    refused(result, "no shop was named", "PIGGY_SHOP_UUID")
    assert user.messages == []
    assert not routes.contact.called and not routes.redeem.called


@pytest.mark.parametrize("mode", MODES)
async def test_a_redemption_with_the_default_shop_goes_there(piggy: respx.MockRouter, mode: Mode) -> None:
    routes = fake_redeem(piggy)
    without_shop = {key: value for key, value in REDEEM_ARGS.items() if key != "shop_uuid"}
    async with connect(build_server(make_settings(shop_uuid=SHOP)), mode, User(**ACCEPT)) as client:
        result = await client.call_tool("redeem_reward", without_shop)
    assert structured(result)["status"] == "done"
    assert body(routes.redeem) == {**without_shop, "shop_uuid": SHOP}


def test_a_default_shop_must_be_a_uuid() -> None:
    with pytest.raises(ValidationError, match="PIGGY_SHOP_UUID must be a shop's uuid"):
        make_settings(shop_uuid="the big store")
    assert make_settings(shop_uuid=SHOP).shop_uuid == SHOP
