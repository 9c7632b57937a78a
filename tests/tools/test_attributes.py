"""The attributes tools (tools/attributes.py): list_contact_attributes says which fields can be written, and
create_contact_attribute sends exactly what Piggy documents (§3.2), refusing bad definitions before anything is
sent."""

from __future__ import annotations

from typing import Any

import respx
from mcp import Client

from tests.helpers import ATTRIBUTES, anything, assert_get, assert_write, envelope, refused, the_request

# list_contact_attributes -------------------------------------------------------------------------------------


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
    created: dict[str, Any] = {
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

    refused(result, "data_type", "multi_select")
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
