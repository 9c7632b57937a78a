"""Streamable HTTP hosting: the MCP endpoint at /mcp, an open health check, DNS-rebinding protection,
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
from starlette.types import ASGIApp, Receive, Scope, Send

from piggy_mcp.config import ConfigurationError, Settings

log = logging.getLogger(__name__)

MCP_PATH = "/mcp"
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


class RefuseStandaloneStreams:
    """ASGI middleware: a GET on /mcp (an older client's stream for server-initiated messages) is refused with 405.

    HTTP is stateless here, so such a stream could never carry anything, yet it would hold a connection open for
    as long as the client likes. The protocol lets a server answer 405 instead, and clients carry on without it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].rstrip("/") == MCP_PATH:
            await Response(status_code=405, headers={"Allow": "POST"})(scope, receive, send)
            return
        await self._app(scope, receive, send)


def build_http_app(server: MCPServer[Any], settings: Settings, host: str = "127.0.0.1") -> Starlette:
    @server.custom_route("/healthz", methods=["GET"], include_in_schema=False)  # type: ignore[untyped-decorator]
    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        # No per-process session state for older clients, so replicas behind one URL act as one server.
        stateless_http=True,
        transport_security=transport_security(settings, host),
        host=host,
    )
    app.add_middleware(RefuseStandaloneStreams)
    return app


def serve_http(server: MCPServer[Any], settings: Settings, *, host: str, port: int) -> None:
    import uvicorn  # only the HTTP transport needs it
    from sse_starlette.sse import AppStatus

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
        # In-flight calls get this long to finish on SIGTERM; then the lifespan closes the Piggy client.
        timeout_graceful_shutdown=20,
    )
