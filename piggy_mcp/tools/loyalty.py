"""Loyalty credits: award credits for purchases and read a contact's balance."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field, WithJsonSchema

from piggy_mcp.schema import guard
from piggy_mcp.tools.args import ContactUuid, ShopUuid, Text, Uuid
from piggy_mcp.tools.base import READ, WRITE, Result, Toolset, api

toolset = Toolset("loyalty", "Award loyalty credits and read credit balances.")


class CreditBalance(Result):
    contact_uuid: str
    balance: int


@toolset.tool(title="Get credit balance", annotations=READ)
async def get_contact_credit_balance(contact_uuid: ContactUuid, ctx: Context[Any, Any]) -> CreditBalance:
    """Read a contact's loyalty credits (points), e.g. when a member asks."""
    data = await api(ctx).get_credit_balance(contact_uuid)
    return CreditBalance(contact_uuid=contact_uuid, balance=data["balance"])


class CreditReception(Result):
    uuid: str
    credits: int
    balance_after: int | None = None


# Loyalty-transaction attribute values, advertised compactly (an integer is a number).
TransactionAttribute = Annotated[str | int | float | bool, WithJsonSchema({"type": ["string", "number", "boolean"]})]


@toolset.tool(title="Award credits", annotations=WRITE)
async def create_credit_reception(
    contact_uuid: ContactUuid,
    shop_uuid: ShopUuid,
    ctx: Context[Any, Any],
    credits: Annotated[
        int | None, Field(description="Credits to award, bypassing the rules."), guard(ge=-1_000_000, le=1_000_000)
    ] = None,
    unit_value: Annotated[
        float | None,
        Field(ge=0, description="Amount, e.g. 10.40 (EUR)."),
        guard(le=10_000_000),
    ] = None,
    unit_name: Annotated[
        str | None, Field(description="The unit; default: the account's."), guard(max_length=64)
    ] = None,
    contact_identifier_value: Annotated[Text | None, Field(description="Card or other identifier used.")] = None,
    pos_transaction_uuid: Annotated[Uuid | None, Field(description="Its POS transaction.")] = None,
    attributes: Annotated[
        dict[str, TransactionAttribute] | None,
        Field(description="Transaction attribute values by name."),
    ] = None,
) -> CreditReception:
    """Award a contact loyalty credits, e.g. for a purchase: unit_value (the loyalty rules turn it into credits)
    or credits, not both; negative credits take some back. Not idempotent: check the balance before retrying an
    unknown outcome."""
    if (credits is None) == (unit_value is None):
        raise ToolError("Give exactly one of credits (a number of credits) or unit_value (e.g. a purchase amount).")
    data = await api(ctx).create_credit_reception(
        contact_uuid,
        shop_uuid,
        credits=credits,
        unit_value=unit_value,
        unit_name=unit_name,
        contact_identifier_value=contact_identifier_value,
        pos_transaction_uuid=pos_transaction_uuid,
        attributes=attributes,
    )
    balance = ((data.get("contact") or {}).get("credit_balance") or {}).get("balance")
    return CreditReception(uuid=data["uuid"], credits=data["credits"], balance_after=balance)
