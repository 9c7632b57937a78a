"""What tools reach at run time through the server's lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import Context

from piggy_mcp.piggy import PiggyAPI
from piggy_mcp.signing import Signer


@dataclass(frozen=True)
class Runtime:
    """The shared Piggy API and the confirmation signer."""

    api: PiggyAPI
    signer: Signer


def runtime(ctx: Context[Any, Any]) -> Runtime:
    state: Runtime = ctx.request_context.lifespan_context
    return state


def api(ctx: Context[Any, Any]) -> PiggyAPI:
    return runtime(ctx).api
