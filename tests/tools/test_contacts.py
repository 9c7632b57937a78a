"""The member-flow tools (find, correct, rewards, vouchers) send exactly the request shared/piggy-api.md §4 documents
and shape the documented answer. Bad arguments are refused before anything reaches Piggy.

redeem_reward and reverse_credit_reception, which ask for confirmation, are covered in test_member_confirmation.py.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx
from mcp import Client

from piggy_mcp.server import build_server
from piggy_mcp.tools import TOOLSETS
from tests.conftest import CONTACT_A, PROMOTION, SHOP, make_settings
from tests.test_tools_requests import anything, assert_get, assert_write, envelope, refused, the_request

REWARD = "dddddddd-0000-4000-8000-000000000001"
REWARD_2 = "dddddddd-0000-4000-8000-000000000002"
SHOP_2 = "33333333-3333-4333-8333-333333333334"
RECEPTION = "66666666-6666-4666-8666-666666666666"
VOUCHER = "88888888-8888-4888-8888-888888888888"
EMAIL = "jane.doe@example.com"

MEMBER_TOOLS = {
    "find_contact",
    "get_contact",
    "update_contact",
    "list_contact_attributes",
    "list_loyalty_transactions",
}


def member_data(*, balance: int | None = 120, firstname: str = "Jane") -> dict[str, Any]:
    """A full Contact object (§2.8): profile values mixed with system values and portal credentials."""
    return {
        "id": 101,
        "uuid": CONTACT_A,
        "email": EMAIL,
        "tier": {"name": "Gold", "description": "Top tier", "position": 3, "media": None, "uuid": PROMOTION},
        "subscriptions": [],
        "credit_balance": {"balance": balance, "id": 7} if balance is not None else None,
        "prepaid_balance": {"balance_in_cents": 0},
        "current_values": {
            "uuid": CONTACT_A,
            "email": EMAIL,
            "status": "ACTIVE",
            "is_anonymous": False,
            "created_at": "2026-01-02T10:00:00+00:00",
            "firstname": firstname,
            "lastname": "Doe",
            "birthdate": None,
            "fake_favourite_colour": "blue",
            "fake_interests": ["coffee", "tea"],
            "loyalty_balance": 95,
            "loyalty_total_credits_received": 300,
            "prepaid_balance": 0,
            "default_contact_identifier": "FAKE-CARD-0001",
            "custom_app_login_url": "https://fake.example/home?token=fake-secret",
            "custom_app_login_code": "FAKE-LOGIN-CODE",
            "add_to_wallet": "https://fake.example/wallet",
            "subscription_preferences_url": "https://fake.example/prefs",
            "double_opt_in_confirmation_url_1": "https://fake.example/confirm",
        },
        "current_display_values": {"firstname": firstname},
    }


MEMBER: dict[str, Any] = {
    "uuid": CONTACT_A,
    "email": EMAIL,
    "credit_balance": 120,
    "is_anonymous": False,
    "tier": "Gold",
    "attributes": {
        "firstname": "Jane",
        "lastname": "Doe",
        "fake_favourite_colour": "blue",
        "fake_interests": ["coffee", "tea"],
    },
}


def attribute(name: str, kind: str = "text", **flags: Any) -> dict[str, Any]:
    """A contact-attribute object as Piggy returns it (§2.7)."""
    return {
        "id": 1,
        "name": name,
        "label": name.replace("_", " ").capitalize(),
        "type": kind,
        "field_type": kind,
        "description": None,
        "options": [],
        "is_piggy_defined": flags.get("piggy", False),
        "is_soft_read_only": flags.get("soft", False),
        "is_hard_read_only": flags.get("hard", False),
    }


ATTRIBUTES = [
    attribute("firstname", piggy=True),
    attribute("lastname", piggy=True),
    attribute("loyalty_balance", "number", piggy=True, hard=True),
    # A system field whose flags Piggy left unset: still refused.
    attribute("loyalty_last_transaction_date", "date_time", piggy=True),
    attribute("channel", piggy=True, soft=True),
    {
        **attribute("fake_favourite_colour", "select"),
        "options": [
            {"value": "red", "label": "Red", "description": None, "media": None},
            {"value": "blue", "label": "Blue", "description": None, "media": None},
        ],
    },
]


# Toolsets ---------------------------------------------------------------------------------------------


# Each tool in the one toolset of its domain, in the order tools/list shows them.
TOOLSETS_BY_DOMAIN = {
    "contacts": [
        "find_contact", "get_contact", "update_contact", "send_contact_verification_email", "verify_login_code",
        "get_contact_auth_token", "merge_contacts", "claim_anonymous_contact",
    ],
    "attributes": ["list_contact_attributes", "create_contact_attribute"],
    "loyalty": [
        "get_contact_credit_balance", "create_credit_reception", "reverse_credit_reception",
        "list_loyalty_transactions", "list_shops",
    ],
    "rewards": ["list_rewards", "redeem_reward"],
    "vouchers": [
        "list_promotions", "create_vouchers_batch", "find_voucher_by_code", "list_contact_vouchers", "redeem_voucher",
    ],
    "catalog": ["list_forms", "list_perks", "find_or_create_products"],
    "bookings": ["update_booking"],
}  # fmt: skip


def test_toolsets_group_the_tools_by_domain() -> None:
    assert {toolset.name: [spec.name for spec in toolset.tools] for toolset in TOOLSETS} == TOOLSETS_BY_DOMAIN
    assert [toolset.name for toolset in TOOLSETS] == list(TOOLSETS_BY_DOMAIN)


@pytest.mark.parametrize("toolset", ["contacts", "rewards", "vouchers"])
async def test_an_operator_can_serve_one_toolset(toolset: str) -> None:
    server = build_server(make_settings(toolsets=[toolset]))
    async with Client(server) as client:
        names = [tool.name for tool in (await client.list_tools()).tools]
    assert names == TOOLSETS_BY_DOMAIN[toolset]


async def test_the_old_members_toolset_serves_what_it_served_and_says_it_is_deprecated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = build_server(make_settings(toolsets=["members"]))
    async with Client(server) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert names == MEMBER_TOOLS
    assert any("'members' is deprecated" in record.getMessage() for record in caplog.records)


async def test_read_only_mode_keeps_only_the_reads() -> None:
    server = build_server(make_settings(toolsets=["members", "rewards"], read_only=True))
    async with Client(server) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert names == (MEMBER_TOOLS | {"list_rewards"}) - {"update_contact"}


# find_contact / get_contact --------------------------------------------------------------------------


async def test_find_contact_reads_the_contact_by_email(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get("/contacts/find-one-by").respond(200, json=envelope(member_data()))

    result = await client.call_tool("find_contact", {"email": EMAIL})

    assert result.is_error is False
    assert_get(the_request(route), "/contacts/find-one-by", [("email", EMAIL)])
    # Profile values only: no system values, no portal login links or codes, no empty fields.
    assert result.structured_content == MEMBER


async def test_find_contact_never_shows_portal_credentials(client: Client, piggy: respx.MockRouter) -> None:
    piggy.get("/contacts/find-one-by").respond(200, json=envelope(member_data()))

    result = await client.call_tool("find_contact", {"email": EMAIL})

    text = " ".join(getattr(block, "text", "") for block in result.content)
    for secret in ("fake-secret", "FAKE-LOGIN-CODE", "fake.example"):
        assert secret not in text


async def test_find_contact_that_does_not_exist_says_so(client: Client, piggy: respx.MockRouter) -> None:
    piggy.get("/contacts/find-one-by").respond(
        400, json={"message": "Contact not found", "code": 55031, "status_code": 400}
    )

    result = await client.call_tool("find_contact", {"email": EMAIL})

    refused(result, f"No contact has the email {EMAIL}", "do not create a new contact")


async def test_find_contact_refuses_a_bad_email(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)

    result = await client.call_tool("find_contact", {"email": "jane.doe@example"})

    refused(result, "email", "must be an email address")
    assert catch.called is False


async def test_get_contact_reads_the_contact_by_uuid(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get(f"/contacts/{CONTACT_A}").respond(200, json=envelope(member_data()))

    result = await client.call_tool("get_contact", {"contact_uuid": CONTACT_A})

    assert result.is_error is False
    assert_get(the_request(route), f"/contacts/{CONTACT_A}")
    assert result.structured_content == MEMBER


async def test_get_contact_falls_back_to_loyalty_balance(client: Client, piggy: respx.MockRouter) -> None:
    raw = {**member_data(balance=None), "tier": None}
    piggy.get(f"/contacts/{CONTACT_A}").respond(200, json=envelope(raw))

    result = await client.call_tool("get_contact", {"contact_uuid": CONTACT_A})

    expected = {**MEMBER, "credit_balance": 95}
    del expected["tier"]
    assert result.structured_content == expected


async def test_get_contact_refuses_a_non_uuid(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)

    result = await client.call_tool("get_contact", {"contact_uuid": f"{CONTACT_A}/delete"})

    refused(result, "contact_uuid", "must be a uuid")
    assert catch.called is False


# list_contact_attributes / update_contact --------------------------------------------------------------


async def test_list_contact_attributes_says_what_is_writable(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get("/contact-attributes").respond(200, json=envelope(ATTRIBUTES))

    result = await client.call_tool("list_contact_attributes", {})

    assert result.is_error is False
    assert_get(the_request(route), "/contact-attributes")
    data = result.structured_content
    assert data is not None
    assert [(a["name"], a["writable"]) for a in data["attributes"]] == [
        ("firstname", True),
        ("lastname", True),
        ("loyalty_balance", False),
        ("loyalty_last_transaction_date", False),
        ("channel", False),
        ("fake_favourite_colour", True),
    ]
    assert data["attributes"][0] == {
        "name": "firstname",
        "label": "Firstname",
        "type": "text",
        "writable": True,
    }
    assert data["attributes"][-1]["options"] == [{"value": "red", "label": "Red"}, {"value": "blue", "label": "Blue"}]


async def test_update_contact_checks_the_names_then_puts_the_attributes(
    client: Client, piggy: respx.MockRouter
) -> None:
    attributes = piggy.get("/contact-attributes").respond(200, json=envelope(ATTRIBUTES))
    update = piggy.put(f"/contacts/{CONTACT_A}").respond(200, json=envelope(member_data(firstname="Janet")))
    changes = {"firstname": "Janet", "fake_favourite_colour": "blue"}

    result = await client.call_tool("update_contact", {"contact_uuid": CONTACT_A, "attributes": changes})

    assert result.is_error is False
    assert_get(the_request(attributes), "/contact-attributes")
    assert_write(the_request(update), "PUT", f"/contacts/{CONTACT_A}", {"attributes": changes})
    assert result.structured_content == {**MEMBER, "attributes": {**MEMBER["attributes"], "firstname": "Janet"}}


async def test_update_contact_sends_typed_values_as_given(client: Client, piggy: respx.MockRouter) -> None:
    typed = [attribute("fake_shoe_size", "number"), attribute("fake_vip", "boolean"), attribute("fake_tags")]
    piggy.get("/contact-attributes").respond(200, json=envelope(typed))
    update = piggy.put(f"/contacts/{CONTACT_A}").respond(200, json=envelope(member_data()))
    changes = {"fake_shoe_size": 42.5, "fake_vip": True, "fake_tags": ["a", "b"]}

    result = await client.call_tool("update_contact", {"contact_uuid": CONTACT_A, "attributes": changes})

    assert result.is_error is False
    assert_write(the_request(update), "PUT", f"/contacts/{CONTACT_A}", {"attributes": changes})


@pytest.mark.parametrize(
    ("changes", "fragments"),
    [
        ({"firstname": "Jane", "favourite_colour": "red"}, ["unknown: favourite_colour"]),
        ({"loyalty_balance": 1000}, ["read-only: loyalty_balance"]),
        ({"loyalty_last_transaction_date": "2026-01-01"}, ["read-only: loyalty_last_transaction_date"]),
        ({"channel": "web"}, ["read-only: channel"]),
        ({"nickname": "JD", "loyalty_balance": 5}, ["unknown: nickname", "read-only: loyalty_balance"]),
    ],
    ids=["unknown", "hard-read-only", "system-without-flags", "soft-read-only", "both"],
)
async def test_update_contact_refuses_fields_it_cannot_write_and_sends_nothing(
    client: Client, piggy: respx.MockRouter, changes: dict[str, Any], fragments: list[str]
) -> None:
    attributes = piggy.get("/contact-attributes").respond(200, json=envelope(ATTRIBUTES))
    update = piggy.put(f"/contacts/{CONTACT_A}").respond(200, json=envelope(member_data()))

    result = await client.call_tool("update_contact", {"contact_uuid": CONTACT_A, "attributes": changes})

    refused(
        result, "Nothing was changed", *fragments, "Writable attributes: fake_favourite_colour, firstname, lastname."
    )
    assert attributes.called
    assert not update.called


async def test_update_contact_refuses_an_empty_change_before_reading_anything(
    client: Client, piggy: respx.MockRouter
) -> None:
    catch = anything(piggy)

    result = await client.call_tool("update_contact", {"contact_uuid": CONTACT_A, "attributes": {}})

    refused(result, "attributes")
    assert catch.called is False


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


# list_shops / list_rewards / list_promotions ------------------------------------------------------------


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
