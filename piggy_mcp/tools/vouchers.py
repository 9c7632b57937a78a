"""Vouchers: mint batches for a promotion and look codes up."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from piggy_mcp.tools.args import DateTime, NonEmptyText, Uuid
from piggy_mcp.tools.base import READ, WRITE, Result, Toolset, api

toolset = Toolset("vouchers", "Create voucher batches and look up voucher codes.")


class VoucherBatch(Result):
    uuid: str
    status: str


@toolset.tool(title="Create vouchers batch", annotations=WRITE)
async def create_vouchers_batch(
    promotion_uuid: Annotated[Uuid, Field(description="Their promotion (list_promotions).")],
    quantity: Annotated[int, Field(ge=1, le=500, description="Number of vouchers.")],
    ctx: Context[Any, Any],
    contact_uuid: Annotated[Uuid | None, Field(description="Owner of every voucher.")] = None,
    expiration_date: Annotated[DateTime | None, Field(description="Expiry; default: the promotion's rule.")] = None,
    activation_date: Annotated[DateTime | None, Field(description="When usable; default: now.")] = None,
) -> VoucherBatch:
    """Create up to 500 vouchers for a promotion, e.g. for a campaign. Piggy makes them in the background: the
    batch comes back PENDING, the codes appear on the promotion soon after. Not idempotent."""
    data = await api(ctx).create_vouchers_batch(
        promotion_uuid, quantity, contact_uuid, expiration_date, activation_date
    )
    return VoucherBatch.model_validate(data)


# Flat, its promotion and owner named as other tools take them; without the uuid no tool takes, the code the caller
# gave, and is_redeemed, which status and redeemed_at already say.
class Voucher(Result):
    status: str
    name: str | None = None
    description: str | None = None
    redeemed_at: str | None = None
    activation_date: str | None = None
    expiration_date: str | None = None
    promotion_uuid: str | None = None
    promotion_name: str | None = None
    contact_uuid: str | None = None

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Voucher:
        promotion, contact = raw.get("promotion") or {}, raw.get("contact") or {}
        return cls.model_validate(
            {
                **raw,
                "promotion_uuid": promotion.get("uuid"),
                "promotion_name": promotion.get("name"),
                "contact_uuid": contact.get("uuid"),
            }
        )


@toolset.tool(title="Find voucher by code", annotations=READ)
async def find_voucher_by_code(
    code: Annotated[NonEmptyText, Field(description="The voucher code, as the member gives it.")],
    ctx: Context[Any, Any],
) -> Voucher:
    """Look up a voucher by the code a member gives, e.g. before redeem_voucher: its status (ACTIVE, REDEEMED,
    EXPIRED, DEACTIVATED, INACTIVE, LOCKED), dates, promotion and owner."""
    return Voucher.of(await api(ctx).find_voucher_by_code(code))
