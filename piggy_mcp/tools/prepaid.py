"""Prepaid balances: read a member's balance and history, add or spend an amount, reverse a transaction."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from piggy_mcp.piggy import PiggyAPI
from piggy_mcp.piggy.prepaid import PREPAID_MAX_LIMIT, PrepaidTransaction, balance_after
from piggy_mcp.tools.args import ContactUuid, PageNumber, ShopUuid, Uuid
from piggy_mcp.tools.confirmation import ConfirmableResult, shown_email
from piggy_mcp.tools.giftcards import AmountInCents
from piggy_mcp.tools.never_twice import ALREADY_PROCESSED, IDEMPOTENCY_TTL, REPEAT_NOTE, IdempotencyKey, at_most_once
from piggy_mcp.tools.results import Paged, Result
from piggy_mcp.tools.runtime import api
from piggy_mcp.tools.toolset import READ, Toolset

toolset = Toolset("prepaid", "Prepaid balances: read them and their history, add, spend, reverse.", default=False)


class PrepaidBalance(Result):
    balance_in_cents: int


@toolset.tool(title="Get prepaid balance", annotations=READ)
async def get_prepaid_balance(contact_uuid: ContactUuid, ctx: Context[Any, Any]) -> PrepaidBalance:
    """Read a contact's prepaid balance (money kept with the shop), in cents."""
    balance = await api(ctx).get_prepaid_balance(contact_uuid)
    return PrepaidBalance(balance_in_cents=balance)


class PrepaidTransactions(Paged):
    transactions: list[PrepaidTransaction]


@toolset.tool(title="List prepaid transactions", annotations=READ)
async def list_prepaid_transactions(
    contact_uuid: ContactUuid,
    ctx: Context[Any, Any],
    page: PageNumber = None,
    limit: Annotated[
        int | None, Field(strict=True, ge=1, le=PREPAID_MAX_LIMIT, description="Per page (default 10).")
    ] = None,
) -> PrepaidTransactions:
    """List a contact's prepaid transactions, e.g. to check an unknown outcome."""
    found = await api(ctx).list_prepaid_transactions(contact_uuid, None, page, limit)
    return PrepaidTransactions(
        transactions=found.items, total=found.total, has_more=found.has_more, next_page=found.next_page
    )


# Writes -------------------------------------------------------------------------------------------


class PrepaidPreview(Result):
    email: str | None = None
    balance: int
    amount_in_cents: int
    balance_after: int
    reversed_uuid: str | None = None
    repeatable: bool = False

    def describe(self) -> str:
        who = shown_email(self.email, missing="a contact")
        if self.reversed_uuid is not None:
            change = f"Reverse prepaid transaction {self.reversed_uuid} of {self.amount_in_cents} cents for {who}"
        elif self.amount_in_cents > 0:
            change = f"Add {self.amount_in_cents} cents to the prepaid balance of {who}"
        else:
            change = f"Spend {-self.amount_in_cents} cents of the prepaid balance of {who}"
        return f"{change}, which is {self.balance} cents. Balance after: {self.balance_after} cents." + (
            REPEAT_NOTE if self.repeatable else ""
        )


async def _preview(
    piggy: PiggyAPI, contact_uuid: str, change: int, *, reversed_uuid: str | None = None, repeatable: bool = False
) -> PrepaidPreview:
    contact = await piggy.get_contact(contact_uuid)
    balance = await piggy.get_prepaid_balance(contact_uuid)
    after = balance_after(balance, change)
    # A repeat is answered with its first result, whatever the balance now: only a new change is checked here.
    if after is None and not repeatable:
        raise ToolError(
            f"The prepaid balance of contact {contact_uuid} is {balance} cents: it cannot go {-change - balance} "
            "cents below zero. Nothing was sent."
        )
    return PrepaidPreview(
        email=contact.email,
        balance=balance,
        amount_in_cents=change if reversed_uuid is None else -change,
        balance_after=balance + change,
        reversed_uuid=reversed_uuid,
        repeatable=repeatable,
    )


async def transaction_preview(
    piggy: PiggyAPI, contact_uuid: str, amount_in_cents: int, shop_uuid: str | None, idempotency_key: str | None
) -> PrepaidPreview:
    piggy.shop(shop_uuid)  # a call that names no shop, with no default, is refused before the user is asked
    return await _preview(piggy, contact_uuid, amount_in_cents, repeatable=idempotency_key is not None)


class TransactionResult(ConfirmableResult):
    transaction_uuid: str | None = None
    already_processed: bool | None = None


@toolset.confirmed(title="Add or spend prepaid", preview=transaction_preview)
async def create_prepaid_transaction(
    contact_uuid: ContactUuid,
    amount_in_cents: AmountInCents,
    ctx: Context[Any, Any],
    shop_uuid: ShopUuid = None,
    idempotency_key: IdempotencyKey = None,
) -> TransactionResult:
    """Add to or spend (negative) a contact's prepaid balance. Pass idempotency_key, or a retry may book twice.
    Asks the user to confirm first."""

    async def send() -> TransactionResult:
        done = await api(ctx).create_prepaid_transaction(contact_uuid, amount_in_cents, shop_uuid)
        return TransactionResult(status="done", message="The transaction was booked.", transaction_uuid=done.uuid)

    return await at_most_once(
        ctx,
        scope="prepaid-transaction",
        key=idempotency_key,
        ttl_seconds=IDEMPOTENCY_TTL,
        send=send,
        result_type=TransactionResult,
        repeat={"already_processed": True, "message": ALREADY_PROCESSED},
    )


class ReversalResult(ConfirmableResult):
    transaction_uuid: str | None = None


async def reversal_preview(piggy: PiggyAPI, prepaid_transaction_uuid: str, contact_uuid: str) -> PrepaidPreview:
    found = await piggy.find_prepaid_transaction(contact_uuid, prepaid_transaction_uuid)
    if found is None or found.amount_in_cents is None:
        raise ToolError(
            f"Prepaid transaction {prepaid_transaction_uuid} is not among the latest of contact {contact_uuid}. "
            "Nothing was sent. Check both uuids with list_prepaid_transactions."
        )
    return await _preview(piggy, contact_uuid, -found.amount_in_cents, reversed_uuid=prepaid_transaction_uuid)


@toolset.confirmed(title="Reverse prepaid transaction", preview=reversal_preview)
async def reverse_prepaid_transaction(
    prepaid_transaction_uuid: Annotated[Uuid, Field(description="The transaction to undo.")],
    contact_uuid: Annotated[ContactUuid, Field(description="Whose it is.")],
    ctx: Context[Any, Any],
) -> ReversalResult:
    """Undo a prepaid transaction (list_prepaid_transactions) with an opposite one. Asks the user to confirm
    first."""
    reversal = await api(ctx).reverse_prepaid_transaction(prepaid_transaction_uuid)
    return ReversalResult(status="done", message="The transaction was reversed.", transaction_uuid=reversal.uuid)
