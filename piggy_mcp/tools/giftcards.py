"""Gift cards: programs, finding and creating cards, emailing them, and loading, spending or reversing amounts."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import AfterValidator, Field

from piggy_mcp.piggy import PiggyAPI
from piggy_mcp.piggy.giftcards import Giftcard, GiftcardProgram, NewGiftcard
from piggy_mcp.schema import unadvertised_limits
from piggy_mcp.tools.args import ContactUuid, NonEmptyText, ShopUuid, Uuid
from piggy_mcp.tools.confirmation import ConfirmableResult
from piggy_mcp.tools.never_twice import ALREADY_PROCESSED, IDEMPOTENCY_TTL, REPEAT_NOTE, IdempotencyKey, at_most_once
from piggy_mcp.tools.results import Result
from piggy_mcp.tools.runtime import api
from piggy_mcp.tools.toolset import READ, WRITE, Toolset

toolset = Toolset(
    "giftcards", "Gift cards: programs, find or create cards, email them, load, spend, reverse.", default=False
)


def _nonzero(value: int) -> int:
    if value == 0:
        raise ValueError("must not be 0: positive loads, negative spends")
    return value


# Signed cents: what Piggy can mean by one transaction, and never nothing.
AmountInCents = Annotated[
    int,
    Field(strict=True, description="Cents; negative spends."),
    unadvertised_limits(ge=-10_000_000, le=10_000_000),
    AfterValidator(_nonzero),
]
GiftcardUuid = Annotated[Uuid, Field(description="From find_giftcard.")]


class GiftcardPrograms(Result):
    programs: list[GiftcardProgram]


@toolset.tool(title="List gift card programs", annotations=READ, untrusted=("programs",))
async def list_giftcard_programs(ctx: Context[Any, Any]) -> GiftcardPrograms:
    """List the gift card programs (create_giftcard needs one) and their limits in cents."""
    return GiftcardPrograms(programs=await api(ctx).list_giftcard_programs())


@toolset.tool(title="Find gift card", annotations=READ)
async def find_giftcard(
    hash: Annotated[NonEmptyText, Field(description="The card's hash or QR code value.")],
    ctx: Context[Any, Any],
) -> Giftcard:
    """Find a gift card by its hash or QR value: its uuid for other tools, balance in cents, expiry."""
    return await api(ctx).find_giftcard(hash)


@toolset.tool(title="Create gift card", annotations=WRITE)
async def create_giftcard(
    giftcard_program_uuid: Annotated[Uuid, Field(description="The program (list_giftcard_programs).")],
    ctx: Context[Any, Any],
) -> NewGiftcard:
    """Create a digital gift card at 0 cents; load it with create_giftcard_transaction. Not idempotent."""
    return await api(ctx).create_giftcard(giftcard_program_uuid)


class EmailSent(Result):
    sent: bool


@toolset.tool(title="Email gift card", annotations=WRITE)
async def send_giftcard_email(
    giftcard_uuid: GiftcardUuid,
    contact_uuid: Annotated[ContactUuid, Field(description="The recipient contact.")],
    ctx: Context[Any, Any],
) -> EmailSent:
    """Email a gift card to a contact. Needs a Giftcard recipient automated email in Piggy, the contact
    subscribed to it. Not idempotent."""
    return EmailSent(sent=await api(ctx).send_giftcard_email(giftcard_uuid, contact_uuid))


# Transactions ---------------------------------------------------------------------------------------


class TransactionPreview(Result):
    giftcard_uuid: str
    balance: int
    amount_in_cents: int
    repeatable: bool

    def describe(self) -> str:
        change = "Load" if self.amount_in_cents > 0 else "Spend"
        return (
            f"{change} {abs(self.amount_in_cents)} cents on gift card {self.giftcard_uuid}, which holds "
            f"{self.balance} cents. Balance after: {self.balance + self.amount_in_cents} cents."
            + (REPEAT_NOTE if self.repeatable else "")
        )


class TransactionResult(ConfirmableResult):
    transaction_uuid: str | None = None
    already_processed: bool | None = None


async def transaction_preview(
    piggy: PiggyAPI, giftcard_uuid: str, amount_in_cents: int, shop_uuid: str | None, idempotency_key: str | None
) -> TransactionPreview:
    piggy.shop(shop_uuid)  # a call that names no shop, with no default, is refused before the user is asked
    card = await piggy.get_giftcard(giftcard_uuid)
    balance = card.amount_in_cents or 0
    # A repeat is answered with its first result, whatever the balance now: only a new spend is checked here.
    if idempotency_key is None and balance + amount_in_cents < 0:
        raise ToolError(
            f"Gift card {giftcard_uuid} holds {balance} cents, less than {-amount_in_cents}. Nothing was sent."
        )
    return TransactionPreview(
        giftcard_uuid=giftcard_uuid,
        balance=balance,
        amount_in_cents=amount_in_cents,
        repeatable=idempotency_key is not None,
    )


@toolset.confirmed(title="Load or spend gift card", preview=transaction_preview)
async def create_giftcard_transaction(
    giftcard_uuid: GiftcardUuid,
    amount_in_cents: AmountInCents,
    ctx: Context[Any, Any],
    shop_uuid: ShopUuid = None,
    idempotency_key: IdempotencyKey = None,
) -> TransactionResult:
    """Load or spend (negative amount) a gift card. Pass idempotency_key, or a retry may charge twice. Asks the
    user to confirm first."""

    async def send() -> TransactionResult:
        done = await api(ctx).create_giftcard_transaction(giftcard_uuid, amount_in_cents, shop_uuid)
        return TransactionResult(status="done", message="The transaction was booked.", transaction_uuid=done.uuid)

    return await at_most_once(
        ctx,
        scope="giftcard-transaction",
        key=idempotency_key,
        ttl_seconds=IDEMPOTENCY_TTL,
        send=send,
        result_type=TransactionResult,
        repeat={"already_processed": True, "message": ALREADY_PROCESSED},
    )


class ReversalPreview(Result):
    transaction_uuid: str
    giftcard_uuid: str
    balance: int
    amount_in_cents: int

    def describe(self) -> str:
        return (
            f"Reverse transaction {self.transaction_uuid} of {self.amount_in_cents} cents on gift card "
            f"{self.giftcard_uuid}, which holds {self.balance} cents. "
            f"Balance after: {self.balance - self.amount_in_cents} cents."
        )


class ReversalResult(ConfirmableResult):
    transaction_uuid: str | None = None


async def reversal_preview(piggy: PiggyAPI, giftcard_transaction_uuid: str) -> ReversalPreview:
    transaction = await piggy.get_giftcard_transaction(giftcard_transaction_uuid)
    if transaction.giftcard_uuid is None or transaction.amount_in_cents is None:
        raise ToolError(f"Piggy does not say which card or amount {giftcard_transaction_uuid} is. Nothing was sent.")
    card = await piggy.get_giftcard(transaction.giftcard_uuid)
    return ReversalPreview(
        transaction_uuid=giftcard_transaction_uuid,
        giftcard_uuid=transaction.giftcard_uuid,
        balance=card.amount_in_cents or 0,
        amount_in_cents=transaction.amount_in_cents,
    )


@toolset.confirmed(title="Reverse gift card transaction", preview=reversal_preview)
async def reverse_giftcard_transaction(
    giftcard_transaction_uuid: Annotated[Uuid, Field(description="The card's latest transaction.")],
    ctx: Context[Any, Any],
) -> ReversalResult:
    """Undo a gift card's latest transaction with an opposite one. Asks the user to confirm first."""
    reversal = await api(ctx).reverse_giftcard_transaction(giftcard_transaction_uuid)
    return ReversalResult(status="done", message="The transaction was reversed.", transaction_uuid=reversal.uuid)
