"""Loyalty credits: award credits for purchases and read a contact's balance."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from piggy_mcp.tools.args import ContactUuid, ShopUuid, Uuid
from piggy_mcp.tools.base import READ, WRITE, Result, Toolset, api

toolset = Toolset("loyalty", "Award loyalty credits and read credit balances.")


class CreditBalance(Result):
    contact_uuid: str
    balance: int


@toolset.tool(title="Get credit balance", annotations=READ)
async def get_contact_credit_balance(contact_uuid: ContactUuid, ctx: Context[Any, Any]) -> CreditBalance:
    """Read how many loyalty credits (points) a contact has."""
    data = await api(ctx).get_credit_balance(contact_uuid)
    return CreditBalance(contact_uuid=contact_uuid, balance=data["balance"])


class CreditReception(Result):
    uuid: str
    credits: int
    unit_value: float | None = None
    balance_after: int | None = None


@toolset.tool(title="Award credits", annotations=WRITE)
async def create_credit_reception(
    contact_uuid: ContactUuid,
    shop_uuid: ShopUuid,
    ctx: Context[Any, Any],
    credits: Annotated[
        int | None,
        Field(ge=-1_000_000, le=1_000_000, description="Credits to award directly, bypassing the loyalty rules."),
    ] = None,
    unit_value: Annotated[
        float | None,
        Field(
            ge=0,
            le=10_000_000,
            description="Amount in the unit (e.g. 10.40 for a EUR 10.40 purchase); "
            "Piggy's loyalty rules turn it into credits.",
        ),
    ] = None,
    unit_name: Annotated[
        str | None, Field(max_length=64, description="Unit of unit_value; default: the account's default unit.")
    ] = None,
    contact_identifier_value: Annotated[
        str | None, Field(max_length=255, description="Loyalty card or other identifier used for this purchase.")
    ] = None,
    pos_transaction_uuid: Annotated[
        Uuid | None, Field(description="The POS transaction these credits are for.")
    ] = None,
    attributes: Annotated[
        dict[str, str | int | float | bool] | None,
        Field(description="Loyalty-transaction attribute values by name, as defined in Piggy."),
    ] = None,
) -> CreditReception:
    """Award loyalty credits to a contact, e.g. for a purchase. Give exactly one of credits or unit_value.

    Not idempotent: each call awards again. If a call's outcome is unknown, read the balance before retrying.
    Negative credits take credits back for a partial refund.
    """
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
    return CreditReception(
        uuid=data["uuid"], credits=data["credits"], unit_value=data.get("unit_value"), balance_after=balance
    )
