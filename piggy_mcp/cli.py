"""Command line.

piggy-mcp [selection] [--transport stdio|http ...]   serve (stdio by default)
piggy-mcp tools [selection]                          print what would be served, without serving
piggy-mcp bundle [-o FILE | --stage DIR | --manifest] pack the MCP Bundle (.mcpb) for Claude Desktop
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from piggy_mcp import __version__
from piggy_mcp.config import ConfigurationError, Settings


def _selection_flags() -> argparse.ArgumentParser:
    # Defaults are suppressed so that only flags actually given override the environment.
    flags = argparse.ArgumentParser(add_help=False)
    group = flags.add_argument_group("what an agent may do (override PIGGY_READ_ONLY, PIGGY_TOOLSETS, ...)")
    group.add_argument("--read-only", action="store_true", default=argparse.SUPPRESS, help="serve only read tools")
    group.add_argument("--toolsets", metavar="A,B", default=argparse.SUPPRESS, help="serve these toolsets")
    group.add_argument("--tools", metavar="X,Y", default=argparse.SUPPRESS, help="serve these tools too")
    group.add_argument("--exclude-tools", metavar="X,Y", default=argparse.SUPPRESS, help="never serve these tools")
    return flags


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    selection = _selection_flags()
    parser = argparse.ArgumentParser(
        prog="piggy-mcp",
        description="MCP server for the Piggy (Leat) loyalty platform. Configure with PIGGY_* environment variables.",
        parents=[selection],
    )
    parser.add_argument(
        "--sandbox",
        action="store_true",
        default=argparse.SUPPRESS,
        help="serve against a built-in simulated Piggy account, no API key needed (PIGGY_SANDBOX=1)",
    )
    parser.add_argument("--transport", choices=("stdio", "http"), default="stdio", help="default: stdio")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="HTTP port (default: 8000)")
    parser.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        help="serve HTTP on a non-loopback address without PIGGY_MCP_AUTH_TOKENS (not recommended)",
    )
    parser.add_argument("--log-level", default="WARNING", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    parser.add_argument("--version", action="version", version=f"piggy-mcp {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("tools", parents=[selection], help="list the tools these flags would serve, then exit")
    sandbox = commands.add_parser("sandbox", help="serve the simulated Piggy API over HTTP, for development")
    sandbox.add_argument("--host", default="127.0.0.1", help="bind address (default: 127.0.0.1)")
    sandbox.add_argument("--port", type=int, default=8765, help="port (default: 8765)")
    commands.add_parser("demo", help="show the member stories against the sandbox, step by step")
    bundle = commands.add_parser("bundle", help="pack an MCP Bundle (.mcpb) that Claude Desktop installs in one click")
    output = bundle.add_mutually_exclusive_group()
    output.add_argument("-o", "--output", type=Path, help="the .mcpb to write (default: piggy-mcp-<version>.mcpb)")
    output.add_argument("--stage", metavar="DIR", type=Path, help="write the bundle's files into DIR, for `mcpb pack`")
    output.add_argument("--manifest", action="store_true", help="print the bundle's manifest.json")
    webhooks = commands.add_parser("webhooks", help="the Piggy webhook subscriptions that bring events here")
    webhook_commands = webhooks.add_subparsers(dest="webhooks_command", metavar="COMMAND", required=True)
    sync = webhook_commands.add_parser("sync", help="create, keep and remove this deployment's subscriptions")
    sync.add_argument("--url", required=True, help="where Piggy posts, e.g. https://mcp.example.com/webhooks/piggy")
    sync.add_argument("--events", metavar="A,B", help="the event types to subscribe to (default: all twelve)")
    sync.add_argument("--dry-run", action="store_true", help="print what would be done and change nothing")
    sync.add_argument("--no-delete", action="store_true", help="delete none of ours (step 1 of rotating the secret)")
    webhook_commands.add_parser("list", help="print the account's webhook subscriptions (never their secrets)")
    return parser.parse_args(argv)


def load_settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {
        name: getattr(args, name)
        for name in ("read_only", "toolsets", "tools", "exclude_tools", "sandbox")
        if hasattr(args, name)
    }
    return Settings(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # stdout is the protocol wire in stdio mode: logs go to stderr only.
    logging.basicConfig(
        stream=sys.stderr, level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = load_settings(args)
        if args.command == "tools":
            return print_tools(settings)
        if args.command == "sandbox":
            return serve_sandbox(args.host, args.port)
        if args.command == "demo":
            from piggy_mcp.demo import run_demo

            return run_demo()
        if args.command == "bundle":
            from piggy_mcp.bundle import run

            return run(args.output, args.stage, args.manifest)
        if args.command == "webhooks":
            from piggy_mcp.events.sync import run as run_webhooks

            return run_webhooks(settings, args)
        return serve(settings, args)
    except ValidationError as exc:
        fields = ", ".join("PIGGY_" + str(err["loc"][0]).upper() for err in exc.errors())
        return _fail(f"invalid configuration in {fields}")
    except ConfigurationError as exc:  # includes unknown toolset or tool names
        return _fail(str(exc))


def serve(settings: Settings, args: argparse.Namespace) -> int:
    from piggy_mcp.server import build_server
    from piggy_mcp.tracing import export_from_environment

    export_from_environment()
    if args.transport == "stdio":
        build_server(settings).run()
        return 0
    from piggy_mcp.hosting.app import check_exposure, serve_http

    check_exposure(settings, args.host, args.allow_unauthenticated)
    serve_http(settings, host=args.host, port=args.port)
    return 0


def serve_sandbox(host: str, port: int) -> int:
    from piggy_mcp.sandbox import serve

    print(
        f"Simulated Piggy API at http://{host}:{port} (data resets on restart).\n"
        f"Point piggy-mcp at it with PIGGY_BASE_URL=http://{host}:{port} PIGGY_API_KEY=sandbox",
        file=sys.stderr,
    )
    serve(host, port, api_key="sandbox")
    return 0


def print_tools(settings: Settings) -> int:
    from piggy_mcp.server import settings_tools

    rows = [(spec.name, spec.toolset, _kind(spec.annotations)) for spec in settings_tools(settings)]
    width = max((len(name) for name, _, _ in rows), default=4)
    print(f"{'tool':<{width}}  {'toolset':<10}  kind")
    for name, toolset, kind in rows:
        print(f"{name:<{width}}  {toolset:<10}  {kind}")
    return 0


def _kind(annotations: Any) -> str:
    if annotations.read_only_hint:
        return "read"
    return "destructive" if annotations.destructive_hint else "write"


def _fail(message: str) -> int:
    print(f"piggy-mcp: {message}", file=sys.stderr)
    return 2
