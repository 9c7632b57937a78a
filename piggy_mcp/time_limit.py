"""Every tool call answers within PIGGY_CALL_TIMEOUT seconds (30 by default) of the server's own work."""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

from piggy_mcp.piggy.deadline import call_deadline


class TimeLimit:
    """Middleware: the Piggy requests of one tool call share one deadline (see `piggy/deadline.py`)."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "tools/call":
            return await call_next(ctx)
        with call_deadline(self._seconds):
            return await call_next(ctx)
