"""Rewards: shops, rewards and their redemption, promotions and members' vouchers, and reversing credits."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Elicit, Resolve
from pydantic import Field, ValidationError

from piggy_mcp.piggy import PiggyAPI
from piggy_mcp.tools.args import ConfirmationToken, ContactUuid, NonEmptyText, ShopUuid, Uuid
from piggy_mcp.tools.base import DESTRUCTIVE, READ, WRITE, Result, Toolset, api
from piggy_mcp.tools.confirm import (
    Confirm,
    ConfirmableResult,
    ask,
    unless_confirmed,
)
from piggy_mcp.tools.contacts import Contact
from piggy_mcp.tools.paging import Paged, PageNumber, paging

toolset = Toolset("rewards", "Shops, rewards and redemptions, promotions and members' vouchers; reverse credits.")


M = TypeVar("M", bound=Result)


def _after_write(model: type[M], data: Any) -> M:
    """A write's answer, shaped without ever failing: Piggy has already applied the write."""
    raw = data if isinstance(data, dict) else {}
    contact = raw.get("contact")
    balance = (contact.get("credit_balance") or {}) if isinstance(contact, dict) else {}
    extra = {"balance_after": balance.get("balance") if isinstance(balance, dict) else None}
    try:
        return model.model_validate({**raw, **extra})
    except ValidationError:
        return model.model_validate({"uuid": raw.get("uuid")} if isinstance(raw.get("uuid"), str) else {})


# Shops and rewards ------------------------------------------------------------------------------------


class Shop(Result):
    uuid: str
    name: str | None = None
    type: str | None = None
    reference: str | None = None


class Shops(Result):
    shops: list[Shop]


@toolset.tool(title="List shops", annotations=READ)
async def list_shops(ctx: Context[Any, Any]) -> Shops:
    """List the account's shops (physical or web). Credits, reward redemptions and vouchers name a shop by uuid."""
    return Shops.model_validate({"shops": await api(ctx).list_shops()})


class Reward(Result):
    uuid: str
    title: str | None = None
    description: str | None = None
    required_credits: int | None = None
    reward_type: str | None = None
    is_active: bool | None = None
    stock: int | None = None


class Rewards(Result):
    rewards: list[Reward]


@toolset.tool(title="List rewards", annotations=READ)
async def list_rewards(
    ctx: Context[Any, Any],
    contact_uuid: Annotated[Uuid | None, Field(description="Only rewards this contact can claim now.")] = None,
    shop_uuid: Annotated[Uuid | None, Field(description="Only rewards offered in this shop.")] = None,
) -> Rewards:
    """List the rewards members can redeem credits for, with their cost (required_credits), e.g. when a member
    asks what their points buy."""
    return Rewards.model_validate({"rewards": await api(ctx).list_rewards(contact_uuid, shop_uuid)})


# Redeem a reward ------------------------------------------------------------------------------------


class RedemptionPreview(Result):
    email: str | None = None
    balance: int
    reward: str | None = None
    required_credits: int
    balance_after: int

    def describe(self) -> str:
        return (
            f'Redeem reward "{self.reward}" for {self.required_credits} credits for {self.email or "a contact"}, '
            f"who has {self.balance} credits. Balance after: {self.balance_after} credits."
        )


class RewardReception(Result):
    uuid: str | None = None
    credits: int | None = None
    balance_after: int | None = None
    expires_at: str | None = None
    digital_reward_code: str | None = None


class RedeemResult(ConfirmableResult):
    reception: RewardReception | None = None


async def _redemption_preview(piggy: PiggyAPI, contact_uuid: str, reward_uuid: str) -> RedemptionPreview:
    contact = Contact.of(await piggy.get_contact(contact_uuid))
    reward = Reward.model_validate(await piggy.get_reward(reward_uuid))
    balance, cost = contact.credit_balance or 0, reward.required_credits or 0
    if reward.is_active is False:
        raise ToolError(f'Reward "{reward.title}" is inactive and cannot be redeemed. Nothing was sent.')
    if balance < cost:
        raise ToolError(
            f'{contact.describe()} cannot redeem "{reward.title}": it costs {cost} credits. Nothing was sent. '
            "Offer a reward from list_rewards with contact_uuid."
        )
    return RedemptionPreview(
        email=contact.email, balance=balance, reward=reward.title, required_credits=cost, balance_after=balance - cost
    )


