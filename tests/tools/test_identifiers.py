"""The identifiers toolset (tools/identifiers.py, opt-in): find_contact_identifier, list_contact_identifiers,
create_contact_identifier, link_contact_identifier and unlink_contact_identifier.

Each sends exactly the request Piggy documents (shared/piggy-api.md §7.5) and shapes the answer; what create, link
and unlink answer is undocumented (decision D51), so an answer of another form still reads as done. Bad arguments
are refused with nothing sent; Piggy's codes come back explained.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import respx
from mcp import Client

from piggy_mcp.server import build_server
from tests.conftest import CONTACT_A, make_settings
from tests.helpers import (
    EMAIL,
    anything,
    assert_get,
    assert_write,
    envelope,
    list_all_tools,
    piggy_error,
    refused,
    structured,
    the_request,
)

CARD = "CARD-0001"


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    async with Client(build_server(make_settings(toolsets=["identifiers"]))) as connected:
        yield connected


def card(contact: dict[str, Any] | None) -> dict[str, Any]:
    return {"name": "Fake card", "value": CARD, "active": True, "contact": contact}


async def test_the_toolset_is_opt_in() -> None:
    async with Client(build_server(make_settings())) as default:
        names = {tool.name for tool in await list_all_tools(default)}
    assert "find_contact_identifier" not in names


async def test_find_a_linked_card(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get("/contact-identifiers/find").respond(
        200, json=envelope(card({"uuid": CONTACT_A, "email": EMAIL}))
    )

    result = await client.call_tool("find_contact_identifier", {"contact_identifier_value": CARD})

    assert_get(the_request(route), "/contact-identifiers/find", [("contact_identifier_value", CARD)])
    assert structured(result) == {"value": CARD, "name": "Fake card", "active": True, "contact_uuid": CONTACT_A}


async def test_find_an_unlinked_card(client: Client, piggy: respx.MockRouter) -> None:
    piggy.get("/contact-identifiers/find").respond(200, json=envelope(card(None)))

    result = await client.call_tool("find_contact_identifier", {"contact_identifier_value": CARD})

    assert structured(result) == {"value": CARD, "name": "Fake card", "active": True}


@pytest.mark.parametrize(("code", "says"), [(60003, "No card"), (60004, "inactive")])
async def test_find_explains_piggys_codes(client: Client, piggy: respx.MockRouter, code: int, says: str) -> None:
    piggy.get("/contact-identifiers/find").mock(return_value=piggy_error(code, "Fake"))

    refused(await client.call_tool("find_contact_identifier", {"contact_identifier_value": CARD}), str(code), says)


async def test_list_a_contacts_cards(client: Client, piggy: respx.MockRouter) -> None:
    items = [{"name": "Fake card", "value": CARD, "active": True, "default": True, "contact": {"uuid": CONTACT_A}}]
    route = piggy.get(f"/contacts/{CONTACT_A}/contact-identifiers").respond(200, json=envelope(items))

    result = await client.call_tool("list_contact_identifiers", {"contact_uuid": CONTACT_A})

    assert_get(the_request(route), f"/contacts/{CONTACT_A}/contact-identifiers")
    assert structured(result) == {
        "identifiers": [
            {"value": CARD, "name": "Fake card", "active": True, "default": True, "contact_uuid": CONTACT_A}
        ]
    }


async def test_create_a_card_for_a_contact(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.post("/contact-identifiers").respond(200, json=envelope(card({"uuid": CONTACT_A})))

    result = await client.call_tool(
        "create_contact_identifier",
        {"contact_identifier_value": CARD, "contact_uuid": CONTACT_A, "contact_identifier_name": "Fake card"},
    )

    assert_write(
        the_request(route),
        "POST",
        "/contact-identifiers",
        {"contact_identifier_value": CARD, "contact_uuid": CONTACT_A, "contact_identifier_name": "Fake card"},
    )
    assert structured(result) == {"value": CARD, "name": "Fake card", "active": True, "contact_uuid": CONTACT_A}


async def test_create_with_an_undocumented_answer_reports_what_was_sent(
    client: Client, piggy: respx.MockRouter
) -> None:
    route = piggy.post("/contact-identifiers").respond(200, json=envelope([]))

    result = await client.call_tool("create_contact_identifier", {"contact_identifier_value": CARD})

    assert_write(the_request(route), "POST", "/contact-identifiers", {"contact_identifier_value": CARD})
    assert structured(result) == {"value": CARD}


async def test_create_an_existing_card_is_explained(client: Client, piggy: respx.MockRouter) -> None:
    piggy.post("/contact-identifiers").mock(return_value=piggy_error(60006, "Contact identifier already exists"))

    refused(await client.call_tool("create_contact_identifier", {"contact_identifier_value": CARD}), "60006")


async def test_link_a_card(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.put("/contact-identifiers/link").respond(200, json=envelope(None))

    result = await client.call_tool(
        "link_contact_identifier", {"contact_identifier_value": CARD, "contact_uuid": CONTACT_A}
    )

    assert_write(
        the_request(route),
        "PUT",
        "/contact-identifiers/link",
        {"contact_identifier_value": CARD, "contact_uuid": CONTACT_A},
    )
    assert structured(result) == {"value": CARD, "contact_uuid": CONTACT_A}


async def test_linking_a_linked_card_is_explained(client: Client, piggy: respx.MockRouter) -> None:
    piggy.put("/contact-identifiers/link").mock(return_value=piggy_error(60014, "Contact identifier is already linked"))

    result = await client.call_tool(
        "link_contact_identifier", {"contact_identifier_value": CARD, "contact_uuid": CONTACT_A}
    )

    refused(result, "60014", "already linked to a contact", "unlink it")


async def test_unlink_a_card(client: Client, piggy: respx.MockRouter) -> None:
    # Whatever the answer echoes, an unlinked card holds no contact.
    route = piggy.put("/contact-identifiers/unlink").respond(200, json=envelope(card({"uuid": CONTACT_A})))

    result = await client.call_tool("unlink_contact_identifier", {"contact_identifier_value": CARD})

    assert_write(the_request(route), "PUT", "/contact-identifiers/unlink", {"contact_identifier_value": CARD})
    assert structured(result) == {"value": CARD, "name": "Fake card", "active": True}


@pytest.mark.parametrize(
    ("tool", "arguments", "rejected"),
    [
        ("find_contact_identifier", {"contact_identifier_value": ""}, "contact_identifier_value"),
        ("link_contact_identifier", {"contact_identifier_value": CARD, "contact_uuid": "nobody"}, "contact_uuid"),
        ("create_contact_identifier", {"contact_identifier_value": "x" * 256}, "contact_identifier_value"),
        ("unlink_contact_identifier", {"contact_identifier_value": "CARD\x00"}, "contact_identifier_value"),
    ],
)
async def test_bad_arguments_are_refused_with_nothing_sent(
    client: Client, piggy: respx.MockRouter, tool: str, arguments: dict[str, Any], rejected: str
) -> None:
    catch = anything(piggy)

    refused(await client.call_tool(tool, arguments), rejected)
    assert not catch.called
