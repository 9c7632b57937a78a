"""The contacts tools (tools/contacts.py): find_contact, get_contact, update_contact, the verification of a member
(send_contact_verification_email, verify_login_code, get_contact_auth_token), and the two confirmed ones,
merge_contacts and claim_anonymous_contact.

Each sends exactly the request Piggy documents and shapes the documented answer; bad
arguments are refused before anything reaches Piggy. For the confirmed tools: what the user is asked, the preview
a client without elicitation gets, what is sent once they agreed, and what each refuses before asking anything.
That nothing is sent before the user agreed is tests/tools/test_confirmation_contract.py's.
"""

from __future__ import annotations

from typing import Any

import pytest
import respx
from mcp import Client
from mcp.server import MCPServer

from piggy_mcp.tools.runtime import Runtime
from tests.conftest import CONTACT_A, CONTACT_B, PROMOTION
from tests.helpers import (
    ACCEPT,
    ANONYMOUS_BALANCE,
    ATTRIBUTES,
    CLAIM_ARGS,
    CLAIM_EMAIL,
    CONTACT_NOT_FOUND,
    DESTINATION_BALANCE,
    DESTINATION_EMAIL,
    EMAIL,
    EXISTING_BALANCE,
    HEX_UUID,
    MERGE_ARGS,
    MODES,
    SOURCE_BALANCE,
    SOURCE_EMAIL,
    Mode,
    User,
    anything,
    assert_get,
    assert_write,
    attribute,
    body,
    connect,
    envelope,
    fake_claim,
    fake_merge,
    pairs,
    refused,
    structured,
    text_of,
    the_request,
)


def member_data(*, balance: int | None = 120, firstname: str = "Jane") -> dict[str, Any]:
    """A full Contact object: profile values mixed with system values and portal credentials."""
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
    "attributes": pairs(
        {"firstname": "Jane", "lastname": "Doe", "fake_favourite_colour": "blue", "fake_interests": ["coffee", "tea"]}
    ),
}


def contact_data(uuid: str, email: str, balance: int, *, is_anonymous: bool) -> dict[str, Any]:
    """A full Contact object as Piggy returns it, trimmed to realistic essentials."""
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

    text = text_of(result)
    for secret in ("fake-secret", "FAKE-LOGIN-CODE", "fake.example"):
        assert secret not in text


async def test_find_contact_that_does_not_exist_says_so(client: Client, piggy: respx.MockRouter) -> None:
    piggy.get("/contacts/find-one-by").respond(400, json=CONTACT_NOT_FOUND)

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


# update_contact --------------------------------------------------------------------------------------


async def test_update_contact_checks_the_names_then_puts_the_attributes(
    client: Client, piggy: respx.MockRouter
) -> None:
    attributes = piggy.get("/contact-attributes").respond(200, json=envelope(ATTRIBUTES))
    update = piggy.put(f"/contacts/{CONTACT_A}").respond(200, json=envelope(member_data(firstname="Janet")))
    changes = {"firstname": "Janet", "fake_favourite_colour": "blue"}

    result = await client.call_tool("update_contact", {"contact_uuid": CONTACT_A, "attributes": pairs(changes)})

    assert result.is_error is False
    assert_get(the_request(attributes), "/contact-attributes")
    assert_write(the_request(update), "PUT", f"/contacts/{CONTACT_A}", {"attributes": changes})
    renamed = [{**entry, "value": "Janet"} if entry["name"] == "firstname" else entry for entry in MEMBER["attributes"]]
    assert result.structured_content == {**MEMBER, "attributes": renamed}


