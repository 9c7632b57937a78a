"""Streamable HTTP hosting: the MCP endpoint at /mcp, an open health check, metrics, DNS-rebinding protection,
bearer-token authentication, and a refusal to expose an unauthenticated server beyond loopback."""

from __future__ import annotations

import ipaddress
import logging
import signal
import sys
from typing import Any

from mcp.server import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from piggy_mcp import metrics
from piggy_mcp.auth import StaticTokenVerifier
from piggy_mcp.config import ConfigurationError, Settings
from piggy_mcp.http_guards import MCP_PATH, CheckJsonRpc, RefuseStandaloneStreams
from piggy_mcp.metrics import METRICS_PATH

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
    """Refuse to serve Piggy's full access on a reachable address without authentication."""
    if settings.mcp_auth_tokens or is_loopback(host):
        return
    if not allow_unauthenticated:
        raise ConfigurationError(
            f"refusing to serve HTTP on {host} without authentication: set PIGGY_MCP_AUTH_TOKENS, "
            "or pass --allow-unauthenticated if something in front of piggy-mcp authenticates callers"
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


def build_http_app(server: MCPServer[Any], settings: Settings, host: str = "127.0.0.1") -> Starlette:
    @server.custom_route("/healthz", methods=["GET"], include_in_schema=False)  # type: ignore[untyped-decorator]
    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    if metrics.available():
        server.custom_route(METRICS_PATH, methods=["GET"], include_in_schema=False)(metrics.metrics_endpoint(settings))
    else:
        log.warning("%s is not served: prometheus-client is missing (pip install 'piggy-mcp[metrics]')", METRICS_PATH)
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        # No per-process session state for older clients, so replicas behind one URL act as one server.
        stateless_http=True,
        transport_security=transport_security(settings, host),
        host=host,
        max_request_body_size=settings.mcp_max_request_bytes,
    )
    verifier = StaticTokenVerifier(settings.mcp_auth_tokens) if settings.mcp_auth_tokens else None
    app.add_middleware(CheckJsonRpc, max_bytes=settings.mcp_max_request_bytes, verifier=verifier)
    app.add_middleware(RefuseStandaloneStreams)
    return app


def serve_http(server: MCPServer[Any], settings: Settings, *, host: str, port: int) -> None:
    import uvicorn  # only the HTTP transport needs it
    from sse_starlette.sse import AppStatus

    from piggy_mcp.header_deadline import with_header_deadline

    # By default sse-starlette ends every event stream at the first signal, cutting off older clients' calls
    # in flight; uvicorn's graceful timeout below bounds the shutdown instead.
    AppStatus.disable_automatic_graceful_drain()  # type: ignore[no-untyped-call]
    # uvicorn re-raises SIGTERM after a graceful shutdown; a finished shutdown is a clean exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(
        build_http_app(server, settings, host),
        host=host,
        port=port,
        log_level="warning",
        # Beyond this many connections and requests at once, uvicorn answers 503 instead of queueing without end.
        limit_concurrency=settings.mcp_max_connections,
        http=with_header_deadline(settings.mcp_header_timeout),
        # In-flight calls get this long to finish on SIGTERM; then the lifespan closes the Piggy client.
        timeout_graceful_shutdown=20,
    )
