"""Webhooks: which of Piggy's events the account sends where. Read only: `piggy-mcp webhooks sync` manages them."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from piggy_mcp.piggy.webhooks import EventType, SubscriptionStatus, WebhookSubscription
from piggy_mcp.tools.results import Result
from piggy_mcp.tools.runtime import api
from piggy_mcp.tools.toolset import READ, Toolset

toolset = Toolset("webhooks", "List the account's webhook subscriptions: which events go to which URL.", default=False)


# The record has no field for a secret, so none can reach a result.
class WebhookSubscriptions(Result):
    subscriptions: list[WebhookSubscription]


@toolset.tool(title="List webhook subscriptions", annotations=READ, untrusted=("subscriptions",))
async def list_webhook_subscriptions(
    ctx: Context[Any, Any],
    event_type: Annotated[EventType | None, Field(description="Only subscriptions to this event.")] = None,
    status: Annotated[SubscriptionStatus | None, Field(description="Only active or inactive ones.")] = None,
) -> WebhookSubscriptions:
    """List the account's webhook subscriptions: the event each one sends, the URL Piggy posts it to, and
    whether it is active, e.g. to check which events reach this server. Secrets are never shown."""
    return WebhookSubscriptions(subscriptions=await api(ctx).list_webhook_subscriptions(event_type, status))
