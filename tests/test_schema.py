"""Lean JSON schemas (schema.py), the means of keeping tools/list within its budget (tests/test_listing.py): a
definition used once is written in place, recursive and shared ones stay definitions, and limits marked
unadvertised are enforced without being advertised."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from piggy_mcp.schema import inline_single_use_defs, lean_input_schema, unadvertised_limits


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
