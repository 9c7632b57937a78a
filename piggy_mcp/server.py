"""Server assembly: the selected tools on one MCPServer, sharing one Piggy client for the process's life."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from mcp.server import MCPServer
from mcp.server.auth.settings import AuthSettings
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.request_state import RequestStateSecurity
from pydantic import SecretStr

from piggy_mcp import __version__
from piggy_mcp.audit import AuditTrail, wire_form
from piggy_mcp.auth import StaticTokenVerifier
from piggy_mcp.config import Settings
from piggy_mcp.piggy import PiggyAPI, PiggyClient
from piggy_mcp.prompts import INSTRUCTIONS, register_prompts
from piggy_mcp.sdk_tools import sdk_tool
from piggy_mcp.selection import select_tools
from piggy_mcp.signing import Signer
from piggy_mcp.tools import ToolSpec
from piggy_mcp.tools.base import Runtime

if TYPE_CHECKING:
    import httpx

NAME = "piggy-mcp"
SANDBOX_NOTICE = "SANDBOX: simulated data from piggy-mcp's built-in Piggy simulator, not a real loyalty account."


def settings_tools(settings: Settings) -> list[ToolSpec]:
    """The tools `settings` selects (read-only mode, toolsets, tools, exclusions)."""
    return select_tools(
        read_only=settings.read_only,
        toolsets=settings.toolsets,
        tools=settings.tools,
        exclude_tools=settings.exclude_tools,
    )


def build_server(
    settings: Settings,
    *,
    tools: Iterable[ToolSpec] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    http_url: str | None = None,
) -> MCPServer[Runtime]:
    """An MCPServer serving `tools` (default: those `settings` selects) against the account `settings` names.

    `transport` replaces the network, for tests and the sandbox. `http_url` is where the server will be
    reached over HTTP; with PIGGY_MCP_AUTH_TOKENS set, callers there must present one of the tokens.
    """
    specs = settings_tools(settings) if tools is None else list(tools)
    middleware: list[Any] = [AuditTrail([spec.name for spec in specs if not spec.read_only], settings.audit_log)]
    instructions = INSTRUCTIONS
    if settings.sandbox:
        settings, transport = _sandboxed(settings)
        middleware.append(sandbox_notice)
        instructions = f"{SANDBOX_NOTICE}\n\n{INSTRUCTIONS}"
    client = PiggyClient(settings, transport=transport)
    runtime = Runtime(
        api=PiggyAPI(client),
        signer=Signer(settings.derived_key("confirmation"), settings.confirmation_ttl),
    )

    @asynccontextmanager
    async def lifespan(_: MCPServer[Any]) -> AsyncIterator[Runtime]:
        async with client:
            yield runtime

    auth: dict[str, Any] = {}
    if http_url is not None and settings.mcp_auth_tokens:
        auth = {
            "token_verifier": StaticTokenVerifier(settings.mcp_auth_tokens),
            "auth": AuthSettings.model_validate(
                {"issuer_url": http_url, "resource_server_url": f"{http_url}/mcp", "validate_token_resource": False}
            ),
        }
    server = MCPServer(
        name=NAME,
        title="Piggy loyalty",
        version=__version__,
        instructions=instructions,
        lifespan=lifespan,
        log_level="WARNING",
        tools=[sdk_tool(spec) for spec in specs],
        # Replicas sharing PIGGY_MCP_SIGNING_KEY can resume each other's elicitation rounds.
        request_state_security=RequestStateSecurity(keys=[settings.derived_key("request-state")]),
        middleware=middleware,
        **auth,
    )
    register_prompts(server)
    return server


def _sandboxed(settings: Settings) -> tuple[Settings, httpx.AsyncBaseTransport]:
    """Settings and an in-process transport for the built-in simulated Piggy (imported only when used)."""
    import httpx

    from piggy_mcp.sandbox import create_app

    key = "sandbox"
    local = settings.model_copy(update={"api_key": SecretStr(key), "base_url": "http://sandbox.invalid"})
    return local, httpx.ASGITransport(create_app(api_key=key))


async def sandbox_notice(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Every tool result from the sandbox says so, so that no one mistakes it for a real account."""
    result = await call_next(ctx)
    if ctx.method != "tools/call":
        return result
    wire = wire_form(result)
    if "content" not in wire:  # e.g. a question for the user, not yet a result
        return result
    return {**wire, "content": [*wire["content"], {"type": "text", "text": SANDBOX_NOTICE}]}
