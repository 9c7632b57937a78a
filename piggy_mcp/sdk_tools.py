"""Our tool specs as the SDK's tools, cheap to start.

The SDK builds a tool (`Tool.from_function`: an argument model, input and output JSON schemas) in about 3 ms;
for every tool at start-up that is most of what piggy-mcp adds to a desktop client's wait. So the listing of the
default tools is recorded in `tools_list.json`, and a recorded tool is listed from there and built in full only
when it is first called. Tests keep the record equal to what the models produce (`UPDATE_GOLDEN=1 python -m pytest
tests/test_tools_list.py` rewrites it); a tool missing from it is built at once.
"""

from __future__ import annotations

import json
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from mcp import types
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.tools import Tool
from pydantic import PrivateAttr

from piggy_mcp.schema import lean_input_schema, lean_output_schema
from piggy_mcp.tools import ToolSpec

RECORDED_LISTING = Path(__file__).with_name("tools_list.json")


def sdk_tool(spec: ToolSpec) -> Tool:
    """The tool the server registers for `spec`: listed from the record when it holds `spec`, else built now."""
    recorded = recorded_schemas().get(spec.name)
    if recorded is None:
        return built_tool(spec)
    return _RecordedTool.of(spec, recorded)


def built_tool(spec: ToolSpec) -> Tool:
    """The SDK's full tool for `spec`, advertised with lean schemas (validation still uses the full models)."""
    tool = Tool.from_function(
        spec.fn,
        name=spec.name,
        title=spec.title,
        description=spec.description,
        annotations=spec.annotations,
        structured_output=True,
    )
    tool.parameters = lean_input_schema(tool.parameters)
    if tool.fn_metadata.output_schema is not None:
        tool.fn_metadata.output_schema = lean_output_schema(tool.fn_metadata.output_schema)
    return tool


def wire_listing(specs: list[ToolSpec]) -> list[dict[str, Any]]:
    """The tools/list entries of `specs` built in full, as JSON on the wire: what the record holds."""
    listing = []
    for spec in specs:
        tool = built_tool(spec)
        entry = types.Tool(
            name=tool.name,
            title=tool.title,
            description=tool.description,
            input_schema=tool.parameters,
            output_schema=tool.output_schema,
            annotations=tool.annotations,
        )
        listing.append(entry.model_dump(mode="json", by_alias=True, exclude_none=True))
    return listing


@cache
def recorded_schemas() -> dict[str, tuple[dict[str, Any], dict[str, Any] | None]]:
    """Tool name -> (input schema, output schema) from the record."""
    entries = json.loads(RECORDED_LISTING.read_text(encoding="utf-8"))
    return {entry["name"]: (entry["inputSchema"], entry.get("outputSchema")) for entry in entries}


class _RecordedTool(Tool):
    """A tool listed from recorded schemas; the SDK's full tool is built on its first call and runs every call."""

    _spec: ToolSpec = PrivateAttr()
    _output_schema: dict[str, Any] | None = PrivateAttr(default=None)

    @classmethod
    def of(cls, spec: ToolSpec, schemas: tuple[dict[str, Any], dict[str, Any] | None]) -> _RecordedTool:
        # Unvalidated on purpose: `fn_metadata`, the costly part, is left out and never read on this class.
        tool = cls.model_construct(
            fn=spec.fn,
            name=spec.name,
            title=spec.title,
            description=spec.description,
            parameters=schemas[0],
            is_async=True,
            annotations=spec.annotations,
        )
        tool._spec = spec
        tool._output_schema = schemas[1]
        return tool

    @cached_property
    def output_schema(self) -> dict[str, Any] | None:
        return self._output_schema

    @cached_property
    def full(self) -> Tool:
        # A cached property, not a private attribute: those go through pydantic's __getattr__ on every call.
        return built_tool(self._spec)

    async def run(self, arguments: dict[str, Any], context: Context[Any, Any], convert_result: bool = False) -> Any:
        return await self.full.run(arguments, context, convert_result)
