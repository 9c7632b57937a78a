"""Serving piggy-mcp against the sandbox (`--sandbox`, PIGGY_SANDBOX): its settings, transport and notice."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from pydantic import SecretStr

from piggy_mcp.audit import json_form
from piggy_mcp.config import Settings
from piggy_mcp.piggy import PiggyAPI
from piggy_mcp.piggy.webhooks import EVENT_TYPES
from piggy_mcp.sandbox.app import create_app

log = logging.getLogger(__name__)

SANDBOX_NOTICE = "SANDBOX: simulated data from piggy-mcp's built-in Piggy simulator, not a real loyalty account."
_API_KEY = "sandbox"


def sandboxed(settings: Settings) -> tuple[Settings, httpx.AsyncBaseTransport]:
    """`settings` pointed at a fresh simulated account, and the in-process transport that reaches it."""
    local = settings.model_copy(update={"api_key": SecretStr(_API_KEY), "base_url": "http://sandbox.invalid"})
    return local, httpx.ASGITransport(create_app(api_key=_API_KEY))


async def sandbox_notice(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Middleware: every tool result from the sandbox says so, so that no one mistakes it for a real account."""
    result = await call_next(ctx)
    if ctx.method != "tools/call":
        return result
    wire = json_form(result)
    if "content" not in wire:  # e.g. a question for the user, not yet a result
        return result
    return {**wire, "content": [*wire["content"], {"type": "text", "text": SANDBOX_NOTICE}]}


async def subscribe_to_itself(api: PiggyAPI, url: str, secret: SecretStr) -> None:
    """Subscribe the sandbox to every event at `url`, this server's own webhook endpoint, as `piggy-mcp webhooks
    sync` does for a real account: so that its changes reach subscribed clients with no account anywhere."""
    from piggy_mcp.events.sync import sync

    await sync(api, url=url, events=EVENT_TYPES, secret=secret.get_secret_value(), echo=log.debug)
