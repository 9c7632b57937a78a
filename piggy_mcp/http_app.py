"""Streamable HTTP hosting: the MCP endpoint at /mcp, a health check, DNS-rebinding protection."""

from __future__ import annotations

from typing import Any

from mcp.server import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def transport_security(host: str) -> TransportSecuritySettings:
    """Protection stays on for every bind address (the SDK turns it off for non-loopback hosts unless told)."""
    names = list(LOOPBACK_HOSTS)
    if host not in ("0.0.0.0", "::", "127.0.0.1", "localhost", "::1"):
        names.append(f"[{host}]" if ":" in host else host)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{name}:*" for name in names],
        allowed_origins=[f"http://{name}:*" for name in names],
    )


def build_http_app(server: MCPServer[Any], host: str = "127.0.0.1") -> Starlette:
    @server.custom_route("/healthz", methods=["GET"], include_in_schema=False)  # type: ignore[untyped-decorator]
    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return server.streamable_http_app(
        streamable_http_path="/mcp", transport_security=transport_security(host), host=host
    )


def serve_http(server: MCPServer[Any], host: str, port: int) -> None:
    import uvicorn  # only the HTTP transport needs it

    uvicorn.run(build_http_app(server, host), host=host, port=port, log_level="warning", timeout_graceful_shutdown=10)
