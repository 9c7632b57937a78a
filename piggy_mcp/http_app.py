"""Streamable HTTP hosting: the front (see `front.py`) over each tenant's MCP server, an open health check,
metrics, DNS-rebinding protection, and a refusal to expose an unauthenticated server beyond loopback."""

from __future__ import annotations

import ipaddress
import logging
import signal
import sys
from typing import TYPE_CHECKING

from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from piggy_mcp import metrics
from piggy_mcp.callers import Callers, oauth_for
from piggy_mcp.config import ConfigurationError, Settings
from piggy_mcp.front import Front, Generation, Served, healthz_route
from piggy_mcp.http_guards import MCP_PATH, RefuseStandaloneStreams
from piggy_mcp.metrics import METRICS_PATH
from piggy_mcp.scopes import needed_scope
from piggy_mcp.server import build_server, settings_tools
from piggy_mcp.tenants import Tenant, tenants_for

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

    def generation() -> Generation:
        tenants = tenants_for(settings)
        callers = Callers(tenants, oauth_for(settings, url))
        served = {name: _served(tenant, callers, host, url, transport) for name, tenant in tenants.items()}
        return Generation(callers, served)

    routes: list[BaseRoute] = [healthz_route()]
    if metrics.available():
        routes.append(Route(METRICS_PATH, metrics.metrics_endpoint(settings), methods=["GET"]))
    else:
        log.warning("%s is not served: prometheus-client is missing (pip install 'piggy-mcp[metrics]')", METRICS_PATH)
    return Front(
        generation,
        resource_url=f"{url}{MCP_PATH}",
        max_request_bytes=settings.mcp_max_request_bytes,
        routes=routes,
        oauth_issuer=settings.mcp_oauth_issuer,
        reloadable=settings.mcp_tenants_file is not None,
    )


def _served(
    tenant: Tenant, callers: Callers, host: str, url: str, transport: httpx.AsyncBaseTransport | None
) -> Served:
    settings = tenant.settings
    specs = settings_tools(settings)
    verifier = callers.verifier_for(tenant.name) if callers.required else None
    server = build_server(
        settings, tools=specs, transport=transport, http_url=url, tenant=tenant.name, verifier=verifier
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
    return Served(server, app, {spec.name: needed_scope(spec) for spec in specs})


def serve_http(settings: Settings, *, host: str, port: int) -> None:
    import uvicorn  # only the HTTP transport needs it
    from sse_starlette.sse import AppStatus

    from piggy_mcp.header_deadline import with_header_deadline

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
