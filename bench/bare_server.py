"""The reference: a bare MCPServer with ONE trivial tool on the same SDK, built only through its public API.

`python bench/bare_server.py` serves stdio, as `python -m piggy_mcp` does.
"""

from __future__ import annotations

from mcp.server import MCPServer


def build_bare_server() -> MCPServer:
    # WARNING, as piggy-mcp runs: the SDK's default (INFO) would log per HTTP session and slow the reference.
    server = MCPServer(name="bare", log_level="WARNING")

    # Registered with the public decorator. async, as piggy-mcp's tools are: a plain `def` would run on a
    # worker thread and make the reference slower.
    @server.tool()
    async def echo(text: str) -> str:
        """Return the text."""
        return text

    return server


if __name__ == "__main__":
    build_bare_server().run()
