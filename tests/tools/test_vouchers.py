"""The vouchers tools (tools/vouchers.py): list_promotions, create_vouchers_batch, find_voucher_by_code,
list_contact_vouchers and redeem_voucher.

Each sends exactly the request Piggy documents (shared/piggy-api.md §3, §4) and shapes the documented answer,
leaving out what Piggy did not give; bad arguments are refused before anything reaches Piggy, and a redemption
whose outcome is unknown is not repeated.
"""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]  # jsonschema ships no type hints, and no stubs are installed
import respx
from mcp import Client

from tests.conftest import CONTACT_A, PROMOTION, SHOP
from tests.helpers import EMAIL, anything, assert_get, assert_write, envelope, refused, the_request

BATCH = "77777777-7777-4777-8777-777777777777"
VOUCHER = "88888888-8888-4888-8888-888888888888"


# list_promotions ---------------------------------------------------------------------------------------


async def test_list_promotions(client: Client, piggy: respx.MockRouter) -> None:
    promotion = {
        "uuid": PROMOTION,
        "name": "Fake 10% off",
        "description": "Test promotion",
        "voucher_limit": 500,
        "limit_per_contact": 1,
        "expiration_duration": 2592000,
        "type": "SINGLE_USE",
        "redemptions_per_voucher": 1,
        "attributes": {},
    }
    route = piggy.get("/promotions").respond(200, json=envelope([promotion]))

    result = await client.call_tool("list_promotions", {})

    assert result.is_error is False
    assert_get(the_request(route), "/promotions")
    assert result.structured_content == {
        "promotions": [
            {
                "uuid": PROMOTION,
                "name": "Fake 10% off",
                "description": "Test promotion",
                "type": "SINGLE_USE",
                "voucher_limit": 500,
                "limit_per_contact": 1,
                "expiration_duration": 2592000,
            }
        ]
    }


# create_vouchers_batch (§3.4) ------------------------------------------------------------------------


def batch_data(quantity: int) -> dict[str, Any]:
    return {
        "uuid": BATCH,
        "type": "vouchers",
        "quantity": quantity,
        "status": "PENDING",
        "created_at": "2026-01-02, 17:59",
    }


