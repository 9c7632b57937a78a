"""The contact lifecycle tools (tools/contacts.py): create_contact, create_anonymous_contact, list_contacts and the
confirmed delete_contact.

Each sends exactly the request Piggy documents (shared/piggy-api.md §7.4) and shapes the answer; bad arguments are
refused with nothing sent; Piggy's codes come back explained. For delete_contact: what the user is asked (the
email, the credits in the program's own name and the prepaid balance lost, irreversible, scheduled). That nothing
is sent before the user agreed is tests/tools/test_confirmation_contract.py's.
"""

from __future__ import annotations

import httpx
import pytest
import respx
from mcp import Client
from mcp.server import MCPServer

from piggy_mcp.tools.runtime import Runtime
from tests.conftest import CONTACT_A, CONTACT_B
from tests.helpers import (
    ACCEPT,
    BALANCE,
    DELETE_ARGS,
    EMAIL,
    MODES,
    PREPAID_CENTS,
    Mode,
    User,
    anything,
    assert_get,
    assert_write,
    connect,
    contact,
    envelope,
    fake_delete,
    fake_program,
    piggy_error,
    refused,
    structured,
    the_request,
)

# create_contact -------------------------------------------------------------------------------------------


async def test_create_contact_posts_the_email(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.post("/contacts").respond(200, json=envelope({"uuid": CONTACT_A}))

    result = await client.call_tool("create_contact", {"email": EMAIL})

    assert_write(the_request(route), "POST", "/contacts", {"email": EMAIL})
    assert structured(result) == {"uuid": CONTACT_A, "created": True}


async def test_create_contact_answers_with_the_existing_contact(client: Client, piggy: respx.MockRouter) -> None:
    create = piggy.post("/contacts").mock(return_value=piggy_error(60005, "Contact already exists"))
    find = piggy.get("/contacts/find-one-by").respond(200, json=envelope(contact(CONTACT_B, EMAIL, 12)))

    result = await client.call_tool("create_contact", {"email": EMAIL})

    assert create.call_count == 1
    assert_get(the_request(find), "/contacts/find-one-by", [("email", EMAIL)])
    assert structured(result) == {"uuid": CONTACT_B, "created": False}


async def test_create_contact_explains_a_usage_limit(client: Client, piggy: respx.MockRouter) -> None:
    piggy.post("/contacts").mock(return_value=piggy_error(60000, "Usage limit reached"))

    refused(await client.call_tool("create_contact", {"email": EMAIL}), "60000", "usage limit of its plan")


async def test_create_contact_refuses_a_bad_email(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)

    refused(await client.call_tool("create_contact", {"email": "jane@"}), "email")
    assert not catch.called


# create_anonymous_contact ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "sent"),
    [({}, {}), ({"contact_identifier_value": "CARD-0001"}, {"contact_identifier_value": "CARD-0001"})],
    ids=["bare", "with-card"],
)
async def test_create_anonymous_contact(
    client: Client, piggy: respx.MockRouter, arguments: dict[str, str], sent: dict[str, str]
) -> None:
    route = piggy.post("/contacts/anonymous").respond(200, json=envelope({"uuid": CONTACT_A}))

    result = await client.call_tool("create_anonymous_contact", arguments)

    assert_write(the_request(route), "POST", "/contacts/anonymous", sent)
    assert structured(result) == {"uuid": CONTACT_A}


async def test_create_anonymous_contact_with_a_linked_card_is_explained(
    client: Client, piggy: respx.MockRouter
) -> None:
    piggy.post("/contacts/anonymous").mock(return_value=piggy_error(60014, "Contact identifier is already linked"))

    result = await client.call_tool("create_anonymous_contact", {"contact_identifier_value": "CARD-0001"})

    refused(result, "60014", "already linked to a contact")


async def test_create_anonymous_contact_refuses_an_empty_card(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)

    refused(await client.call_tool("create_anonymous_contact", {"contact_identifier_value": ""}), "contact_identifier")
    assert not catch.called


# list_contacts --------------------------------------------------------------------------------------------


def listed(uuid: str, email: str, created_at: str) -> dict[str, object]:
    return {
        **contact(uuid, email, 7),
        "current_values": {"is_anonymous": False, "created_at": created_at, "firstname": "Fake", "login_code": "x"},
    }


