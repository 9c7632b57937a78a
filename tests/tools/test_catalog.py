"""Each tool sends exactly the request Piggy documents (shared/piggy-api.md §3) and shapes the documented answer.

Bad arguments are refused before anything reaches Piggy.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema
import respx
from mcp import Client
from mcp.types import CallToolResult

from tests.conftest import API_KEY, BOOKING, CONTACT_A, CONTACT_B, PROMOTION, SHOP

PREFIX = "/api/v3/oauth/clients"

# Obviously fake identifiers for objects Piggy creates.
RECEPTION = "66666666-6666-4666-8666-666666666666"
BATCH = "77777777-7777-4777-8777-777777777777"
VOUCHER = "88888888-8888-4888-8888-888888888888"
POS_TRANSACTION = "99999999-9999-4999-8999-999999999999"
FORM_1 = "aaaaaaaa-0000-4000-8000-000000000001"
FORM_2 = "aaaaaaaa-0000-4000-8000-000000000002"
PERK = "bbbbbbbb-0000-4000-8000-000000000001"
PRODUCT_1 = "cccccccc-0000-4000-8000-000000000001"
PRODUCT_2 = "cccccccc-0000-4000-8000-000000000002"
PRODUCT_3 = "cccccccc-0000-4000-8000-000000000003"
PRODUCT_OTHER = "cccccccc-0000-4000-8000-0000000000ff"


# Helpers ------------------------------------------------------------------------------------------


def envelope(data: Any, meta: Any = None) -> dict[str, Any]:
    """Piggy's success body (§2.3); `meta` is usually an empty list."""
    return {"data": data, "meta": [] if meta is None else meta}


def the_request(route: respx.Route) -> httpx.Request:
    """The one request a route received, after checking it carried the API key."""
    assert route.call_count == 1, f"expected exactly one request, got {route.call_count}"
    request: httpx.Request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    return request


def query(request: httpx.Request) -> list[tuple[str, str]]:
    return sorted(request.url.params.multi_items())


def json_body(request: httpx.Request) -> Any:
    assert request.headers["Content-Type"] == "application/json"
    return json.loads(request.content)


def assert_get(request: httpx.Request, path: str, params: list[tuple[str, str]] | None = None) -> None:
    """A GET to `path` (relative to the API prefix) with exactly `params` in the query string and no body."""
    assert request.method == "GET"
    assert request.url.path == PREFIX + path
    assert query(request) == sorted(params or [])
    assert request.content == b""


def assert_write(request: httpx.Request, method: str, path: str, body: dict[str, Any]) -> None:
    """A write to `path` with exactly `body` as JSON and nothing in the query string."""
    assert request.method == method
    assert request.url.path == PREFIX + path
    assert query(request) == []
    assert json_body(request) == body


def anything(piggy: respx.MockRouter) -> respx.Route:
    """A route that catches every request, so a test can prove that none was sent."""
    return piggy.route().respond(500, json={"message": "must not be called", "code": 1, "status_code": 500})


def refused(result: CallToolResult, *fragments: str) -> None:
    """The call is a tool error whose text names what is wrong."""
    assert result.is_error is True
    text = " ".join(getattr(block, "text", "") for block in result.content)
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"


def contact_data(uuid: str, email: str, balance: int, *, is_anonymous: bool) -> dict[str, Any]:
    """A full Contact object as Piggy returns it (§2.8), trimmed to realistic essentials."""
    return {
        "id": 101,
        "uuid": uuid,
        "email": email,
        "tier": None,
        "subscriptions": [],
        "credit_balance": {"balance": balance, "id": 7},
        "prepaid_balance": {"balance_in_cents": 0},
        "current_values": {
            "uuid": uuid,
            "email": email,
            "status": "ACTIVE",
            "is_anonymous": is_anonymous,
            "loyalty_balance": balance,
            "created_at": "2026-01-02T10:00:00+00:00",
        },
    }


# send_contact_verification_email (§3.12) -----------------------------------------------------------


async def test_send_contact_verification_email_posts_the_email(client: Client, piggy: respx.MockRouter) -> None:
    message = (
        "An email containing a link to verify your email has been sent to jane.doe@example.com. "
        "Please check your spam / junk as well."
    )
    route = piggy.post("/contact-verification/send").respond(
        200, json=envelope({"type": "Success", "message": message})
    )

    result = await client.call_tool("send_contact_verification_email", {"email": "jane.doe@example.com"})

    assert result.is_error is False
    assert_write(the_request(route), "POST", "/contact-verification/send", {"email": "jane.doe@example.com"})
    assert result.structured_content == {"message": message}


