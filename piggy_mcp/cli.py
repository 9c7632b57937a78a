"""Command line: `piggy-mcp` serves stdio; `piggy-mcp --transport http` serves streamable HTTP."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from piggy_mcp import __version__
from piggy_mcp.config import Settings


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="piggy-mcp",
        description="MCP server for the Piggy (Leat) loyalty platform. Configure with PIGGY_* environment variables.",
    )
    parser.add_argument("--transport", choices=("stdio", "http"), default="stdio", help="default: stdio")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="HTTP port (default: 8000)")
    parser.add_argument("--log-level", default="WARNING", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    parser.add_argument("--version", action="version", version=f"piggy-mcp {__version__}")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # stdout is the protocol wire in stdio mode: logs go to stderr only.
    logging.basicConfig(
        stream=sys.stderr, level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings()
    except ValidationError as exc:
        fields = ", ".join("PIGGY_" + str(err["loc"][0]).upper() for err in exc.errors())
        print(f"piggy-mcp: invalid configuration in {fields}", file=sys.stderr)
        return 2

    from piggy_mcp.server import build_server

    server = build_server(settings)
    if args.transport == "http":
        from piggy_mcp.http_app import serve_http

        serve_http(server, args.host, args.port)
    else:
        server.run()
    return 0
