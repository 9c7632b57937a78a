"""One streamable HTTP server process for the load benchmark: `python bench/http_worker.py piggy|bare PORT`.

piggy: piggy-mcp's own HTTP app (`build_http_app`, DNS-rebinding protection and /healthz included) served by
uvicorn with the arguments `serve_http` uses, Piggy replaced by a zero-latency MockTransport in this process.
bare: the bare MCPServer's SDK app on the same uvicorn settings.
"""

from __future__ import annotations

import sys

import uvicorn
from bare_server import build_bare_server
from common import mock_transport, piggy_settings, quiet_logging
from starlette.types import ASGIApp

from piggy_mcp.hosting.app import build_http_app

HOST = "127.0.0.1"


def build_app(kind: str, port: int) -> ASGIApp:
    if kind == "piggy":
        return build_http_app(piggy_settings(), host=HOST, url=f"http://{HOST}:{port}", transport=mock_transport())
    if kind == "bare":
        return build_bare_server().streamable_http_app(streamable_http_path="/mcp", host=HOST)
    raise SystemExit(f"unknown server kind {kind!r}: use piggy or bare")


def main() -> None:
    kind, port = sys.argv[1], int(sys.argv[2])
    quiet_logging()
    uvicorn.run(build_app(kind, port), host=HOST, port=port, log_level="warning", timeout_graceful_shutdown=20)


if __name__ == "__main__":
    main()
