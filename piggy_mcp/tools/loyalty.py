"""Loyalty credits: balances, awarding and reversing credits, a member's history, and the shops they happen in."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field, WithJsonSchema

from piggy_mcp.piggy import PiggyAPI
from piggy_mcp.piggy.models import CreditReception, LoyaltyTransaction, Reversal, Shop
from piggy_mcp.piggy.program import DEFAULT_CREDIT_NAME, LoyaltyProgram, Tier
from piggy_mcp.schema import unadvertised_limits
from piggy_mcp.tools.args import (
    AttributeName,
    ContactUuid,
    NamedOnce,
    PageNumber,
    ShopUuid,
    ShortText,
    Text,
    Uuid,
)
from piggy_mcp.tools.confirmation import ConfirmableResult, shown_email
from piggy_mcp.tools.never_twice import IDEMPOTENCY_TTL, IdempotencyKey, at_most_once
from piggy_mcp.tools.results import Paged, Result
from piggy_mcp.tools.runtime import api
from piggy_mcp.tools.toolset import READ, WRITE, Toolset

toolset = Toolset("loyalty", "Read and award loyalty credits, reverse them, read a member's history; list shops.")


class CreditBalance(Result):
    contact_uuid: str
    balance: int


@toolset.tool(title="Get credit balance", annotations=READ)
async def get_contact_credit_balance(contact_uuid: ContactUuid, ctx: Context[Any, Any]) -> CreditBalance:
    """Read a contact's loyalty credits (points), e.g. when a member asks."""
    return CreditBalance(contact_uuid=contact_uuid, balance=await api(ctx).get_credit_balance(contact_uuid))


class TransactionValue(BaseModel):
    name: AttributeName
    # An integer is a number; alternatives, not a list of types, which strict function calling refuses.
    value: Annotated[
        Text | int | float | bool,
        WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}),
    ]


# A credit reception as awarded; already_processed: its idempotency_key was used before, and nothing was sent now.
class Award(CreditReception):
    already_processed: bool | None = None


@toolset.tool(title="Award credits", annotations=WRITE)
async def create_credit_reception(
    contact_uuid: ContactUuid,
    ctx: Context[Any, Any],
    shop_uuid: ShopUuid = None,
    credits: Annotated[
        int | None,
        Field(strict=True, description="Credits to award, bypassing the rules."),
        unadvertised_limits(ge=-1_000_000, le=1_000_000),
    ] = None,
    unit_value: Annotated[
        float | None,
        Field(strict=True, ge=0, description="Amount, e.g. 10.40 (EUR)."),
        unadvertised_limits(le=10_000_000),
    ] = None,
    unit_name: Annotated[ShortText | None, Field(description="The unit; default: the account's.")] = None,
    contact_identifier_value: Annotated[Text | None, Field(description="Card or other identifier used.")] = None,
    pos_transaction_uuid: Annotated[Uuid | None, Field(description="Its POS transaction.")] = None,
    attributes: Annotated[
        Annotated[list[TransactionValue], NamedOnce] | None,
        Field(description="Transaction attribute values."),
        unadvertised_limits(max_length=50),
    ] = None,
    idempotency_key: IdempotencyKey = None,
) -> Award:
    """Award a contact loyalty credits, e.g. for a purchase: unit_value (the loyalty rules turn it into credits)
    or credits, not both; negative credits take some back. Not idempotent: pass idempotency_key, or a retry may
    award twice."""
    if (credits is None) == (unit_value is None):  # what sending both means is undocumented (decision D21)
        raise ToolError("Give exactly one of credits (a number of credits) or unit_value (e.g. a purchase amount).")

    async def send() -> Award:
        reception = await api(ctx).create_credit_reception(
            contact_uuid,
            shop_uuid,
            credits=credits,
            unit_value=unit_value,
            unit_name=unit_name,
            contact_identifier_value=contact_identifier_value,
            pos_transaction_uuid=pos_transaction_uuid,
            attributes={entry.name: entry.value for entry in attributes or []},
        )
        return Award.model_validate(reception, from_attributes=True)

    return await at_most_once(
        ctx,
        scope="credit-reception",
        key=idempotency_key,
        ttl_seconds=IDEMPOTENCY_TTL,
        send=send,
        result_type=Award,
        repeat={"already_processed": True},
    )


# Reverse a credit reception -----------------------------------------------------------------------


class ReversalPreview(Result):
    credit_reception_uuid: str
    email: str | None = None
    balance: int | None = None
    credits: int | None = None
    created_at: str | None = None
    balance_after: int | None = None
    credit_name: str = DEFAULT_CREDIT_NAME

    def describe(self) -> str:
        name = self.credit_name
        if self.credits is None:
            return (
                f"Reverse credit reception {self.credit_reception_uuid}: Piggy books an opposite reception that "
                f"takes its {name} back from the contact who received them."
            )
        change = f"Take {self.credits} {name} back from" if self.credits >= 0 else f"Give {-self.credits} {name} to"
        return (
            f"{change} {shown_email(self.email, missing='a contact')}, who has {self.balance} {name}, by "
            f"reversing the credit reception of {self.created_at or 'an unknown date'}. "
            f"Balance after: {self.balance_after} {name}."
        )


