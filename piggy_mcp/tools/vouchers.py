"""Vouchers: mint batches for a promotion and look codes up."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from piggy_mcp.tools.args import DateTime, Uuid
from piggy_mcp.tools.base import READ, WRITE, Result, Toolset, api

toolset = Toolset("vouchers", "Create voucher batches and look up voucher codes.")


class VoucherBatch(Result):
    uuid: str
    quantity: int
    status: str


@toolset.tool(title="Create vouchers batch", annotations=WRITE)
async def create_vouchers_batch(
    promotion_uuid: Annotated[Uuid, Field(description="The promotion the vouchers belong to.")],
    quantity: Annotated[int, Field(ge=1, le=500, description="How many vouchers to create.")],
    ctx: Context[Any, Any],
    contact_uuid: Annotated[Uuid | None, Field(description="Give every voucher to this contact.")] = None,
    expiration_date: Annotated[
        DateTime | None, Field(description="When they expire; default: the promotion's rule.")
    ] = None,
    activation_date: Annotated[DateTime | None, Field(description="When they become usable; default: now.")] = None,
) -> VoucherBatch:
    """Create up to 500 vouchers for a promotion. Piggy generates them in the background: the batch is
    returned as PENDING and the codes appear on the promotion shortly after. Not idempotent."""
    data = await api(ctx).create_vouchers_batch(
        promotion_uuid, quantity, contact_uuid, expiration_date, activation_date
    )
    return VoucherBatch.model_validate(data)


class VoucherPromotion(Result):
    uuid: str
    name: str | None = None


class VoucherContact(Result):
    uuid: str
    email: str | None = None


class Voucher(Result):
    uuid: str
    code: str
    status: str
    name: str | None = None
    description: str | None = None
    is_redeemed: bool | None = None
    redeemed_at: str | None = None
    activation_date: str | None = None
    expiration_date: str | None = None
    promotion: VoucherPromotion | None = None
    contact: VoucherContact | None = None


@toolset.tool(title="Find voucher by code", annotations=READ)
async def find_voucher_by_code(
    code: Annotated[str, Field(min_length=1, max_length=255, description="The voucher code, as the member gives it.")],
    ctx: Context[Any, Any],
) -> Voucher:
    """Look up a voucher by its code: status (ACTIVE, REDEEMED, EXPIRED, DEACTIVATED, INACTIVE, LOCKED),
    dates, promotion and owner."""
    return Voucher.model_validate(await api(ctx).find_voucher_by_code(code))