async def _confirm_redemption(
    ctx: Context[Any, Any], contact_uuid: str, reward_uuid: str, shop_uuid: str, confirmation_token: str | None
) -> Elicit[Confirm] | Any:
    args = {"contact_uuid": contact_uuid, "reward_uuid": reward_uuid, "shop_uuid": shop_uuid}
    return await ask(
        ctx,
        "redeem_reward",
        args,
        confirmation_token,
        lambda: _redemption_preview(api(ctx), contact_uuid, reward_uuid),
    )


@toolset.tool(title="Redeem reward", annotations=DESTRUCTIVE)
async def redeem_reward(
    contact_uuid: ContactUuid,
    reward_uuid: Annotated[Uuid, Field(description="The reward, from list_rewards.")],
    shop_uuid: ShopUuid,
    ctx: Context[Any, Any],
    confirmation: Annotated[ElicitationResult[Confirm], Resolve(_confirm_redemption)],
    confirmation_token: ConfirmationToken = None,
) -> RedeemResult:
    """Redeem a reward for a member: spends their credits; a digital reward returns its code. Only for a
    verified member who chose the reward. Asks the user to confirm first."""
    if (unsent := unless_confirmed(confirmation, RedeemResult)) is not None:
        return unsent
    data = await api(ctx).create_reward_reception(contact_uuid, reward_uuid, shop_uuid)
    reception = _after_write(RewardReception, data)
    return RedeemResult(status="done", message="The reward was redeemed.", reception=reception)


# Reverse a credit reception --------------------------------------------------------------------------

# UNCONFIRMED: Piggy documents no endpoint that reads one credit reception, so the preview looks for it among
# the contact's credit receptions, a bounded number of pages (their order is undocumented too).
SCAN_PAGES = 3
SCAN_LIMIT = 100


class ReversalPreview(Result):
    credit_reception_uuid: str
    email: str | None = None
    balance: int | None = None
    credits: int | None = None
    created_at: str | None = None
    balance_after: int | None = None

    def describe(self) -> str:
        if self.credits is None:
            return (
                f"Reverse credit reception {self.credit_reception_uuid}: Piggy books an opposite reception that "
                "takes its credits back from the contact who received them."
            )
        change = f"Take {self.credits} credits back from" if self.credits >= 0 else f"Give {-self.credits} credits to"
        return (
            f"{change} {self.email or 'a contact'}, who has {self.balance} credits, by reversing the credit "
            f"reception of {self.created_at or 'an unknown date'}. Balance after: {self.balance_after} credits."
        )


class Reversal(Result):
    uuid: str | None = None
    credits: int | None = None
    balance_after: int | None = None


class ReverseResult(ConfirmableResult):
    reversal: Reversal | None = None


async def _find_credit_reception(piggy: PiggyAPI, contact_uuid: str, reception_uuid: str) -> dict[str, Any]:
    for page in range(1, SCAN_PAGES + 1):
        items, meta = await piggy.list_loyalty_transactions(contact_uuid, "credit_receptions", page, SCAN_LIMIT)
        for item in items:
            if str(item.get("uuid", "")).lower() == reception_uuid.lower():
                return item
        if not paging(meta, page, len(items), SCAN_LIMIT)["has_more"]:
            break
    raise ToolError(
        f"Credit reception {reception_uuid} is not among the latest credit receptions of contact {contact_uuid}. "
        "Nothing was sent. Check both uuids with list_loyalty_transactions."
    )


async def _reversal_preview(piggy: PiggyAPI, contact_uuid: str | None, reception_uuid: str) -> ReversalPreview:
    if contact_uuid is None:
        # Without the contact there is no way to read the reception (see above): the preview says what happens.
        return ReversalPreview(credit_reception_uuid=reception_uuid)
    contact = Contact.of(await piggy.get_contact(contact_uuid))
    reception = await _find_credit_reception(piggy, contact_uuid, reception_uuid)
    balance, credits = contact.credit_balance or 0, int(reception.get("credits") or 0)
    return ReversalPreview(
        credit_reception_uuid=reception_uuid,
        email=contact.email,
        balance=balance,
        credits=credits,
        created_at=reception.get("created_at"),
        balance_after=balance - credits,
    )


