"""What tools reach at run time through the server's lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import Context

from piggy_mcp.piggy import PiggyAPI
from piggy_mcp.processed import Processed
from piggy_mcp.signing import Signer
from piggy_mcp.single_use import SingleUse


@dataclass(frozen=True)
class Confirmations:
    """How irreversible actions are confirmed: tokens signed here, their single use recorded there."""

    signer: Signer
    single_use: SingleUse
    # PIGGY_CONFIRMATION=elicitation: only the user's own answer confirms; no tokens are handed out or taken.
    elicitation_only: bool = False


@dataclass(frozen=True)
class Runtime:
    """The shared Piggy API, how confirmations work, and the writes already sent."""

    api: PiggyAPI
    confirmations: Confirmations
    processed: Processed


def runtime(ctx: Context[Any, Any]) -> Runtime:
    state: Runtime = ctx.request_context.lifespan_context
    return state


def api(ctx: Context[Any, Any]) -> PiggyAPI:
    return runtime(ctx).api
