"""Streamable HTTP hosting: the front (see `front.py`) over each tenant's MCP server, an open health check,
metrics, DNS-rebinding protection, and a refusal to expose an unauthenticated server beyond loopback."""

from __future__ import annotations

import ipaddress
import logging
import secrets
import signal
import sys
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from mcp.server.transport_security import TransportSecuritySettings
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from piggy_mcp import metrics
from piggy_mcp.config import ConfigurationError, Settings
from piggy_mcp.events.hub import EventHub, open_event_hub
from piggy_mcp.events.receiver import WEBHOOK_PATH, Endpoint, repeats_for, webhook_endpoint
from piggy_mcp.hosting.auth import StaticTokenVerifier, bearer_token
from piggy_mcp.hosting.callers import Callers, oauth_for
from piggy_mcp.hosting.front import Front, Generation, Served, healthz_route
from piggy_mcp.hosting.guards import MCP_PATH, RefuseStandaloneStreams
from piggy_mcp.hosting.tenants import Tenant, tenants_for
from piggy_mcp.metrics import METRICS_PATH
from piggy_mcp.scopes import needed_scope
from piggy_mcp.server import build_server, settings_tools

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings, host: str, allow_unauthenticated: bool) -> None:
    """Refuse to serve Piggy's full access on a reachable address without authentication (a tenants file names
    who acts for each tenant, so it always authenticates)."""
    authenticated = settings.mcp_auth_tokens or settings.mcp_oauth_issuer or settings.mcp_tenants_file
    if authenticated or is_loopback(host):
        return
    if not allow_unauthenticated:
        raise ConfigurationError(
            f"refusing to serve HTTP on {host} without authentication: set PIGGY_MCP_AUTH_TOKENS or "
            "PIGGY_MCP_OAUTH_ISSUER, or pass --allow-unauthenticated if something in front of piggy-mcp "
            "authenticates callers"
        )
    log.warning("serving HTTP on %s WITHOUT authentication (--allow-unauthenticated)", host)


def transport_security(settings: Settings, host: str) -> TransportSecuritySettings:
    """DNS-rebinding protection stays on for every bind address (the SDK drops it for non-loopback hosts)."""
    names = list(LOOPBACK_NAMES)
    if host not in WILDCARD_HOSTS and not is_loopback(host):
        names.append(f"[{host}]" if ":" in host else host)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=_with_portless([f"{name}:*" for name in names] + settings.mcp_allowed_hosts),
        allowed_origins=_with_portless([f"http://{name}:*" for name in names] + settings.mcp_allowed_origins),
    )


def _with_portless(patterns: list[str]) -> list[str]:
    # The SDK's "name:*" matches only when a port is given; behind TLS on 443 clients send none.
    return patterns + [p.removesuffix(":*") for p in patterns if p.endswith(":*")]