async def _confirm_reversal(
    ctx: Context[Any, Any], credit_reception_uuid: str, contact_uuid: str | None, confirmation_token: str | None
) -> Elicit[Confirm] | Any:
    args = {"credit_reception_uuid": credit_reception_uuid, "contact_uuid": contact_uuid}
    return await ask(
        ctx,
        "reverse_credit_reception",
        args,
        confirmation_token,
        lambda: _reversal_preview(api(ctx), contact_uuid, credit_reception_uuid),
    )


@toolset.tool(title="Reverse credit reception", annotations=DESTRUCTIVE)
async def reverse_credit_reception(
    credit_reception_uuid: Annotated[Uuid, Field(description="The credit reception to undo.")],
    ctx: Context[Any, Any],
    confirmation: Annotated[ElicitationResult[Confirm], Resolve(_confirm_reversal)],
    contact_uuid: Annotated[
        ContactUuid | None,
        Field(description="Who received them: gives a preview with the amount and balance after."),
    ] = None,
    confirmation_token: ConfirmationToken = None,
) -> ReverseResult:
    """Take back the credits of one credit reception (e.g. a refunded purchase) with an opposite reception.
    Find it with list_loyalty_transactions. Asks the user to confirm first."""
    if (unsent := unless_confirmed(confirmation, ReverseResult)) is not None:
        return unsent
    data = await api(ctx).reverse_credit_reception(credit_reception_uuid)
    reversal = _after_write(Reversal, data)
    return ReverseResult(status="done", message="The credits were taken back.", reversal=reversal)


# Promotions and vouchers ------------------------------------------------------------------------------


class Promotion(Result):
    uuid: str
    name: str | None = None
    description: str | None = None
    type: str | None = None
    voucher_limit: int | None = None
    limit_per_contact: int | None = None
    expiration_duration: int | None = None


class Promotions(Result):
    promotions: list[Promotion]


@toolset.tool(title="List promotions", annotations=READ)
async def list_promotions(ctx: Context[Any, Any]) -> Promotions:
    """List the promotions vouchers belong to, e.g. to pick one for create_vouchers_batch; expiration_duration
    is in seconds."""
    return Promotions.model_validate({"promotions": await api(ctx).list_promotions()})


VOUCHERS_DEFAULT_LIMIT = 30  # Piggy's default page size for vouchers


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


@toolset.tool(title="List contact vouchers", annotations=READ)
async def list_contact_vouchers(
    contact_uuid: ContactUuid,
    ctx: Context[Any, Any],
    status: Annotated[VoucherStatus | None, Field(description="Only vouchers in this state.")] = None,
    promotion_uuid: Annotated[Uuid | None, Field(description="Only vouchers of this promotion.")] = None,
    page: PageNumber = None,
    # Piggy allows 500; more than 100 vouchers at once would flood the model's context.
    limit: Annotated[int | None, Field(ge=1, le=100, description="Per page (default 30).")] = None,
) -> ContactVouchers:
    """List a member's vouchers with their codes and status, e.g. when they ask what vouchers they have."""
    items, meta = await api(ctx).list_vouchers(contact_uuid, status, promotion_uuid, page, limit)
    return ContactVouchers(
        vouchers=[ContactVoucher.model_validate(item) for item in items],
        **paging(meta, page, len(items), limit or VOUCHERS_DEFAULT_LIMIT),
    )


class VoucherRedemption(Result):
    code: str
    status: str | None = None
    name: str | None = None
    redeemed_at: str | None = None


@toolset.tool(title="Redeem voucher", annotations=WRITE)
async def redeem_voucher(
    code: Annotated[NonEmptyText, Field(description="The voucher code.")],
    ctx: Context[Any, Any],
    contact_uuid: Annotated[
        Uuid | None, Field(description="Who redeems it; required if the voucher has no contact.")
    ] = None,
    shop_uuid: Annotated[Uuid | None, Field(description="Shop where it is redeemed.")] = None,
) -> VoucherRedemption:
    """Mark a voucher as used, e.g. when the member applies it. Not idempotent: a second call fails as already
    redeemed (80005). Check it first with find_voucher_by_code."""
    data = await api(ctx).redeem_voucher(code, contact_uuid, shop_uuid)
    # The answer's shape is undocumented: never fail after Piggy accepted the redemption.
    fields = {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}
    return VoucherRedemption.model_validate({**fields, "code": fields.get("code") or code})
