"""Server assembly: the selected tools on one MCPServer, with one Piggy client for each run of its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from mcp.server import MCPServer
from mcp.server.auth.provider import TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver.tools import Tool
from mcp.server.request_state import RequestStateSecurity

from piggy_mcp import __version__, metrics
from piggy_mcp.arguments import ArgumentCheck
from piggy_mcp.audit import AuditTrail
from piggy_mcp.config import DEFAULT_TENANT, Settings
from piggy_mcp.listing import LeanListing
from piggy_mcp.piggy import PiggyAPI, PiggyClient
from piggy_mcp.piggy.observe import PiggyObserver
from piggy_mcp.processed import processed_for
from piggy_mcp.prompts import INSTRUCTIONS, refuse_unknown_prompts, register_prompts
from piggy_mcp.resources import serve_resources
from piggy_mcp.scopes import ScopedTools
from piggy_mcp.selection import select_tools
from piggy_mcp.signing import Signer
from piggy_mcp.single_use import single_use_for
from piggy_mcp.time_limit import TimeLimit
from piggy_mcp.tools import ToolSpec
from piggy_mcp.tools.runtime import Confirmations, Runtime
from piggy_mcp.tracing import PiggySpans, ToolCallSpans
from piggy_mcp.untrusted import UntrustedMark

if TYPE_CHECKING:
    import httpx

    from piggy_mcp.events.hub import EventHub

NAME = "piggy-mcp"


def settings_tools(settings: Settings) -> list[ToolSpec]:
    """The tools `settings` selects (read-only mode, toolsets, tools, exclusions)."""
    return select_tools(
        read_only=settings.read_only,
        toolsets=settings.toolsets,
        tools=settings.tools,
        exclude_tools=settings.exclude_tools,
    )


@cache
def sdk_tool(spec: ToolSpec) -> Tool:
    """`spec` as the SDK's tool: its argument model and schemas come from the function's signature.

    A tool's definition is fixed for the life of the process, so every server built in it shares one.
    """
    return Tool.from_function(
        spec.fn,
        name=spec.name,
        title=spec.title,
        description=spec.description,
        annotations=spec.annotations,
        structured_output=True,
    )


def build_server(
    settings: Settings,
    *,
    tools: Iterable[ToolSpec] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    http_url: str | None = None,
    tenant: str = DEFAULT_TENANT,
    verifier: TokenVerifier | None = None,
    events: EventHub | None = None,
    webhook_url: str | None = None,
) -> MCPServer[Runtime]:
    """An MCPServer serving `tools` (default: those `settings` selects) against the account `settings` names.

    `transport` replaces the network, for tests and the sandbox. `http_url` is where the server will be
    reached over HTTP; callers there must present a token `verifier` accepts, if one is given (the hosting layer
    gives each tenant's server its own). `tenant` names whom
    the server serves, in its audit lines and metrics. `events` (open_event_hub) is where verified Piggy events
    arrive: with it, piggy://events/recent is served and subscribers hear of changes (resources.py). The sandbox
    subscribes itself to `webhook_url`, where this server receives Piggy's webhooks, if given.
    """
    specs = settings_tools(settings) if tools is None else list(tools)
    sdk_tools = [sdk_tool(spec) for spec in specs]
    listing = LeanListing(sdk_tools)
    observers: list[PiggyObserver] = [PiggySpans()]
    middleware: list[Any] = [
        ToolCallSpans([spec.name for spec in specs]),
        AuditTrail([spec.name for spec in specs if not spec.read_only], settings.audit_log, tenant=tenant),
        TimeLimit(settings.call_timeout),
        ScopedTools(specs),
        listing,
        refuse_unknown_prompts,
        UntrustedMark(specs),
    ]
    if http_url is not None and metrics.available():  # /metrics is served over HTTP only
        middleware.insert(0, metrics.ToolCallMetrics([spec.name for spec in specs], tenant))
        observers.append(metrics.PiggyMetrics(tenant))
    instructions = INSTRUCTIONS
    if settings.sandbox:
        from piggy_mcp.sandbox.serving import SANDBOX_NOTICE, sandbox_notice, sandboxed

        settings, transport = sandboxed(settings)
        middleware.append(sandbox_notice)
        instructions = f"{SANDBOX_NOTICE}\n\n{INSTRUCTIONS}"
    # Innermost: a refused call is still audited and, in the sandbox, says so.
    middleware.append(ArgumentCheck(sdk_tools, listing))
    signer = Signer(settings.derived_key("confirmation"), settings.confirmation_ttl)

    @asynccontextmanager
    async def lifespan(_: MCPServer[Any]) -> AsyncIterator[Runtime]:
        async with (
            PiggyClient(settings, transport=transport, observers=observers) as client,
            single_use_for(settings) as single_use,
            processed_for(settings) as processed,
        ):
            confirmations = Confirmations(signer, single_use, elicitation_only=settings.confirmation == "elicitation")
            api = PiggyAPI(client, default_shop=settings.shop_uuid)
            if settings.sandbox and webhook_url is not None and settings.webhook_secret is not None:
                from piggy_mcp.sandbox.serving import subscribe_to_itself

                await subscribe_to_itself(api, webhook_url, settings.webhook_secret)
            yield Runtime(api, confirmations, processed)

    auth: dict[str, Any] = {}
    if http_url is not None and verifier is not None:
        # The audience of OAuth tokens is checked by the verifier: static tokens name no resource.
        where = {"issuer_url": settings.mcp_oauth_issuer or http_url, "resource_server_url": f"{http_url}/mcp"}
        auth = {
            "token_verifier": verifier,
            "auth": AuthSettings.model_validate({**where, "validate_token_resource": False}),
        }
    server = MCPServer(
        name=NAME,
        title="Piggy loyalty",
        version=__version__,
        instructions=instructions,
        lifespan=lifespan,
        log_level="WARNING",
        tools=sdk_tools,
        # Replicas sharing PIGGY_MCP_SIGNING_KEY can resume each other's elicitation rounds.
        request_state_security=RequestStateSecurity(keys=[settings.derived_key("request-state")]),
        middleware=middleware,
        subscriptions=events.bus if events is not None else None,
        **auth,
    )
    register_prompts(server)
    serve_resources(server, specs, events=events, call_timeout=settings.call_timeout)
    return server