async def test_send_contact_verification_email_refuses_a_bad_email(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)

    result = await client.call_tool("send_contact_verification_email", {"email": "not-an-email"})

    refused(result, "email", "must be an email address")
    assert catch.called is False
    assert len(piggy.calls) == 0


# verify_login_code (§3.12, §3.14) --------------------------------------------------------------------


async def test_verify_login_code_posts_email_and_code(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.post("/contact-verification/verify").respond(200, json=envelope({"uuid": CONTACT_A}, meta={}))

    result = await client.call_tool("verify_login_code", {"email": "jane.doe@example.com", "code": "FAKE-123456"})

    assert result.is_error is False
    assert_write(
        the_request(route),
        "POST",
        "/contact-verification/verify",
        {"email": "jane.doe@example.com", "code": "FAKE-123456"},
    )
    assert result.structured_content == {"uuid": CONTACT_A}


async def test_verify_login_code_refuses_a_bad_email(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)

    result = await client.call_tool("verify_login_code", {"email": "jane.doe@@example", "code": "FAKE-123456"})

    refused(result, "email", "must be an email address")
    assert catch.called is False


# get_contact_auth_token (§3.7) -----------------------------------------------------------------------


async def test_get_contact_auth_token_reads_the_documented_object(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get(f"/contact-verification/auth-token/{CONTACT_A}").respond(
        200, json=envelope({"auth_token": "fake-encrypted-token-abc"})
    )

    result = await client.call_tool("get_contact_auth_token", {"contact_uuid": CONTACT_A})

    assert result.is_error is False
    assert_get(the_request(route), f"/contact-verification/auth-token/{CONTACT_A}")
    assert result.structured_content == {"auth_token": "fake-encrypted-token-abc"}


async def test_get_contact_auth_token_reads_a_bare_string(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get(f"/contact-verification/auth-token/{CONTACT_A}").respond(
        200, json=envelope("fake-encrypted-token-xyz")
    )

    result = await client.call_tool("get_contact_auth_token", {"contact_uuid": CONTACT_A})

    assert result.is_error is False
    assert_get(the_request(route), f"/contact-verification/auth-token/{CONTACT_A}")
    assert result.structured_content == {"auth_token": "fake-encrypted-token-xyz"}


async def test_get_contact_auth_token_refuses_a_non_uuid(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)

    result = await client.call_tool("get_contact_auth_token", {"contact_uuid": "../contacts/merge"})

    refused(result, "contact_uuid", "must be a uuid")
    assert catch.called is False


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


# create_contact_attribute (§3.2) ---------------------------------------------------------------------


async def test_create_contact_attribute_posts_a_select_with_options(client: Client, piggy: respx.MockRouter) -> None:
    created = {
        "name": "fake_favourite_colour",
        "label": "Favourite colour",
        "type": "select",
        "description": "Test attribute",
        "options": [
            {"value": "red", "label": "Red", "description": None, "media": None},
            {"value": "blue", "label": "Blue", "description": None, "media": None},
        ],
        "is_piggy_defined": False,
        "is_soft_read_only": False,
        "is_hard_read_only": False,
    }
    route = piggy.post("/contact-attributes").respond(200, json=envelope(created))

    result = await client.call_tool(
        "create_contact_attribute",
        {
            "name": "fake_favourite_colour",
            "label": "Favourite colour",
            "data_type": "select",
            "description": "Test attribute",
            "options": [{"label": "Red", "value": "red"}, {"label": "Blue", "value": "blue"}],
        },
    )

    assert result.is_error is False
    assert_write(
        the_request(route),
        "POST",
        "/contact-attributes",
        {
            "name": "fake_favourite_colour",
            "label": "Favourite colour",
            "data_type": "select",
            "description": "Test attribute",
            "options": [{"label": "Red", "value": "red"}, {"label": "Blue", "value": "blue"}],
        },
    )
    assert result.structured_content == {"name": "fake_favourite_colour", "type": "select"}


async def test_create_contact_attribute_omits_what_was_not_given(client: Client, piggy: respx.MockRouter) -> None:
    created = {
        "name": "fake_shoe_size",
        "label": "Shoe size",
        "type": "number",
        "description": None,
        "options": [],
        "is_piggy_defined": False,
        "is_soft_read_only": False,
        "is_hard_read_only": False,
    }
    route = piggy.post("/contact-attributes").respond(200, json=envelope(created))

    result = await client.call_tool(
        "create_contact_attribute", {"name": "fake_shoe_size", "label": "Shoe size", "data_type": "number"}
    )

    assert result.is_error is False
    assert_write(
        the_request(route),
        "POST",
        "/contact-attributes",
        {"name": "fake_shoe_size", "label": "Shoe size", "data_type": "number"},
    )
    assert result.structured_content == {"name": "fake_shoe_size", "type": "number"}


async def test_create_contact_attribute_refuses_an_unknown_data_type(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)

    result = await client.call_tool(
        "create_contact_attribute", {"name": "fake_field", "label": "Fake", "data_type": "dropdown"}
    )

    refused(result, "data_type", "'multi_select'")
    assert catch.called is False


async def test_create_contact_attribute_refuses_a_select_without_options(
    client: Client, piggy: respx.MockRouter
) -> None:
    catch = anything(piggy)

    select = await client.call_tool("create_contact_attribute", {"name": "fake_a", "label": "A", "data_type": "select"})
    multi = await client.call_tool(
        "create_contact_attribute", {"name": "fake_b", "label": "B", "data_type": "multi_select", "options": None}
    )

    refused(select, "select attribute needs options")
    refused(multi, "multi_select attribute needs options")
    assert catch.called is False


async def test_create_contact_attribute_refuses_options_for_text(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)

    result = await client.call_tool(
        "create_contact_attribute",
        {"name": "fake_note", "label": "Note", "data_type": "text", "options": [{"label": "A", "value": "a"}]},
    )

    refused(result, "Options apply only to select and multi_select", "text")
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
            "attributes": {"fake_table_number": "12", "fake_guests": 3, "fake_takeaway": True},
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


# list_forms (§3.9) -----------------------------------------------------------------------------------

FORMS = [
    {
        "uuid": FORM_1,
        "name": "Fake sign-up",
        "status": "PUBLISHED",
        "type": "PUBLIC",
        "url": "https://forms.example.test/fake-sign-up",
    },
    {
        "uuid": FORM_2,
        "name": "Fake survey",
        "status": "PUBLISHED",
        "type": "PUBLIC",
        "url": "https://forms.example.test/fake-survey",
    },
]

# As the tool lists them: without the uuid, which no tool takes.
LISTED_FORMS = [{key: value for key, value in form.items() if key != "uuid"} for form in FORMS]


async def test_list_forms_sends_no_filters_when_none_given(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get("/forms").respond(200, json=envelope(FORMS))

    result = await client.call_tool("list_forms", {})

    assert result.is_error is False
    assert_get(the_request(route), "/forms")
    assert result.structured_content == {"forms": LISTED_FORMS}


async def test_list_forms_passes_status_and_type_as_query(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get("/forms").respond(200, json=envelope(FORMS))

    result = await client.call_tool("list_forms", {"status": "PUBLISHED", "type": "PUBLIC"})

    assert result.is_error is False
    assert_get(the_request(route), "/forms", [("status", "PUBLISHED"), ("type", "PUBLIC")])
    assert result.structured_content == {"forms": LISTED_FORMS}


async def test_list_forms_passes_only_the_filter_given(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get("/forms").respond(200, json=envelope([]))

    result = await client.call_tool("list_forms", {"type": "PRIVATE"})

    assert result.is_error is False
    assert_get(the_request(route), "/forms", [("type", "PRIVATE")])
    assert result.structured_content == {"forms": []}


async def test_list_forms_refuses_an_unknown_status(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)

    result = await client.call_tool("list_forms", {"status": "ARCHIVED"})

    refused(result, "status", "'PUBLISHED'")
    assert catch.called is False


# list_perks (§3.10) ----------------------------------------------------------------------------------


async def test_list_perks_reads_perks_with_options(client: Client, piggy: respx.MockRouter) -> None:
    perks = [
        {
            "uuid": PERK,
            "label": "Fake free coffee",
            "name": "fake_free_coffee",
            "data_type": "single_select",
            "options": [
                {"label": "None", "value": "none", "default": True},
                {"label": "Daily", "value": "daily", "default": False},
            ],
        }
    ]
    route = piggy.get("/perks").respond(200, json={"data": perks})

    result = await client.call_tool("list_perks", {})

    assert result.is_error is False
    assert_get(the_request(route), "/perks")
    assert result.structured_content == {
        "perks": [
            {
                "name": "fake_free_coffee",
                "label": "Fake free coffee",
                "data_type": "single_select",
                "options": [
                    {"label": "None", "value": "none", "default": True},
                    {"label": "Daily", "value": "daily", "default": False},
                ],
            }
        ]
    }


# find_or_create_products (§3.5, §6) ------------------------------------------------------------------


def product(uuid: str, external_identifier: str, name: str) -> dict[str, Any]:
    return {
        "uuid": uuid,
        "external_identifier": external_identifier,
        "name": name,
        "description": None,
        "categories": [],
    }


def products_catalog(pages: list[list[dict[str, Any]]]) -> Any:
    """A side effect serving GET /products page by page, with style-A meta (§2.4)."""

    def respond(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        items = pages[page - 1]
        meta = {
            "page": page,
            "limit": 100,
            "viewing_from": (page - 1) * 100 + 1,
            "viewing_to": (page - 1) * 100 + len(items),
            "last_page": len(pages),
            "total": 100 * (len(pages) - 1) + len(pages[-1]),
        }
        return httpx.Response(200, json=envelope(items, meta))

    return respond


def fillers(count: int) -> list[dict[str, Any]]:
    """Unrelated catalog products, so a page is full (100 items) like a real non-final page."""
    return [product(f"dddddddd-0000-4000-8000-{i:012d}", f"FAKE-OTHER-{i}", f"Other product {i}") for i in range(count)]


async def test_find_or_create_products_stops_paging_when_all_are_found(client: Client, piggy: respx.MockRouter) -> None:
    pages = [
        [*fillers(99), product(PRODUCT_1, "FAKE-SKU-1", "Name in Piggy, SKU 1")],
        [product(PRODUCT_2, "FAKE-SKU-2", "Name in Piggy, SKU 2"), *fillers(99)],
        [product(PRODUCT_OTHER, "FAKE-SKU-9", "Never read")],
    ]
    listing = piggy.get("/products").mock(side_effect=products_catalog(pages))
    batch = piggy.post("/products/batch").respond(200, json=envelope([]))

    result = await client.call_tool(
        "find_or_create_products",
        {
            "products": [
                {"external_identifier": "FAKE-SKU-2", "name": "SKU 2"},
                {"external_identifier": "FAKE-SKU-1", "name": "SKU 1"},
            ]
        },
    )

    assert result.is_error is False
    # Page 2 held the last one wanted: page 3 is never read.
    assert [query(call.request) for call in listing.calls] == [
        [("limit", "100"), ("page", "1")],
        [("limit", "100"), ("page", "2")],
    ]
    for call in listing.calls:
        assert_get(call.request, "/products", query(call.request))
        assert call.request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert batch.called is False
    assert len(piggy.calls) == 2
    assert result.structured_content == {
        "products": [
            {"uuid": PRODUCT_2, "external_identifier": "FAKE-SKU-2", "created": False},
            {"uuid": PRODUCT_1, "external_identifier": "FAKE-SKU-1", "created": False},
        ]
    }


async def test_find_or_create_products_creates_only_the_missing_in_one_batch(
    client: Client, piggy: respx.MockRouter
) -> None:
    pages = [
        [*fillers(99), product(PRODUCT_1, "FAKE-SKU-1", "Name in Piggy, SKU 1")],
        fillers(3),
    ]
    listing = piggy.get("/products").mock(side_effect=products_catalog(pages))
    batch = piggy.post("/products/batch").respond(
        200,
        json=envelope(
            [
                product(PRODUCT_2, "FAKE-SKU-2", "SKU 2"),
                {**product(PRODUCT_3, "FAKE-SKU-3", "SKU 3"), "description": "Fake description"},
            ]
        ),
    )

    result = await client.call_tool(
        "find_or_create_products",
        {
            "products": [
                {"external_identifier": "FAKE-SKU-2", "name": "SKU 2"},
                {"external_identifier": "FAKE-SKU-1", "name": "SKU 1"},
                {"external_identifier": "FAKE-SKU-3", "name": "SKU 3", "description": "Fake description"},
            ]
        },
    )

    assert result.is_error is False
    # Paged to the last page per meta.last_page (2), and no further.
    assert [query(call.request) for call in listing.calls] == [
        [("limit", "100"), ("page", "1")],
        [("limit", "100"), ("page", "2")],
    ]
    assert_write(
        the_request(batch),
        "POST",
        "/products/batch",
        {
            "products": [
                {"external_identifier": "FAKE-SKU-2", "name": "SKU 2"},
                {"external_identifier": "FAKE-SKU-3", "name": "SKU 3", "description": "Fake description"},
            ]
        },
    )
    assert len(piggy.calls) == 3
    assert result.structured_content == {
        "products": [
            {"uuid": PRODUCT_2, "external_identifier": "FAKE-SKU-2", "created": True},
            {"uuid": PRODUCT_1, "external_identifier": "FAKE-SKU-1", "created": False},
            {"uuid": PRODUCT_3, "external_identifier": "FAKE-SKU-3", "created": True},
        ]
    }


async def test_find_or_create_products_refuses_more_than_100(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)
    products = [{"external_identifier": f"FAKE-SKU-{i}", "name": f"SKU {i}"} for i in range(101)]

    result = await client.call_tool("find_or_create_products", {"products": products})

    refused(result, "products", "at most 100")
    assert catch.called is False


# update_booking (§3.13) ------------------------------------------------------------------------------


def booking_data(**changes: Any) -> dict[str, Any]:
    return {
        "uuid": BOOKING,
        "contact": {"uuid": CONTACT_A, "email": "jane.doe@example.com"},
        "external_id": "FAKE-BOOKING-1",
        "source": "fake-test",
        "starts_at": "2026-03-01T18:00:00+00:00",
        "ends_at": "2026-03-01T20:00:00+00:00",
        "checked_in_at": None,
        "created_at": "2026-01-02T10:00:00+00:00",
        **changes,
    }


async def test_update_booking_puts_every_field(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.put(f"/bookings/{BOOKING}").respond(
        200,
        json=envelope(
            booking_data(
                external_id="FAKE-BOOKING-2",
                source="fake-pos",
                starts_at="2026-03-02T18:00:00+00:00",
                ends_at="2026-03-02T21:00:00+00:00",
                checked_in_at="2026-03-02T18:05:00+00:00",
            )
        ),
    )
    changes = {
        "external_id": "FAKE-BOOKING-2",
        "source": "fake-pos",
        "starts_at": "2026-03-02T18:00:00Z",
        "ends_at": "2026-03-02T21:00:00Z",
        "checked_in_at": "2026-03-02T18:05:00Z",
        "number_of_people": 4,
        "company_name": "Fake Company B.V.",
        "status": "in progress",
        "prepaid_amount": 2500,
    }

    result = await client.call_tool("update_booking", {"booking_uuid": BOOKING, **changes})

    assert result.is_error is False
    assert_write(the_request(route), "PUT", f"/bookings/{BOOKING}", changes)
    assert result.structured_content == {
        "uuid": BOOKING,
        "starts_at": "2026-03-02T18:00:00+00:00",
        "ends_at": "2026-03-02T21:00:00+00:00",
        "checked_in_at": "2026-03-02T18:05:00+00:00",
    }


async def test_update_booking_puts_only_the_given_field(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.put(f"/bookings/{BOOKING}").respond(200, json=envelope(booking_data()))

    result = await client.call_tool("update_booking", {"booking_uuid": BOOKING, "status": "canceled"})

    assert result.is_error is False
    assert_write(the_request(route), "PUT", f"/bookings/{BOOKING}", {"status": "canceled"})
    assert result.structured_content == {
        "uuid": BOOKING,
        "starts_at": "2026-03-01T18:00:00+00:00",
        "ends_at": "2026-03-01T20:00:00+00:00",
    }


async def test_update_booking_refuses_no_field(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)

    result = await client.call_tool("update_booking", {"booking_uuid": BOOKING})

    refused(result, "Nothing to update", "at least one field")
    assert catch.called is False


async def test_update_booking_refuses_a_non_uuid(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)

    result = await client.call_tool("update_booking", {"booking_uuid": "booking-1", "status": "canceled"})

    refused(result, "booking_uuid", "must be a uuid")
    assert catch.called is False


# merge_contacts (§3.11): only the confirmed write -----------------------------------------------------


async def test_merge_contacts_after_confirmation_posts_the_merge(client: Client, piggy: respx.MockRouter) -> None:
    source = piggy.get(f"/contacts/{CONTACT_A}").respond(
        200, json=envelope(contact_data(CONTACT_A, "old.jane@example.com", 12, is_anonymous=False))
    )
    destination = piggy.get(f"/contacts/{CONTACT_B}").respond(
        200, json=envelope(contact_data(CONTACT_B, "jane.doe@example.com", 30, is_anonymous=False))
    )
    merge = piggy.post("/contacts/merge").respond(200, json=envelope(None))
    args = {"source_contact_uuid": CONTACT_A, "destination_contact_uuid": CONTACT_B}

    first = await client.call_tool("merge_contacts", args)

    assert first.is_error is False
    assert first.structured_content is not None
    assert first.structured_content["status"] == "confirmation_required"
    assert source.call_count == 1 and destination.call_count == 1
    assert merge.called is False

    token = first.structured_content["confirmation_token"]
    second = await client.call_tool("merge_contacts", {**args, "confirmation_token": token})

    assert second.is_error is False
    assert_write(
        the_request(merge),
        "POST",
        "/contacts/merge",
        {"source_contact_uuid": CONTACT_A, "destination_contact_uuid": CONTACT_B},
    )
    assert len(piggy.calls) == 3  # the two preview reads, then only the merge
    assert second.structured_content is not None
    assert second.structured_content["status"] == "done"
    assert "confirmation_token" not in second.structured_content


async def test_merge_contacts_refuses_the_same_contact_twice(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)
    lettered = "abcdef12-3456-4789-8abc-def123456789"

    same = await client.call_tool(
        "merge_contacts", {"source_contact_uuid": CONTACT_A, "destination_contact_uuid": CONTACT_A}
    )
    same_other_case = await client.call_tool(
        "merge_contacts", {"source_contact_uuid": lettered, "destination_contact_uuid": lettered.upper()}
    )

    refused(same, "same contact")
    refused(same_other_case, "same contact")
    assert catch.called is False


async def test_merge_contacts_refuses_a_non_uuid(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)

    result = await client.call_tool(
        "merge_contacts", {"source_contact_uuid": "jane", "destination_contact_uuid": CONTACT_B}
    )

    refused(result, "source_contact_uuid", "must be a uuid")
    assert catch.called is False


# claim_anonymous_contact (§3.1): only the confirmed write ---------------------------------------------


async def test_claim_anonymous_contact_after_confirmation_puts_the_email(
    client: Client, piggy: respx.MockRouter
) -> None:
    email = "jane.doe@example.com"
    anonymous = piggy.get(f"/contacts/{CONTACT_A}").respond(
        200, json=envelope(contact_data(CONTACT_A, "anon-0001@anonymous.example.com", 8, is_anonymous=True))
    )
    lookup = piggy.get("/contacts/find-one-by").respond(
        400, json={"message": "Contact not found", "code": 55031, "status_code": 400}
    )
    claim = piggy.put(f"/contacts/{CONTACT_A}/claim").respond(
        200, json=envelope(contact_data(CONTACT_A, email, 8, is_anonymous=False))
    )
    args = {"anonymous_contact_uuid": CONTACT_A, "email": email}

    first = await client.call_tool("claim_anonymous_contact", args)

    assert first.is_error is False
    assert first.structured_content is not None
    assert first.structured_content["status"] == "confirmation_required"
    assert anonymous.call_count == 1
    assert_get(the_request(lookup), "/contacts/find-one-by", [("email", email)])
    assert claim.called is False

    token = first.structured_content["confirmation_token"]
    second = await client.call_tool("claim_anonymous_contact", {**args, "confirmation_token": token})

    assert second.is_error is False
    assert_write(the_request(claim), "PUT", f"/contacts/{CONTACT_A}/claim", {"email": email})
    assert len(piggy.calls) == 3  # the two preview reads, then only the claim
    assert second.structured_content is not None
    assert second.structured_content["status"] == "done"
    assert second.structured_content["contact"] == {"uuid": CONTACT_A, "credit_balance": 8}


async def test_claim_anonymous_contact_refuses_bad_arguments(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)

    bad_email = await client.call_tool(
        "claim_anonymous_contact", {"anonymous_contact_uuid": CONTACT_A, "email": "jane.doe"}
    )
    bad_uuid = await client.call_tool(
        "claim_anonymous_contact", {"anonymous_contact_uuid": "anon-1", "email": "jane.doe@example.com"}
    )

    refused(bad_email, "email", "must be an email address")
    refused(bad_uuid, "anonymous_contact_uuid", "must be a uuid")
    assert catch.called is False