def build_http_app(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    url: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Front:
    """The whole HTTP app: the tenants `settings` configure (one, or PIGGY_MCP_TENANTS_FILE's), each served by its
    own MCPServer behind the front. `url` is where clients reach it; `transport` replaces the network to Piggy."""
    url = (url or settings.mcp_public_url or f"http://{host}:8000").rstrip("/")
    if settings.sandbox and settings.webhook_secret is None:
        # The sandbox sends its deliveries to this server; a secret of the moment signs them.
        settings = settings.model_copy(update={"webhook_secret": SecretStr(secrets.token_urlsafe(32))})
    several = settings.mcp_tenants_file is not None

    async def start(tenant: Tenant, callers: Callers, stack: AsyncExitStack) -> Served:
        webhooks = f"{url}{WEBHOOK_PATH}" + (f"/{tenant.name}" if several else "")
        return await _start(tenant, callers, stack, host=host, url=url, webhooks=webhooks, transport=transport)

    def generation() -> Generation:
        tenants = tenants_for(settings)
        return Generation(Callers(tenants, oauth_for(settings, url), single=not several), tenants, start)

    routes: list[BaseRoute] = [healthz_route()]
    if metrics.available():
        routes.append(Route(METRICS_PATH, _metrics_endpoint(settings), methods=["GET"]))
    else:
        log.warning("%s is not served: prometheus-client is missing (pip install 'piggy-mcp[metrics]')", METRICS_PATH)
    return Front(
        generation,
        resource_url=f"{url}{MCP_PATH}",
        max_request_bytes=settings.mcp_max_request_bytes,
        routes=routes,
        oauth_issuer=settings.mcp_oauth_issuer,
        reloadable=several,
    )


def _metrics_endpoint(settings: Settings) -> Endpoint:
    """/metrics: for PIGGY_MCP_AUTH_TOKENS only, unless PIGGY_MCP_METRICS_OPEN is set.

    Open only where /mcp is (loopback without any authentication), or when the operator says so. Otherwise only the
    operator's static tokens read it: with OAuth or tenants alone, nobody does until some are set.
    """
    authenticated = settings.mcp_auth_tokens or settings.mcp_oauth_issuer or settings.mcp_tenants_file
    tokens = StaticTokenVerifier(settings.mcp_auth_tokens) if authenticated and not settings.mcp_metrics_open else None

    async def endpoint(request: Request) -> Response:
        if tokens is not None and await tokens.verify_token(bearer_token(request.scope)) is None:
            return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    return endpoint


async def _start(
    tenant: Tenant,
    callers: Callers,
    stack: AsyncExitStack,
    *,
    host: str,
    url: str,
    webhooks: str,
    transport: httpx.AsyncBaseTransport | None,
) -> Served:
    """`tenant`'s server, started on `stack`: with a webhook secret, its event hub and webhook endpoint too."""
    settings = tenant.settings
    specs = settings_tools(settings)
    events: EventHub | None = None
    webhook = None
    if settings.webhook_secret is not None:
        events = await stack.enter_async_context(open_event_hub(settings, tenant.name))
        repeats = await stack.enter_async_context(repeats_for(settings))
        webhook = webhook_endpoint(
            settings.webhook_secret,
            repeats=repeats,
            window_seconds=settings.webhook_repeat_window,
            deliver=events.publish,
        )
    server = build_server(
        settings,
        tools=specs,
        transport=transport,
        http_url=url,
        tenant=tenant.name,
        verifier=callers.verifier_for(tenant.name) if callers.required else None,
        events=events,
        webhook_url=webhooks if webhook is not None else None,
    )
    app: ASGIApp = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        # No per-process session state for older clients unless asked for, so replicas behind one URL act as one.
        stateless_http=not settings.mcp_http_sessions,
        transport_security=transport_security(settings, host),
        host=host,
        max_request_body_size=settings.mcp_max_request_bytes,
    )
    if not settings.mcp_http_sessions:
        app = RefuseStandaloneStreams(app)
    await stack.enter_async_context(server.session_manager.run())  # which runs the server's lifespan
    return Served(server, app, {spec.name: needed_scope(spec) for spec in specs}, webhook)


def serve_http(settings: Settings, *, host: str, port: int) -> None:
    import uvicorn  # only the HTTP transport needs it
    from sse_starlette.sse import AppStatus

    from piggy_mcp.hosting.header_deadline import with_header_deadline

    # By default sse-starlette ends every event stream at the first signal, cutting off older clients' calls
    # in flight; uvicorn's graceful timeout below bounds the shutdown instead.
    AppStatus.disable_automatic_graceful_drain()  # type: ignore[no-untyped-call]
    # uvicorn re-raises SIGTERM after a graceful shutdown; a finished shutdown is a clean exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    url = settings.mcp_public_url or f"http://{host}:{port}"
    uvicorn.run(
        build_http_app(settings, host=host, url=url),
        host=host,
        port=port,
        log_level="warning",
        # Beyond this many connections and requests at once, uvicorn answers 503 instead of queueing without end.
        limit_concurrency=settings.mcp_max_connections,
        http=with_header_deadline(settings.mcp_header_timeout),
        # In-flight calls get this long to finish on SIGTERM; then the lifespan closes the Piggy client.
        timeout_graceful_shutdown=20,
    )
