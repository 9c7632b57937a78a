"""Subscriptions may name only the resources this server serves.

The SDK honours a subscription to any URI (one that is never updated simply never fires). A client that subscribed
to a member card this server does not serve, or to another spelling of one it does, would wait for updates that
never come: such a subscription is refused, with one sentence saying why, before anything is registered.
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, SubscribeRequestParams, SubscriptionsListenRequestParams
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import ValidationError

from piggy_mcp.resource_uris import ServedResources


class SubscriptionGate:
    """Middleware: `subscriptions/listen` (2026-07-28) and `resources/subscribe` (older clients) are refused with
    invalid params when they name a resource URI that `served` does not serve."""

    def __init__(self, served: ServedResources) -> None:
        self._served = served

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        for uri in _named_uris(ctx):
            refusal = self._served.refusal(uri)
            if refusal is not None:
                raise MCPError(INVALID_PARAMS, refusal)
        return await call_next(ctx)


def _named_uris(ctx: ServerRequestContext[Any, Any]) -> list[str]:
    """The resource URIs a subscription request names; none for other requests, for `resources/subscribe` where
    2026-07-28 has none (the SDK answers it), or for params the SDK will refuse."""
    params = ctx.params or {}
    try:
        if ctx.method == "subscriptions/listen":
            listen = SubscriptionsListenRequestParams.model_validate(params, by_name=False)
            return list(listen.notifications.resource_subscriptions or ())
        if ctx.method == "resources/subscribe" and ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            return [SubscribeRequestParams.model_validate(params, by_name=False).uri]
    except ValidationError:
        pass  # the SDK answers malformed params itself
    return []
