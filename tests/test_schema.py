"""The token budget of tools/list: what every session pays for the tools before the user says a word.

Measured as a client receives it, the compact JSON of the listed tools, for the default configuration and for
every toolset (`all`): on average at most 1,000 bytes (about 250 tokens) per tool. Over it, the test names the
largest tools; trim their wording or their output schemas (the fields an agent needs, not all Piggy returns).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import pytest
from mcp import Client
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from piggy_mcp.schema import inline_single_use_defs, lean_input_schema, unadvertised_limits
from piggy_mcp.server import build_server
from tests.conftest import make_settings
from tests.test_tools_list import wire_tools

BUDGET_PER_TOOL = 1_000
LARGEST_SHOWN = 5


def compact_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")))


@pytest.mark.parametrize("toolsets", [[], ["all"]], ids=["default", "all"])
async def test_tools_list_stays_within_the_token_budget(toolsets: list[str]) -> None:
    configuration = ",".join(toolsets) or "default"
    async with Client(build_server(make_settings(toolsets=toolsets))) as client:
        tools = await wire_tools(client)
    assert tools, f"{configuration} lists no tools"
    per_tool = compact_size(tools) / len(tools)
    limit = BUDGET_PER_TOOL
    largest = sorted(((compact_size(tool), tool["name"]) for tool in tools), reverse=True)[:LARGEST_SHOWN]
    shown = "\n".join(f"    {size:6,} bytes  {name}" for size, name in largest)
    assert per_tool <= limit, (
        f"tools/list ({configuration}) takes {per_tool:,.0f} bytes per tool, over the budget of {limit:,}: "
        f"{compact_size(tools):,} bytes for {len(tools)} tools. The largest:\n{shown}"
    )


# The means: lean schemas (piggy_mcp/schema.py) --------------------------------------------------------------


class Leaf(BaseModel):
    x: str


class Shared(BaseModel):
    y: int


class Tree(BaseModel):
    children: list[Tree]


class Root(BaseModel):
    once: Annotated[Leaf, Field(description="The leaf.")]
    first: Shared
    second: Shared
    tree: Tree


def test_a_definition_used_once_is_written_in_place() -> None:
    lean = lean_input_schema(Root.model_json_schema())
    # The field's description, beside the $ref in pydantic's schema, comes along.
    assert lean["properties"]["once"] == {
        "properties": {"x": {"type": "string"}},
        "required": ["x"],
        "type": "object",
        "description": "The leaf.",
    }
    # Shared twice, and the recursive Tree, stay definitions: writing them out would cost more, or never end.
    assert lean["properties"]["first"] == lean["properties"]["second"] == {"$ref": "#/$defs/Shared"}
    assert lean["$defs"]["Tree"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Tree"}
    assert lean["$defs"].keys() == {"Shared", "Tree"}


def test_definitions_go_once_none_is_left() -> None:
    lean = lean_input_schema(TypeAdapter(list[Leaf]).json_schema())
    assert lean == {
        "items": {"properties": {"x": {"type": "string"}}, "required": ["x"], "type": "object"},
        "type": "array",
    }


def test_mutual_recursion_keeps_the_definition_it_comes_back_to() -> None:
    schema = {
        "$defs": {
            "A": {"properties": {"b": {"$ref": "#/$defs/B"}}, "type": "object"},
            "B": {"properties": {"a": {"$ref": "#/$defs/A"}}, "type": "object"},
        },
        "properties": {"a": {"$ref": "#/$defs/A"}},
        "type": "object",
    }
    assert inline_single_use_defs(schema) == {
        "$defs": {
            "A": {"properties": {"b": {"properties": {"a": {"$ref": "#/$defs/A"}}, "type": "object"}}, "type": "object"}
        },
        "properties": {"a": {"$ref": "#/$defs/A"}},
        "type": "object",
    }


class Guarded(BaseModel):
    party: Annotated[int | None, Field(ge=1, description="Party size."), unadvertised_limits(le=10_000)] = None
    name: Annotated[str, Field(description="Name."), unadvertised_limits(min_length=1, max_length=255)]
    tags: Annotated[list[str] | None, Field(description="Tags."), unadvertised_limits(min_length=1, max_length=3)] = (
        None
    )


def test_unadvertised_limits_are_enforced_but_not_advertised() -> None:
    assert lean_input_schema(Guarded.model_json_schema())["properties"] == {
        "party": {"minimum": 1, "type": "integer", "description": "Party size."},
        "name": {"description": "Name.", "type": "string"},
        "tags": {"description": "Tags.", "items": {"type": "string"}, "type": "array"},
    }
    too_small = ({"name": ""}, {"name": "x", "party": 0}, {"name": "x", "tags": []})
    too_large = ({"name": "x" * 256}, {"name": "x", "party": 10_001}, {"name": "x", "tags": ["a", "b", "c", "d"]})
    for bad in (*too_small, *too_large):
        with pytest.raises(ValidationError):
            Guarded.model_validate(bad)
