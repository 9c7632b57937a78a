"""Lean JSON schemas: what models read on every turn, without pydantic's noise.

Pydantic titles every property ("Contact Uuid" for `contact_uuid`) and spells an optional argument as
`anyOf: [<schema>, {"type": "null"}]` with `default: null`. Neither tells a model anything, and together they
are about a third of a tool list. Constraints, descriptions, enums and required lists stay untouched.
"""

from __future__ import annotations

from typing import Any

_NULL = {"type": "null"}
_SCHEMA_MAPS = ("properties", "$defs", "patternProperties")


def lean_input_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """An input schema where an optional argument is advertised as its non-null form.

    The server still accepts an explicit null; omitting the argument is how models express "not given".
    """
    lean: dict[str, Any] = _walk(schema, nullable_to=_non_null)
    return lean


def lean_output_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """An output schema that still admits every null the server may return, written compactly."""
    lean: dict[str, Any] = _walk(schema, nullable_to=_type_list)
    return lean


def _walk(node: Any, *, nullable_to: Any) -> Any:
    if isinstance(node, list):
        return [_walk(item, nullable_to=nullable_to) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" or (key == "default" and value is None):
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _walk(sub, nullable_to=nullable_to) for name, sub in value.items()}
        else:
            out[key] = _walk(value, nullable_to=nullable_to)
    options = out.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and _NULL in options:
        (other,) = [o for o in options if o != _NULL]
        replacement = nullable_to(other)
        if replacement is not None:
            del out["anyOf"]
            out = {**replacement, **out}
    return out


def _non_null(schema: dict[str, Any]) -> dict[str, Any]:
    return schema


def _type_list(schema: dict[str, Any]) -> dict[str, Any] | None:
    # {"type": "string", ...} | null  ->  {"type": ["string", "null"], ...}; a $ref keeps its anyOf.
    kind = schema.get("type")
    if not isinstance(kind, str) or "const" in schema:
        return None
    widened = {**schema, "type": [kind, "null"]}
    if "enum" in schema:
        widened["enum"] = [*schema["enum"], None]
    return widened
