"""Rewards: what members can redeem their credits for, and redeeming one."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from piggy_mcp.piggy import PiggyAPI
from piggy_mcp.piggy.models import Reversal, Reward, RewardReception
from piggy_mcp.piggy.program import DEFAULT_CREDIT_NAME
from piggy_mcp.tools.args import ContactUuid, ShopUuid, Uuid
from piggy_mcp.tools.confirmation import ConfirmableResult, shown_email
from piggy_mcp.tools.contacts import describe
from piggy_mcp.tools.results import Result
from piggy_mcp.tools.runtime import api
from piggy_mcp.tools.toolset import READ, Toolset

toolset = Toolset("rewards", "List rewards and redeem them for members' credits.")


class Rewards(Result):
    rewards: list[Reward]


@toolset.tool(title="List rewards", annotations=READ, untrusted=("rewards",))
async def list_rewards(
    ctx: Context[Any, Any],
    contact_uuid: Annotated[Uuid | None, Field(description="Only rewards this contact can claim now.")] = None,
    shop_uuid: Annotated[Uuid | None, Field(description="Only rewards offered in this shop.")] = None,
) -> Rewards:
    """List the rewards members can redeem credits for, with their cost (required_credits), e.g. when a member
    asks what their points buy."""
    return Rewards(rewards=await api(ctx).list_rewards(contact_uuid, shop_uuid))


class RedemptionPreview(Result):
    email: str | None = None
    balance: int
    reward_uuid: str
    required_credits: int
    balance_after: int
    credit_name: str = DEFAULT_CREDIT_NAME

    def describe(self) -> str:
        # The reward by its uuid, not its title: a preview shows only what Piggy controls (see `shown_email`).
        name = self.credit_name
        return (
            f"Redeem reward {self.reward_uuid} for {self.required_credits} {name} for "
            f"{shown_email(self.email, missing='a contact')}, who has {self.balance} {name}. "
            f"Balance after: {self.balance_after} {name}."
        )


class RedeemResult(ConfirmableResult):
    reception: RewardReception | None = None


async def redemption_preview(
    piggy: PiggyAPI, contact_uuid: str, reward_uuid: str, shop_uuid: str | None
) -> RedemptionPreview:
    piggy.shop(shop_uuid)  # a call that names no shop, with no default, is refused before the user is asked
    contact = await piggy.get_contact(contact_uuid)
    reward = await piggy.get_reward(reward_uuid)
    balance, cost = contact.credit_balance or 0, reward.required_credits or 0
    if reward.is_active is False:
        raise ToolError(f"Reward {reward_uuid} is inactive and cannot be redeemed. Nothing was sent.")
    name = await piggy.credit_name()
    if balance < cost:
        raise ToolError(
            f"{describe(contact, name)} cannot redeem reward {reward_uuid}: it costs {cost} {name}. Nothing was sent. "
            "Offer a reward from list_rewards with contact_uuid."
        )
    return RedemptionPreview(
        email=contact.email,
        balance=balance,
        reward_uuid=reward_uuid,
        required_credits=cost,
        balance_after=balance - cost,
        credit_name=name,
    )


@toolset.confirmed(title="Redeem reward", preview=redemption_preview)
async def redeem_reward(
    contact_uuid: ContactUuid,
    reward_uuid: Annotated[Uuid, Field(description="The reward, from list_rewards.")],
    ctx: Context[Any, Any],
    shop_uuid: ShopUuid = None,
) -> RedeemResult:
    """Redeem a reward for a member: spends their credits; a digital reward returns its code. Only for a
    verified member who chose the reward. Asks the user to confirm first."""
    reception = await api(ctx).create_reward_reception(contact_uuid, reward_uuid, shop_uuid)
    return RedeemResult(status="done", message="The reward was redeemed.", reception=reception)


# Reverse a redemption -----------------------------------------------------------------------------


class RewardReversalPreview(Result):
    reward_reception_uuid: str
    email: str | None = None
    balance: int
    credits: int
    created_at: str | None = None
    credit_name: str = DEFAULT_CREDIT_NAME

    def describe(self) -> str:
        name = self.credit_name
        return (
            f"Reverse reward redemption {self.reward_reception_uuid} of {self.created_at or 'an unknown date'}: "
            f"give {self.credits} {name} back to {shown_email(self.email, missing='a contact')}, who has "
            f"{self.balance} {name}. Balance after: {self.balance + self.credits} {name}."
        )


async def reward_reversal_preview(
    piggy: PiggyAPI, reward_reception_uuid: str, contact_uuid: str
) -> RewardReversalPreview:
    contact = await piggy.get_contact(contact_uuid)
    reception = await piggy.find_reward_reception(contact_uuid, reward_reception_uuid)
    if reception is None:
        raise ToolError(
            f"Reward redemption {reward_reception_uuid} is not among the latest redemptions of contact "
            f"{contact_uuid}. Nothing was sent. Check both uuids with list_loyalty_transactions."
        )
    return RewardReversalPreview(
        reward_reception_uuid=reward_reception_uuid,
        email=contact.email,
        balance=contact.credit_balance or 0,
        credits=abs(reception.credits or 0),  # a redemption's credits are negative
        created_at=reception.created_at,
        credit_name=await piggy.credit_name(),
    )


class ReverseRewardResult(ConfirmableResult):
    reversal: Reversal | None = None


@toolset.confirmed(title="Reverse reward redemption", preview=reward_reversal_preview)
async def reverse_reward_reception(
    reward_reception_uuid: Annotated[Uuid, Field(description="The redemption (list_loyalty_transactions).")],
    contact_uuid: Annotated[ContactUuid, Field(description="Who redeemed it.")],
    ctx: Context[Any, Any],
) -> ReverseRewardResult:
    """Undo a member's reward redemption (e.g. a returned item), giving its credits back. Asks the user to
    confirm first."""
    reversal = await api(ctx).reverse_reward_reception(reward_reception_uuid)
    return ReverseRewardResult(status="done", message="The redemption was reversed.", reversal=reversal)