TYPED = [
    attribute("fake_shoe_size", "number"),
    attribute("fake_weight", "float"),
    attribute("fake_vip", "boolean"),
    {**attribute("fake_tags", "multi_select"), "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
    {**attribute("fake_size", "select"), "options": [{"value": "S", "label": "Small"}, {"value": "L", "label": "L"}]},
    attribute("fake_note"),
]


async def test_update_contact_sends_each_value_in_its_attributes_type(client: Client, piggy: respx.MockRouter) -> None:
    piggy.get("/contact-attributes").respond(200, json=envelope(TYPED))
    update = piggy.put(f"/contacts/{CONTACT_A}").respond(200, json=envelope(member_data()))
    given = {
        "fake_shoe_size": "42",
        "fake_weight": "4.5",
        "fake_vip": "True",
        "fake_tags": ["a", "b"],
        "fake_size": "L",
        "fake_note": "42",
    }

    result = await client.call_tool("update_contact", {"contact_uuid": CONTACT_A, "attributes": pairs(given)})

    assert result.is_error is False, text_of(result)
    sent = {"fake_shoe_size": 42, "fake_weight": 4.5, "fake_vip": True, "fake_tags": ["a", "b"], "fake_size": "L"}
    assert_write(the_request(update), "PUT", f"/contacts/{CONTACT_A}", {"attributes": {**sent, "fake_note": "42"}})


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("fake_shoe_size", "big", "fake_shoe_size is a number field: give a number such as 42 or 4.5, not 'big'"),
        ("fake_weight", "nan", "fake_weight is a number field"),
        ("fake_vip", "yes", "fake_vip is a yes/no field: give true or false"),
        ("fake_tags", ["a", "c"], "fake_tags takes only its option values (a, b), not 'c'"),
        ("fake_size", "M", "fake_size takes only its option values (S, L), not 'M'"),
        ("fake_note", ["x"], "fake_note takes one value, not a list"),
    ],
)
async def test_update_contact_refuses_a_value_its_attribute_cannot_hold(
    client: Client, piggy: respx.MockRouter, name: str, value: Any, rule: str
) -> None:
    piggy.get("/contact-attributes").respond(200, json=envelope(TYPED))
    update = piggy.put(f"/contacts/{CONTACT_A}").respond(200, json=envelope(member_data()))

    result = await client.call_tool(
        "update_contact", {"contact_uuid": CONTACT_A, "attributes": [{"name": name, "value": value}]}
    )

    refused(result, "Nothing was changed", rule)
    assert not update.called


async def test_update_contact_refuses_an_attribute_named_twice(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)
    twice = [{"name": "firstname", "value": "Jane"}, {"name": "firstname", "value": "Janet"}]

    result = await client.call_tool("update_contact", {"contact_uuid": CONTACT_A, "attributes": twice})

    refused(result, "attributes must name each attribute once, but names firstname twice")
    assert not catch.called


@pytest.mark.parametrize(
    ("changes", "fragments"),
    [
        ({"firstname": "Jane", "favourite_colour": "red"}, ["unknown: favourite_colour"]),
        ({"loyalty_balance": "1000"}, ["read-only: loyalty_balance"]),
        ({"loyalty_last_transaction_date": "2026-01-01"}, ["read-only: loyalty_last_transaction_date"]),
        ({"channel": "web"}, ["read-only: channel"]),
        ({"nickname": "JD", "loyalty_balance": "5"}, ["unknown: nickname", "read-only: loyalty_balance"]),
    ],
    ids=["unknown", "hard-read-only", "system-without-flags", "soft-read-only", "both"],
)
async def test_update_contact_refuses_fields_it_cannot_write_and_sends_nothing(
    client: Client, piggy: respx.MockRouter, changes: dict[str, Any], fragments: list[str]
) -> None:
    attributes = piggy.get("/contact-attributes").respond(200, json=envelope(ATTRIBUTES))
    update = piggy.put(f"/contacts/{CONTACT_A}").respond(200, json=envelope(member_data()))

    result = await client.call_tool("update_contact", {"contact_uuid": CONTACT_A, "attributes": pairs(changes)})

    refused(
        result, "Nothing was changed", *fragments, "Writable attributes: fake_favourite_colour, firstname, lastname."
    )
    assert attributes.called
    assert not update.called


async def test_update_contact_refuses_an_empty_change_before_reading_anything(
    client: Client, piggy: respx.MockRouter
) -> None:
    catch = anything(piggy)

    result = await client.call_tool("update_contact", {"contact_uuid": CONTACT_A, "attributes": []})

    refused(result, "attributes")
    assert catch.called is False


# send_contact_verification_email -----------------------------------------------------------


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


# verify_login_code --------------------------------------------------------------------


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


# get_contact_auth_token -----------------------------------------------------------------------