class ReverseResult(ConfirmableResult):
    reversal: Reversal | None = None


async def reversal_preview(piggy: PiggyAPI, credit_reception_uuid: str, contact_uuid: str | None) -> ReversalPreview:
    if contact_uuid is None:
        # Without the contact there is no way to read the reception: the preview says what happens.
        return ReversalPreview(credit_reception_uuid=credit_reception_uuid, credit_name=await piggy.credit_name())
    contact = await piggy.get_contact(contact_uuid)
    reception = await piggy.find_credit_reception(contact_uuid, credit_reception_uuid)
    if reception is None:
        raise ToolError(
            f"Credit reception {credit_reception_uuid} is not among the latest credit receptions of contact "
            f"{contact_uuid}. Nothing was sent. Check both uuids with list_loyalty_transactions."
        )
    balance, credits = contact.credit_balance or 0, reception.credits or 0
    return ReversalPreview(
        credit_reception_uuid=credit_reception_uuid,
        email=contact.email,
        balance=balance,
        credits=credits,
        created_at=reception.created_at,
        balance_after=balance - credits,
        credit_name=await piggy.credit_name(),
    )


@toolset.confirmed(title="Reverse credit reception", preview=reversal_preview)
async def reverse_credit_reception(
    credit_reception_uuid: Annotated[Uuid, Field(description="The credit reception to undo.")],
    ctx: Context[Any, Any],
    contact_uuid: Annotated[
        ContactUuid | None,
        Field(description="Who received them, for a preview of the balance after."),
    ] = None,
) -> ReverseResult:
    """Take back the credits of one credit reception (e.g. a refunded purchase) with an opposite reception.
    Find it with list_loyalty_transactions. Asks the user to confirm first."""
    reversal = await api(ctx).reverse_credit_reception(credit_reception_uuid)
    return ReverseResult(status="done", message="The credits were taken back.", reversal=reversal)


# History ------------------------------------------------------------------------------------------


class LoyaltyTransactions(Paged):
    transactions: list[LoyaltyTransaction]


@toolset.tool(title="List loyalty transactions", annotations=READ, untrusted=("transactions",))
async def list_loyalty_transactions(
    contact_uuid: ContactUuid,
    ctx: Context[Any, Any],
    type: Annotated[
        Literal["credit_receptions", "reward_receptions"] | None,
        Field(description="Only credits received, or only rewards redeemed."),
    ] = None,
    page: PageNumber = None,
    limit: Annotated[int | None, Field(strict=True, ge=1, le=100, description="Per page (default 10).")] = None,
) -> LoyaltyTransactions:
    """List a member's credit receptions and reward redemptions, e.g. to check whether a write with an unknown
    outcome went through."""
    found = await api(ctx).list_loyalty_transactions(contact_uuid, type, page, limit)
    return LoyaltyTransactions(
        transactions=found.items, total=found.total, has_more=found.has_more, next_page=found.next_page
    )


# Shops --------------------------------------------------------------------------------------------


class Shops(Result):
    shops: list[Shop]


@toolset.tool(title="List shops", annotations=READ, untrusted=("shops",))
async def list_shops(ctx: Context[Any, Any]) -> Shops:
    """List the account's shops (physical or web), whose uuids other tools take."""
    return Shops(shops=await api(ctx).list_shops())


# The loyalty program and tiers --------------------------------------------------------------------


@toolset.tool(title="Get loyalty program", annotations=READ, untrusted=("name", "credit_name", "unit_label"))
async def get_loyalty_program(ctx: Context[Any, Any]) -> LoyaltyProgram:
    """Read the loyalty program: its name, what it calls credits (credit_name, e.g. beans: say that to members),
    the most one reception may award (max_amount) and its unit."""
    return await api(ctx).get_loyalty_program()


class Tiers(Result):
    tiers: list[Tier]


@toolset.tool(title="List tiers", annotations=READ, untrusted=("tiers",))
async def list_tiers(ctx: Context[Any, Any]) -> Tiers:
    """List the program's tiers (levels such as Silver or Gold) by position. Piggy assigns them by rules the API
    does not show."""
    return Tiers(tiers=await api(ctx).list_tiers())


class ContactTier(Result):
    contact_uuid: str
    tier: Tier | None = None


@toolset.tool(title="Get contact tier", annotations=READ, untrusted=("tier",))
async def get_contact_tier(contact_uuid: ContactUuid, ctx: Context[Any, Any]) -> ContactTier:
    """Read the tier a member has reached; no tier if they have none yet."""
    return ContactTier(contact_uuid=contact_uuid, tier=await api(ctx).get_contact_tier(contact_uuid))
