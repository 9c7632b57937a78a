"""OAuth scopes: what a caller's token lets it do, from reading to confirmed, destructive or value-moving calls.

Each scope includes the ones below it: `piggy:write` serves reads too, `piggy:destructive` everything. Static
bearer tokens carry every scope: the operator configured them. The scopes lower what a tenant serves, never
raise it: a tool outside the tenant's selection stays unknown whatever the token says.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

from piggy_mcp.audit import json_form

if TYPE_CHECKING:
    from piggy_mcp.tools import ToolSpec

READ = "piggy:read"
WRITE = "piggy:write"
DESTRUCTIVE = "piggy:destructive"
# Lowest first: a scope grants its own rank and every rank below.
SCOPES = (READ, WRITE, DESTRUCTIVE)


def needed_scope(spec: ToolSpec) -> str:
    """The scope a token needs to call `spec`."""
    if spec.read_only:
        return READ
    return DESTRUCTIVE if spec.confirmed else WRITE


def grants(scopes: Iterable[str], needed: str) -> bool:
    """Whether a token with `scopes` may do what `needed` allows."""
    held = [SCOPES.index(scope) for scope in scopes if scope in SCOPES]
    return bool(held) and max(held) >= SCOPES.index(needed)


def caller_scopes() -> list[str] | None:
    """The scopes of the HTTP caller's token, or None where no token applies (stdio, or an open loopback)."""
    token = get_access_token()
    return None if token is None else token.scopes


class ScopedTools:
    """Middleware: `tools/list` shows a caller only the tools its token's scopes allow, and a call of another one
    is refused (over HTTP the front answers 403 before the call gets here; this holds for every other way in)."""

    def __init__(self, specs: Iterable[ToolSpec]) -> None:
        self._needed = {spec.name: needed_scope(spec) for spec in specs}

    def allowed(self, tool: str, scopes: list[str]) -> bool:
        needed = self._needed.get(tool)
        return needed is None or grants(scopes, needed)

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        scopes = caller_scopes()
        if scopes is None or ctx.method not in ("tools/list", "tools/call"):
            return await call_next(ctx)
        if ctx.method == "tools/call":
            tool = str((ctx.params or {}).get("name"))
            if not self.allowed(tool, scopes):
                refusal = f"This token may not call {tool}: it needs the scope {self._needed[tool]}."
                return {"content": [{"type": "text", "text": refusal}], "isError": True}
            return await call_next(ctx)
        listing = json_form(await call_next(ctx))
        tools = [entry for entry in listing.get("tools", []) if self.allowed(str(entry.get("name")), scopes)]
        return {**listing, "tools": tools}