async def test_get_contact_auth_token_reads_the_documented_object(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get(f"/contact-verification/auth-token/{CONTACT_A}").respond(
        200, json=envelope({"auth_token": "fake-auth-token-not-a-secret"})
    )

    result = await client.call_tool("get_contact_auth_token", {"contact_uuid": CONTACT_A})

    assert result.is_error is False
    assert_get(the_request(route), f"/contact-verification/auth-token/{CONTACT_A}")
    assert result.structured_content == {"auth_token": "fake-auth-token-not-a-secret"}


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


# merge_contacts ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_merge_accepted_through_elicitation_sends_once(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_merge(piggy)
    user = User(**ACCEPT, probe=lambda: routes.merge.called)
    async with connect(server, mode, user) as client:
        result = await client.call_tool("merge_contacts", MERGE_ARGS)

    data = structured(result)
    assert data["status"] == "done"
    assert "asynchronous" in data["message"]
    assert "confirmation_token" not in data

    # The user was asked exactly once, about what is really at stake, before anything was sent.
    assert len(user.messages) == 1
    message = user.messages[0]
    for fact in (SOURCE_EMAIL, DESTINATION_EMAIL, str(SOURCE_BALANCE), str(DESTINATION_BALANCE)):
        assert fact in message
    assert message.index(SOURCE_EMAIL) < message.index(DESTINATION_EMAIL)
    assert user.probed == [False]
    schema = user.schemas[0]
    assert schema["properties"]["confirm"]["type"] == "boolean"
    assert routes.source.called and routes.destination.called

    assert routes.merge.call_count == 1
    assert body(routes.merge) == MERGE_ARGS


@pytest.mark.parametrize("mode", MODES)
async def test_merge_without_elicitation_round_trips_through_a_token(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_merge(piggy)
    async with connect(server, mode) as client:
        first = await client.call_tool("merge_contacts", MERGE_ARGS)

        pending = structured(first)
        assert pending["status"] == "confirmation_required"
        assert "Nothing was sent" in pending["message"]
        assert pending["expires_in_seconds"] == 600
        token = pending["confirmation_token"]
        assert isinstance(token, str) and token
        # The preview is the text an elicitation would show: both contacts, source first.
        preview = pending["preview"]
        assert f"{SOURCE_EMAIL} (uuid {CONTACT_A}, {SOURCE_BALANCE} credits) INTO" in preview
        assert f"INTO {DESTINATION_EMAIL} (uuid {CONTACT_B}, {DESTINATION_BALANCE} credits)" in preview
        assert "cannot be undone" in preview
        # The same facts reach a model that reads only the text content.
        assert token in text_of(first)
        assert SOURCE_EMAIL in text_of(first)
        assert routes.source.called and routes.destination.called
        assert not routes.merge.called

        second = await client.call_tool("merge_contacts", {**MERGE_ARGS, "confirmation_token": token})

    done = structured(second)
    assert done["status"] == "done"
    assert "asynchronous" in done["message"]
    assert "confirmation_token" not in done
    assert routes.merge.call_count == 1
    assert body(routes.merge) == MERGE_ARGS


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
    # The two preview reads, the same two again right before sending (the state the user confirmed), the merge.
    assert len(piggy.calls) == 5
    assert piggy.calls[-1].request.method == "POST"
    assert second.structured_content is not None
    assert second.structured_content["status"] == "done"
    assert "confirmation_token" not in second.structured_content


@pytest.mark.parametrize("mode", MODES)
async def test_merge_preview_failure_asks_nothing_and_sends_nothing(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_merge(piggy)
    piggy.get(f"/contacts/{CONTACT_B}").respond(400, json=CONTACT_NOT_FOUND)
    user = User(**ACCEPT)
    async with connect(server, mode, user) as client:
        result = await client.call_tool("merge_contacts", MERGE_ARGS)

    assert result.is_error
    assert "55031" in text_of(result)
    assert user.messages == []
    assert not routes.merge.called


@pytest.mark.parametrize("mode", MODES)
async def test_merge_of_a_contact_into_itself_is_refused(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    merge = piggy.post("/contacts/merge").respond(200, json=envelope(None))
    user = User(**ACCEPT)
    async with connect(server, mode, user) as client:
        result = await client.call_tool(
            "merge_contacts", {"source_contact_uuid": HEX_UUID, "destination_contact_uuid": HEX_UUID.upper()}
        )
    assert result.is_error
    assert "same contact" in text_of(result)
    assert user.messages == []
    assert not merge.called


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


@pytest.mark.parametrize("mode", MODES)
async def test_token_for_other_arguments_is_refused(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_merge(piggy)
    async with connect(server, mode) as client:
        token = structured(await client.call_tool("merge_contacts", MERGE_ARGS))["confirmation_token"]
        # The model swaps source and destination: the token was not issued for that merge.
        swapped = {"source_contact_uuid": CONTACT_B, "destination_contact_uuid": CONTACT_A}
        result = await client.call_tool("merge_contacts", {**swapped, "confirmation_token": token})
    assert result.is_error
    assert "does not match" in text_of(result)
    assert "Nothing was sent" in text_of(result)
    assert not routes.merge.called


# claim_anonymous_contact ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_claim_accepted_through_elicitation_sends_once(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_claim(piggy, existing=True)
    user = User(**ACCEPT, probe=lambda: routes.claim.called)
    async with connect(server, mode, user) as client:
        result = await client.call_tool("claim_anonymous_contact", CLAIM_ARGS)

    data = structured(result)
    assert data["status"] == "done"
    assert data["contact"] == {"uuid": CONTACT_A, "credit_balance": ANONYMOUS_BALANCE}

    assert len(user.messages) == 1
    message = user.messages[0]
    # The anonymous contact, the email, and the existing contact it will be merged with.
    for fact in (CONTACT_A, CLAIM_EMAIL, CONTACT_B, str(ANONYMOUS_BALANCE), str(EXISTING_BALANCE)):
        assert fact in message
    assert "MERGE" in message
    assert user.probed == [False]
    assert routes.anonymous.called and routes.find.called

    assert routes.claim.call_count == 1
    assert body(routes.claim) == {"email": CLAIM_EMAIL}


@pytest.mark.parametrize("mode", MODES)
async def test_claim_without_existing_contact_says_so_in_the_question(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_claim(piggy, existing=False)
    user = User(**ACCEPT, probe=lambda: routes.claim.called)
    async with connect(server, mode, user) as client:
        result = await client.call_tool("claim_anonymous_contact", CLAIM_ARGS)

    assert structured(result)["status"] == "done"
    assert len(user.messages) == 1
    message = user.messages[0]
    assert CONTACT_A in message
    assert CLAIM_EMAIL in message
    assert "no contact has it" in message
    assert "MERGE" not in message
    assert user.probed == [False]
    assert routes.find.called
    assert routes.claim.call_count == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("existing", [True, False], ids=["existing-contact", "new-email"])
async def test_claim_without_elicitation_round_trips_through_a_token(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode, existing: bool
) -> None:
    routes = fake_claim(piggy, existing=existing)
    async with connect(server, mode) as client:
        first = await client.call_tool("claim_anonymous_contact", CLAIM_ARGS)

        pending = structured(first)
        assert pending["status"] == "confirmation_required"
        assert pending["expires_in_seconds"] == 600
        token = pending["confirmation_token"]
        preview = pending["preview"]
        assert CONTACT_A in preview and CLAIM_EMAIL in preview
        if existing:
            assert f"uuid {CONTACT_A}, {ANONYMOUS_BALANCE} credits" in preview
            assert f"uuid {CONTACT_B}, {EXISTING_BALANCE} credits" in preview
            assert "MERGE" in preview
        else:
            assert "no contact has it yet" in preview and "MERGE" not in preview
        assert routes.find.called
        assert not routes.claim.called

        second = await client.call_tool("claim_anonymous_contact", {**CLAIM_ARGS, "confirmation_token": token})

    done = structured(second)
    assert done["status"] == "done"
    assert done["contact"]["uuid"] == CONTACT_A
    assert routes.claim.call_count == 1
    assert body(routes.claim) == {"email": CLAIM_EMAIL}


async def test_claim_anonymous_contact_after_confirmation_puts_the_email(
    client: Client, piggy: respx.MockRouter
) -> None:
    email = "jane.doe@example.com"
    anonymous = piggy.get(f"/contacts/{CONTACT_A}").respond(
        200, json=envelope(contact_data(CONTACT_A, "anon-0001@anonymous.example.com", 8, is_anonymous=True))
    )
    lookup = piggy.get("/contacts/find-one-by").respond(400, json=CONTACT_NOT_FOUND)
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
    # The two preview reads, the same two again right before sending (the state the user confirmed), the claim.
    assert len(piggy.calls) == 5
    assert piggy.calls[-1].request.method == "PUT"
    assert second.structured_content is not None
    assert second.structured_content["status"] == "done"
    assert second.structured_content["contact"] == {"uuid": CONTACT_A, "credit_balance": 8}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("elicits", [True, False], ids=["elicitation", "no-elicitation"])
async def test_claim_of_a_contact_that_is_not_anonymous_is_refused_before_anything_is_sent(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode, elicits: bool
) -> None:
    routes = fake_claim(piggy, anonymous=False)
    user = User(**ACCEPT) if elicits else None
    async with connect(server, mode, user) as client:
        result = await client.call_tool("claim_anonymous_contact", CLAIM_ARGS)

    assert result.is_error
    text = text_of(result)
    assert "not anonymous" in text
    assert "Nothing was sent" in text
    assert "confirmation_token" not in text
    assert user is None or user.messages == []
    assert routes.anonymous.called
    assert not routes.claim.called


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
