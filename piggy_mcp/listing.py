"""What `tools/list` shows models: each tool's schemas in their lean form (see `schema.py`).

The SDK builds every tool from its function (`Tool.from_function`) and validates calls against the full argument
model; this middleware only rewrites the schemas the listing advertises, from forms computed once at start-up.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver.tools import Tool

from piggy_mcp.audit import json_form
from piggy_mcp.schema import lean_input_schema, lean_output_schema


class LeanListing:
    """Middleware: `tools/list` with lean input and output schemas for `tools`."""

    def __init__(self, tools: Iterable[Tool]) -> None:
        self._schemas: dict[str, dict[str, Any]] = {}
        for tool in tools:
            schemas = {"inputSchema": lean_input_schema(tool.parameters)}
            if tool.output_schema is not None:
                schemas["outputSchema"] = lean_output_schema(tool.output_schema)
            self._schemas[tool.name] = schemas

    def input_schema(self, tool: str) -> dict[str, Any]:
        """The input schema `tools/list` advertises for `tool`."""
        schema: dict[str, Any] = self._schemas[tool]["inputSchema"]
        return schema

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        if ctx.method != "tools/list":
            return result
        listing = json_form(result)
        tools = [{**entry, **self._schemas.get(entry.get("name"), {})} for entry in listing.get("tools", [])]
        return {**listing, "tools": tools}