async def test_list_contacts_newest_first_between_two_dates(client: Client, piggy: respx.MockRouter) -> None:
    meta = {"page": 2, "limit": "2", "viewing_from": 3, "viewing_to": 4, "last_page": 3, "total": 5}
    data = [listed(CONTACT_B, "b@example.com", "2026-01-05T10:00:00+00:00"), listed(CONTACT_A, EMAIL, "2026-01-02")]
    route = piggy.get("/contacts").respond(200, json={"data": data, "meta": meta})

    result = await client.call_tool(
        "list_contacts",
        {"page": 2, "limit": 2, "created_from": "2026-01-01T00:00:00Z", "created_to": "2026-01-31T23:59:59Z"},
    )

    assert_get(
        the_request(route),
        "/contacts",
        [
            ("sort", "-created_at"),
            ("created_at[gte]", "2026-01-01T00:00:00Z"),
            ("created_at[lte]", "2026-01-31T23:59:59Z"),
            ("page", "2"),
            ("limit", "2"),
        ],
    )
    # Without profile fields (and the portal login code among them): get_contact reads those.
    assert structured(result) == {
        "contacts": [
            {
                "uuid": CONTACT_B,
                "email": "b@example.com",
                "is_anonymous": False,
                "credit_balance": 7,
                "created_at": "2026-01-05T10:00:00+00:00",
            },
            {"uuid": CONTACT_A, "email": EMAIL, "is_anonymous": False, "credit_balance": 7, "created_at": "2026-01-02"},
        ],
        "total": 5,
        "has_more": True,
        "next_page": 3,
    }


async def test_list_contacts_without_arguments_only_sorts(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get("/contacts").respond(200, json={"data": [], "meta": []})

    result = await client.call_tool("list_contacts", {})

    assert_get(the_request(route), "/contacts", [("sort", "-created_at")])
    assert structured(result) == {"contacts": [], "has_more": False}


@pytest.mark.parametrize(
    ("arguments", "rejected"),
    [({"limit": 101}, "limit"), ({"page": 0}, "page"), ({"created_from": "last week"}, "created_from")],
)
async def test_list_contacts_refuses_bad_arguments(
    client: Client, piggy: respx.MockRouter, arguments: dict[str, object], rejected: str
) -> None:
    catch = anything(piggy)

    refused(await client.call_tool("list_contacts", arguments), rejected)
    assert not catch.called


# delete_contact -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_delete_asks_with_what_is_lost_in_the_programs_words(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_delete(piggy)
    fake_program(piggy, "Beans")
    user = User(**ACCEPT, probe=lambda: routes.delete.called)
    async with connect(server, mode, user) as client:
        result = await client.call_tool("delete_contact", DELETE_ARGS)

    assert structured(result)["status"] == "done"
    assert "within a few minutes" in structured(result)["message"]
    (message,) = user.messages
    for fact in (
        EMAIL,
        CONTACT_A,
        f"{BALANCE} beans",
        f"{PREPAID_CENTS} cents",
        "GDPR",
        "cannot be undone",
        "schedules the deletion",
    ):
        assert fact in message, (fact, message)
    assert " credits" not in message
    assert user.probed == [False]
    assert_write(the_request(routes.delete), "POST", f"/contacts/{CONTACT_A}/delete", {"type": "GDPR"})


async def test_delete_without_elicitation_previews_and_sends_nothing(client: Client, piggy: respx.MockRouter) -> None:
    routes = fake_delete(piggy)
    piggy.get("/loyalty-program").mock(return_value=httpx.Response(503))  # the name falls back to credits

    result = await client.call_tool("delete_contact", {**DELETE_ARGS, "type": "DEFAULT"})

    data = structured(result)
    assert data["status"] == "confirmation_required"
    assert f"{BALANCE} credits" in data["preview"] and "Piggy keeps a log" in data["preview"]
    assert not routes.delete.called


async def test_delete_of_an_unknown_contact_is_explained_and_sends_nothing(
    client: Client, piggy: respx.MockRouter
) -> None:
    piggy.get(f"/contacts/{CONTACT_A}").mock(return_value=piggy_error(55031, "Contact not found"))
    delete = piggy.post(f"/contacts/{CONTACT_A}/delete").respond(200, json=envelope(None))

    refused(await client.call_tool("delete_contact", DELETE_ARGS), "55031", "Check the contact uuid")
    assert not delete.called


async def test_delete_refuses_an_unknown_type(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)

    refused(await client.call_tool("delete_contact", {**DELETE_ARGS, "type": "SOFT"}), "type")
    assert not catch.called
