"""Orders: points for a purchase, taken back on a return, each sent at most once per external identifier."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from piggy_mcp.piggy import PiggyAPI
from piggy_mcp.piggy.orders import AlreadyProcessedError, OrderOutcome
from piggy_mcp.schema import unadvertised_limits
from piggy_mcp.tools.args import ContactUuid, NonEmptyText, ShopUuid, Uuid
from piggy_mcp.tools.confirmation import ConfirmableResult, shown_identifier
from piggy_mcp.tools.never_twice import at_most_once
from piggy_mcp.tools.results import Result
from piggy_mcp.tools.runtime import api
from piggy_mcp.tools.toolset import WRITE, Toolset

toolset = Toolset(
    "orders", "Send purchases as orders that earn points, and returns that take them back.", default=False
)

# An order's or a return's external identifier is remembered this long.
ORDER_TTL = 365 * 24 * 3600
# Amounts in minor units (cents): up to ten million euros.
MinorUnits = Annotated[int, Field(strict=True, ge=0), unadvertised_limits(le=1_000_000_000)]
Quantity = Annotated[int, Field(strict=True, ge=1), unadvertised_limits(le=100_000)]


class LineItem(BaseModel):
    external_identifier: NonEmptyText
    name: NonEmptyText
    quantity: Quantity
    price: Annotated[MinorUnits, Field(description="Per unit, in cents.")]
    product_external_identifier: NonEmptyText | None = None


class ReturnedLine(BaseModel):
    external_identifier: NonEmptyText
    quantity: Quantity


class OrderResult(Result):
    # processed: sent now; already_processed: this external_identifier was sent before, nothing was sent now.
    status: Literal["processed", "already_processed"]
    order: OrderOutcome | None = None


@toolset.tool(title="Create order", annotations=WRITE)
async def create_order(
    external_identifier: Annotated[NonEmptyText, Field(description="The order's id in the shop's system.")],
    contact_uuid: ContactUuid,
    total_order_amount: Annotated[MinorUnits, Field(description="Total paid, in cents.")],
    line_items: Annotated[list[LineItem], Field(min_length=1, max_length=100, description="What was bought.")],
    ctx: Context[Any, Any],
    shop_uuid: ShopUuid = None,
    status: Annotated[Literal["CREATED", "PENDING", "COMPLETED"], Field(description="Its state.")] = "COMPLETED",
    payment_status: Annotated[Literal["UNPAID", "PENDING", "PAID"], Field(description="Paid yet?")] = "PAID",
) -> OrderResult:
    """Send a purchase to Piggy as an order: the loyalty rules turn it into points for the member, answered with
    the points and new balance. Sent at most once per external_identifier: a repeat answers already_processed."""

    async def send() -> OrderResult:
        outcome = await api(ctx).create_order(
            external_identifier=external_identifier,
            contact_uuid=contact_uuid,
            shop_uuid=shop_uuid,
            status=status,
            payment_status=payment_status,
            total_order_amount=total_order_amount,
            line_items=[line.model_dump() for line in line_items],
        )
        return OrderResult(status="processed", order=outcome)

    return await _once(ctx, "order", external_identifier, send)


async def _once(
    ctx: Context[Any, Any], scope: str, key: str, send: Callable[[], Awaitable[OrderResult]]
) -> OrderResult:
    try:
        return await at_most_once(
            ctx,
            scope=scope,
            key=key,
            ttl_seconds=ORDER_TTL,
            send=send,
            result_type=OrderResult,
            repeat={"status": "already_processed"},
        )
    except AlreadyProcessedError:
        # Piggy has it from an earlier call this deployment has no record of (another server, say).
        return OrderResult(status="already_processed")


class ReturnPreview(Result):
    order: str
    external_identifier: str
    lines: list[ReturnedLine]

    def describe(self) -> str:
        # The identifiers come from the shop's systems, not from Piggy: shown only in plain form.
        lines = ", ".join(f"{line.quantity} x {shown_identifier(line.external_identifier)}" for line in self.lines)
        scope = f"these line items: {lines}" if lines else "the whole order"
        return (
            f"Return {scope} of order {shown_identifier(self.order)} (return "
            f"{shown_identifier(self.external_identifier)}). Piggy takes back the points the order earned for what "
            "is returned. This cannot be undone."
        )


async def return_preview(
    piggy: PiggyAPI,
    order_uuid: str | None,
    order_external_identifier: str | None,
    external_identifier: str,
    line_items: list[ReturnedLine] | None,
) -> ReturnPreview:
    del piggy  # Piggy has no documented way to read an order back: the preview says what will be asked
    if (order_uuid is None) == (order_external_identifier is None):
        raise ToolError("Give exactly one of order_uuid or order_external_identifier. Nothing was sent.")
    order = order_uuid or order_external_identifier
    assert order is not None
    return ReturnPreview(order=order, external_identifier=external_identifier, lines=line_items or [])


class ReturnResult(ConfirmableResult):
    processed: Literal["processed", "already_processed"] | None = None
    order_return: OrderOutcome | None = None


@toolset.confirmed(title="Return order", preview=return_preview)
async def create_order_return(
    external_identifier: Annotated[NonEmptyText, Field(description="The return's own id in the shop's system.")],
    ctx: Context[Any, Any],
    order_uuid: Annotated[Uuid | None, Field(description="The order, by Piggy's uuid...")] = None,
    order_external_identifier: Annotated[NonEmptyText | None, Field(description="...or by the shop's id.")] = None,
    line_items: Annotated[
        list[ReturnedLine] | None, Field(max_length=100, description="Only these lines; default all.")
    ] = None,
    status: Annotated[Literal["PENDING", "COMPLETED"], Field(description="Its state.")] = "COMPLETED",
) -> ReturnResult:
    """Send a refund as an order return: Piggy takes back the points the order earned (for the lines given, or
    all). Sent at most once per external_identifier. Asks the user to confirm first."""

    async def send() -> OrderResult:
        outcome = await api(ctx).create_order_return(
            external_identifier=external_identifier,
            order_uuid=order_uuid,
            order_external_identifier=order_external_identifier,
            status=status,
            line_items=[line.model_dump() for line in line_items or []],
        )
        return OrderResult(status="processed", order=outcome)

    done: OrderResult = await _once(ctx, "order-return", external_identifier, send)
    message = "The return was sent." if done.status == "processed" else "This return was sent before; nothing now."
    return ReturnResult(status="done", message=message, processed=done.status, order_return=done.order)