async def test_create_vouchers_batch_posts_all_fields(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.post("/vouchers/batch").respond(200, json=envelope(batch_data(500)))

    result = await client.call_tool(
        "create_vouchers_batch",
        {
            "promotion_uuid": PROMOTION,
            "quantity": 500,
            "contact_uuid": CONTACT_A,
            "expiration_date": "2026-12-31T23:59:00Z",
            "activation_date": "2026-06-01T00:00:00+02:00",
        },
    )

    assert result.is_error is False
    assert_write(
        the_request(route),
        "POST",
        "/vouchers/batch",
        {
            "promotion_uuid": PROMOTION,
            "quantity": 500,
            "contact_uuid": CONTACT_A,
            "expiration_date": "2026-12-31T23:59:00Z",
            "activation_date": "2026-06-01T00:00:00+02:00",
        },
    )
    assert result.structured_content == {"uuid": BATCH, "status": "PENDING"}


async def test_create_vouchers_batch_omits_optional_fields(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.post("/vouchers/batch").respond(200, json=envelope(batch_data(30)))

    result = await client.call_tool("create_vouchers_batch", {"promotion_uuid": PROMOTION, "quantity": 30})

    assert result.is_error is False
    assert_write(the_request(route), "POST", "/vouchers/batch", {"promotion_uuid": PROMOTION, "quantity": 30})
    assert result.structured_content == {"uuid": BATCH, "status": "PENDING"}


async def test_create_vouchers_batch_refuses_quantity_out_of_range(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)

    zero = await client.call_tool("create_vouchers_batch", {"promotion_uuid": PROMOTION, "quantity": 0})
    too_many = await client.call_tool("create_vouchers_batch", {"promotion_uuid": PROMOTION, "quantity": 501})

    refused(zero, "quantity", "greater than or equal to 1")
    refused(too_many, "quantity", "less than or equal to 500")
    assert catch.called is False


async def test_create_vouchers_batch_refuses_non_uuids(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)

    bad_promotion = await client.call_tool("create_vouchers_batch", {"promotion_uuid": "promo-1", "quantity": 1})
    bad_contact = await client.call_tool(
        "create_vouchers_batch", {"promotion_uuid": PROMOTION, "quantity": 1, "contact_uuid": "jane"}
    )

    refused(bad_promotion, "promotion_uuid", "must be a uuid")
    refused(bad_contact, "contact_uuid", "must be a uuid")
    assert catch.called is False


# find_voucher_by_code (§3.6) -------------------------------------------------------------------------


async def test_find_voucher_by_code_sends_the_code_as_query(client: Client, piggy: respx.MockRouter) -> None:
    code = "FAKE 10%+OFF/#1"
    voucher = {
        "uuid": VOUCHER,
        "code": code,
        "status": "ACTIVE",
        "name": "Fake voucher",
        "description": "Test only",
        "expiration_date": "2026-12-31T23:59:00+00:00",
        "activation_date": "2026-01-01T00:00:00+00:00",
        "redeemed_at": None,
        "is_redeemed": False,
        "attributes": {"fake_colour": "red"},
        "contact": {"uuid": CONTACT_A, "email": "jane.doe@example.com"},
        "promotion": {
            "uuid": PROMOTION,
            "name": "Fake promotion",
            "description": "Test only",
            "voucher_limit": 1000,
            "limit_per_contact": 1,
            "expiration_duration": 86400,
        },
    }
    route = piggy.get("/vouchers/find").respond(200, json=envelope(voucher))

    result = await client.call_tool("find_voucher_by_code", {"code": code})

    assert result.is_error is False
    assert_get(the_request(route), "/vouchers/find", [("code", code)])
    assert result.structured_content == {
        "status": "ACTIVE",
        "name": "Fake voucher",
        "description": "Test only",
        "activation_date": "2026-01-01T00:00:00+00:00",
        "expiration_date": "2026-12-31T23:59:00+00:00",
        "promotion_uuid": PROMOTION,
        "promotion_name": "Fake promotion",
        "contact_uuid": CONTACT_A,
    }


async def test_find_voucher_by_code_reads_a_voucher_without_contact(client: Client, piggy: respx.MockRouter) -> None:
    voucher = {
        "uuid": VOUCHER,
        "code": "FAKE-REDEEMED",
        "status": "REDEEMED",
        "name": None,
        "description": None,
        "expiration_date": None,
        "activation_date": None,
        "redeemed_at": "2026-02-03T04:05:06+00:00",
        "is_redeemed": True,
        "attributes": {},
        "contact": None,
        "promotion": {"uuid": PROMOTION, "name": "Fake promotion", "description": None},
    }
    route = piggy.get("/vouchers/find").respond(200, json=envelope(voucher))

    result = await client.call_tool("find_voucher_by_code", {"code": "FAKE-REDEEMED"})

    assert result.is_error is False
    assert_get(the_request(route), "/vouchers/find", [("code", "FAKE-REDEEMED")])
    assert result.structured_content == {
        "status": "REDEEMED",
        "redeemed_at": "2026-02-03T04:05:06+00:00",
        "promotion_uuid": PROMOTION,
        "promotion_name": "Fake promotion",
    }


def nulls_in(value: Any, path: str = "$") -> list[str]:
    """Where `value` holds a null, at any depth."""
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in nulls_in(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in nulls_in(item, f"{path}[{index}]")]
    return []


async def test_a_result_leaves_out_what_piggy_did_not_give(client: Client, piggy: respx.MockRouter) -> None:
    # Neither the voucher nor its nested promotion carries the optional fields.
    voucher = {"uuid": VOUCHER, "code": "FAKE-BARE", "status": "ACTIVE", "promotion": {"uuid": PROMOTION}}
    piggy.get("/vouchers/find").respond(200, json=envelope(voucher))

    result = await client.call_tool("find_voucher_by_code", {"code": "FAKE-BARE"})
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}

    assert result.is_error is False
    data = result.structured_content
    assert data == {"status": "ACTIVE", "promotion_uuid": PROMOTION}
    assert nulls_in(data) == []
    output_schema = tools["find_voucher_by_code"].output_schema
    assert output_schema is not None
    jsonschema.validate(data, output_schema)


# list_contact_vouchers / redeem_voucher -------------------------------------------------------------------


def voucher_data(status: str = "ACTIVE") -> dict[str, Any]:
    """The documented Voucher object (§2.9)."""
    return {
        "uuid": VOUCHER,
        "code": "FAKE-CODE-1",
        "status": status,
        "name": "Fake 10% off",
        "description": "Test voucher",
        "expiration_date": "2026-12-31T23:59:00+00:00",
        "activation_date": "2026-01-01T00:00:00+00:00",
        "redeemed_at": "2026-02-01T12:00:00+00:00" if status == "REDEEMED" else None,
        "is_redeemed": status == "REDEEMED",
        "attributes": {},
        "contact": {"uuid": CONTACT_A, "email": EMAIL},
        "promotion": {"uuid": PROMOTION, "name": "Fake 10% off", "description": "x", "voucher_limit": 500},
    }


async def test_list_contact_vouchers_sends_every_filter(client: Client, piggy: respx.MockRouter) -> None:
    # Style B pagination (Laravel), with per_page as a string.
    meta = {
        "current_page": 1,
        "from": 1,
        "last_page": 2,
        "links": [],
        "path": "x",
        "per_page": "1",
        "to": 1,
        "total": 2,
    }
    route = piggy.get("/vouchers").respond(200, json=envelope([voucher_data()], meta=meta))

    result = await client.call_tool(
        "list_contact_vouchers",
        {"contact_uuid": CONTACT_A, "status": "ACTIVE", "promotion_uuid": PROMOTION, "page": 1, "limit": 1},
    )

    assert result.is_error is False
    assert_get(
        the_request(route),
        "/vouchers",
        [
            ("contact_uuid", CONTACT_A),
            ("limit", "1"),
            ("page", "1"),
            ("promotion_uuid", PROMOTION),
            ("status", "ACTIVE"),
        ],
    )
    assert result.structured_content == {
        "total": 2,
        "has_more": True,
        "next_page": 2,
        "vouchers": [
            {
                "code": "FAKE-CODE-1",
                "status": "ACTIVE",
                "name": "Fake 10% off",
                "expiration_date": "2026-12-31T23:59:00+00:00",
            }
        ],
    }


async def test_list_contact_vouchers_sends_only_the_contact(client: Client, piggy: respx.MockRouter) -> None:
    meta = {"current_page": 1, "last_page": 1, "per_page": "30", "total": 0}
    route = piggy.get("/vouchers").respond(200, json=envelope([], meta=meta))

    result = await client.call_tool("list_contact_vouchers", {"contact_uuid": CONTACT_A})

    assert_get(the_request(route), "/vouchers", [("contact_uuid", CONTACT_A)])
    assert result.structured_content == {"total": 0, "has_more": False, "vouchers": []}


async def test_redeem_voucher_posts_code_contact_and_shop(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.post("/vouchers/redeem").respond(200, json=envelope(voucher_data("REDEEMED")))

    result = await client.call_tool(
        "redeem_voucher", {"code": "FAKE-CODE-1", "contact_uuid": CONTACT_A, "shop_uuid": SHOP}
    )

    assert result.is_error is False
    assert_write(
        the_request(route),
        "POST",
        "/vouchers/redeem",
        {"code": "FAKE-CODE-1", "contact_uuid": CONTACT_A, "shop_uuid": SHOP},
    )
    assert result.structured_content == {
        "code": "FAKE-CODE-1",
        "status": "REDEEMED",
        "name": "Fake 10% off",
        "redeemed_at": "2026-02-01T12:00:00+00:00",
    }


async def test_redeem_voucher_sends_only_the_code_and_survives_an_undocumented_answer(
    client: Client, piggy: respx.MockRouter
) -> None:
    # Piggy documents no answer for a redemption: whatever 2xx comes back, the redemption happened.
    route = piggy.post("/vouchers/redeem").respond(200, json={"data": None, "meta": []})

    result = await client.call_tool("redeem_voucher", {"code": "FAKE-CODE-1"})

    assert result.is_error is False
    assert_write(the_request(route), "POST", "/vouchers/redeem", {"code": "FAKE-CODE-1"})
    assert result.structured_content == {"code": "FAKE-CODE-1"}


async def test_redeem_voucher_already_redeemed_is_piggys_refusal(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.post("/vouchers/redeem").respond(
        400, json={"message": "Voucher code has already been redeemed", "code": 80005, "status_code": 400}
    )

    result = await client.call_tool("redeem_voucher", {"code": "FAKE-CODE-1"})

    refused(result, "80005", "already been redeemed")
    assert route.call_count == 1


async def test_redeem_voucher_with_unknown_outcome_is_not_repeated(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.post("/vouchers/redeem").mock(side_effect=httpx.ReadTimeout("fake timeout"))

    result = await client.call_tool("redeem_voucher", {"code": "FAKE-CODE-1"})

    refused(result, "unknown whether it took effect", "Find the voucher by its code")
    assert route.call_count == 1


async def test_redeem_voucher_refuses_a_bad_shop_uuid(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)

    result = await client.call_tool("redeem_voucher", {"code": "FAKE-CODE-1", "shop_uuid": "shop-1"})

    refused(result, "shop_uuid", "must be a uuid")
    assert catch.called is False
