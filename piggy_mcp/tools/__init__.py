"""The tools, grouped by domain into toolsets. The order here is the order of `tools/list`."""

from piggy_mcp.tools import (
    attributes,
    automations,
    bookings,
    catalog,
    contacts,
    giftcards,
    identifiers,
    loyalty,
    orders,
    prepaid,
    rewards,
    vouchers,
    webhooks,
)
from piggy_mcp.tools.toolset import Toolset, ToolSpec

TOOLSETS: tuple[Toolset, ...] = (
    contacts.toolset,
    attributes.toolset,
    loyalty.toolset,
    rewards.toolset,
    vouchers.toolset,
    catalog.toolset,
    bookings.toolset,
    giftcards.toolset,
    prepaid.toolset,
    orders.toolset,
    identifiers.toolset,
    automations.toolset,
    webhooks.toolset,
)

__all__ = ["TOOLSETS", "ToolSpec", "Toolset"]
