"""Lean JSON schemas: what models read on every turn, without pydantic's noise.

Pydantic titles every property ("Contact Uuid" for `contact_uuid`) and spells an optional value as
`anyOf: [<schema>, {"type": "null"}]` with `default: null`. Neither tells a model anything, and together they
are about a third of a tool list. Constraints, descriptions, enums and required lists stay.

Optional values are advertised in their non-null form: models leave out an argument they do not give, and tool
results leave out fields that have no value (see `tools.base.Result`).
"""

from __future__ import annotations

from typing import Any

_NULL = {"type": "null"}
_SCHEMA_MAPS = ("properties", "$defs", "patternProperties")


def lean_input_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """An input schema; the server still accepts an explicit null for an optional argument."""
    lean: dict[str, Any] = _walk(schema, output=False)
    return lean


def lean_output_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """An output schema for results serialized without null fields: a nullable field is never required."""
    lean: dict[str, Any] = _walk(schema, output=True)
    return lean


def _walk(node: Any, *, output: bool) -> Any:
    if isinstance(node, list):
        return [_walk(item, output=output) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" or (key == "default" and value is None):
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _walk(sub, output=output) for name, sub in value.items()}
        else:
            out[key] = _walk(value, output=output)
    if output and isinstance(node.get("properties"), dict) and "required" in out:
        nullable = {name for name, sub in node["properties"].items() if _is_nullable(sub)}
        out["required"] = [name for name in out["required"] if name not in nullable]
        if not out["required"]:
            del out["required"]
    options = out.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and _NULL in options:
        (other,) = [option for option in options if option != _NULL]
        del out["anyOf"]
        out = {**other, **out}
    return out


def _is_nullable(schema: Any) -> bool:
    return isinstance(schema, dict) and _NULL in schema.get("anyOf", ())
