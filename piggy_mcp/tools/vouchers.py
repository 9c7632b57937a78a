"""Vouchers: promotions, minting batches, looking codes up, a member's vouchers, and redeeming one."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from piggy_mcp.piggy.models import Promotion, VoucherBatch
from piggy_mcp.tools.args import ContactUuid, DateTime, NonEmptyText, PageNumber, Uuid
from piggy_mcp.tools.results import Paged, Result
from piggy_mcp.tools.runtime import api
from piggy_mcp.tools.toolset import READ, WRITE, Toolset

toolset = Toolset("vouchers", "Promotions, voucher batches and codes, members' vouchers and their redemption.")


class Promotions(Result):
    promotions: list[Promotion]


@toolset.tool(title="List promotions", annotations=READ, untrusted=("promotions",))
async def list_promotions(ctx: Context[Any, Any]) -> Promotions:
    """List the promotions vouchers belong to, e.g. to pick one for create_vouchers_batch; expiration_duration
    is in seconds."""
    return Promotions(promotions=await api(ctx).list_promotions())


@toolset.tool(title="Create vouchers batch", annotations=WRITE)
async def create_vouchers_batch(
    promotion_uuid: Annotated[Uuid, Field(description="Their promotion (list_promotions).")],
    quantity: Annotated[int, Field(strict=True, ge=1, le=500, description="Number of vouchers.")],
    ctx: Context[Any, Any],
    contact_uuid: Annotated[Uuid | None, Field(description="Owner of every voucher.")] = None,
    expiration_date: Annotated[DateTime | None, Field(description="Expiry; default: the promotion's rule.")] = None,
    activation_date: Annotated[DateTime | None, Field(description="When usable; default: now.")] = None,
) -> VoucherBatch:
    """Create up to 500 vouchers for a promotion, e.g. for a campaign. Piggy makes them in the background: the
    batch comes back PENDING and the codes follow. Not idempotent."""
    return await api(ctx).create_vouchers_batch(
        promotion_uuid, quantity, contact_uuid, expiration_date, activation_date
    )


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


@toolset.tool(title="Find voucher by code", annotations=READ, untrusted=("name", "description", "promotion_name"))
async def find_voucher_by_code(
    code: Annotated[NonEmptyText, Field(description="The voucher code, as the member gives it.")],
    ctx: Context[Any, Any],
) -> Voucher:
    """Look up a voucher by the code a member gives, e.g. before redeem_voucher: its status, dates, promotion
    and owner."""
    return Voucher.model_validate(await api(ctx).find_voucher_by_code(code), from_attributes=True)


# Vouchers are named by their code; no tool takes their uuid.
class ContactVoucher(Result):
    code: str
    status: str
    name: str | None = None
    expiration_date: str | None = None
    redeemed_at: str | None = None


class ContactVouchers(Paged):
    vouchers: list[ContactVoucher]


VoucherStatus = Literal["ACTIVE", "REDEEMED", "EXPIRED", "DEACTIVATED", "INACTIVE", "LOCKED"]


@toolset.tool(title="List contact vouchers", annotations=READ, untrusted=("vouchers",))
async def list_contact_vouchers(
    contact_uuid: ContactUuid,
    ctx: Context[Any, Any],
    status: Annotated[VoucherStatus | None, Field(description="Only vouchers in this state.")] = None,
    promotion_uuid: Annotated[Uuid | None, Field(description="Only vouchers of this promotion.")] = None,
    page: PageNumber = None,
    # Piggy allows 500; more than 100 vouchers at once would flood the model's context.
    limit: Annotated[int | None, Field(strict=True, ge=1, le=100, description="Per page (default 30).")] = None,
) -> ContactVouchers:
    """List a member's vouchers with their codes and status, e.g. when they ask what vouchers they have."""
    found = await api(ctx).list_vouchers(contact_uuid, status, promotion_uuid, page, limit)
    return ContactVouchers(
        vouchers=[ContactVoucher.model_validate(voucher, from_attributes=True) for voucher in found.items],
        total=found.total,
        has_more=found.has_more,
        next_page=found.next_page,
    )


class VoucherRedemption(Result):
    code: str
    status: str | None = None
    name: str | None = None
    redeemed_at: str | None = None


@toolset.tool(title="Redeem voucher", annotations=WRITE, untrusted=("name",))
async def redeem_voucher(
    code: Annotated[NonEmptyText, Field(description="The voucher code.")],
    ctx: Context[Any, Any],
    contact_uuid: Annotated[
        Uuid | None, Field(description="Who redeems it; required if the voucher has no contact.")
    ] = None,
    shop_uuid: Annotated[Uuid | None, Field(description="Shop where it is redeemed.")] = None,
) -> VoucherRedemption:
    """Mark a voucher as used, e.g. when the member applies it. Not idempotent: a second call fails as already
    redeemed. Check it first with find_voucher_by_code."""
    return VoucherRedemption.model_validate(
        await api(ctx).redeem_voucher(code, contact_uuid, shop_uuid), from_attributes=True
    )
