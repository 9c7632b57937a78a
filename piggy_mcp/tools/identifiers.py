"""Contact identifiers: loyalty cards and other values that stand for a contact, found, listed, created and moved."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from piggy_mcp.piggy.identifiers import ContactIdentifier
from piggy_mcp.tools.args import ContactUuid, NonEmptyText, Text
from piggy_mcp.tools.results import Result
from piggy_mcp.tools.runtime import api
from piggy_mcp.tools.toolset import IDEMPOTENT, READ, WRITE, Toolset

toolset = Toolset(
    "identifiers", "Loyalty cards and other contact identifiers: find, list, create, link, unlink.", default=False
)

CardValue = Annotated[NonEmptyText, Field(description="The card's value, e.g. its number.")]


@toolset.tool(title="Find card", annotations=READ, untrusted=("name",))
async def find_contact_identifier(contact_identifier_value: CardValue, ctx: Context[Any, Any]) -> ContactIdentifier:
    """Find a loyalty card (or other contact identifier) by its value, e.g. one scanned at the till: whether it
    is active, and its contact (contact_uuid, absent if none)."""
    return await api(ctx).find_contact_identifier(contact_identifier_value)


class ContactIdentifiers(Result):
    identifiers: list[ContactIdentifier]


@toolset.tool(title="List contact cards", annotations=READ, untrusted=("identifiers",))
async def list_contact_identifiers(contact_uuid: ContactUuid, ctx: Context[Any, Any]) -> ContactIdentifiers:
    """List a contact's loyalty cards and other identifiers: which are active, which is the default."""
    return ContactIdentifiers(identifiers=await api(ctx).list_contact_identifiers(contact_uuid))


@toolset.tool(title="Create card", annotations=WRITE, untrusted=("name",))
async def create_contact_identifier(
    contact_identifier_value: CardValue,
    ctx: Context[Any, Any],
    contact_uuid: Annotated[ContactUuid | None, Field(description="Link it to this contact now.")] = None,
    contact_identifier_name: Annotated[Text | None, Field(description="Its name; default: the value.")] = None,
) -> ContactIdentifier:
    """Register a new loyalty card by its value, linked to a contact if given. Piggy refuses a value it has
    already."""
    return await api(ctx).create_contact_identifier(contact_identifier_value, contact_uuid, contact_identifier_name)


@toolset.tool(title="Link card", annotations=IDEMPOTENT, untrusted=("name",))
async def link_contact_identifier(
    contact_identifier_value: CardValue, contact_uuid: ContactUuid, ctx: Context[Any, Any]
) -> ContactIdentifier:
    """Link an unlinked loyalty card to a contact, e.g. one handed to a member. Piggy refuses a card linked to
    someone: unlink it first, only with its holder's consent."""
    return await api(ctx).link_contact_identifier(contact_identifier_value, contact_uuid)


@toolset.tool(title="Unlink card", annotations=IDEMPOTENT, untrusted=("name",))
async def unlink_contact_identifier(contact_identifier_value: CardValue, ctx: Context[Any, Any]) -> ContactIdentifier:
    """Detach a loyalty card from its contact, e.g. a lost card; the card stays registered and can be linked
    again."""
    return await api(ctx).unlink_contact_identifier(contact_identifier_value)
