"""Lean JSON schemas: what models read on every turn, without pydantic's noise.

Pydantic titles every property ("Contact Uuid" for `contact_uuid`) and spells an optional value as
`anyOf: [<schema>, {"type": "null"}]` with `default: null`. Neither tells a model anything, and together they
are about a third of a tool list. A model used once lands in `$defs` and costs its name twice plus a `$ref`:
it is written where it is used instead. Constraints, descriptions, enums and required lists stay.

Optional values are advertised in their non-null form: models leave out an argument they do not give, and tool
results leave out fields that have no value (see `piggy.models.Record`). Limits declared with
`unadvertised_limits()` are enforced but not advertised.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from pydantic import Field, JsonValue

_NULL = {"type": "null"}
_SCHEMA_MAPS = ("properties", "$defs", "patternProperties")
_DEF_PREFIX = "#/$defs/"
# Marks, beside a field's schema, the keywords the lean schema leaves out (see `unadvertised_limits`).
_UNADVERTISED = "x-unadvertised"


def unadvertised_limits(
    *, min_length: int | None = None, max_length: int | None = None, ge: float | None = None, le: float | None = None
) -> Any:
    """Field limits the server enforces but schemas leave out: guards against garbage that no genuine value comes
    near (an empty or 255-character name, 10,000 guests). Advertised, they would cost every tool list bytes and
    teach a model nothing. For strings, lists, maps and numbers; one such declaration per field, beside its
    `Field()`."""
    limits = {
        "minLength": min_length,
        "minItems": min_length,
        "minProperties": min_length,
        "maxLength": max_length,
        "maxItems": max_length,
        "maxProperties": max_length,
        "minimum": ge,
        "maximum": le,
    }
    hidden: list[JsonValue] = [keyword for keyword, limit in limits.items() if limit is not None]
    return Field(min_length=min_length, max_length=max_length, ge=ge, le=le, json_schema_extra={_UNADVERTISED: hidden})


def lean_input_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """An input schema; the server still accepts an explicit null for an optional argument.

    A tool without arguments says so explicitly (no properties, none other allowed): strict function calling
    takes an object that declares nothing for one that accepts anything, and refuses it.
    """
    lean: dict[str, Any] = _walk(inline_single_use_defs(schema), output=False)
    if lean.get("type") == "object" and not lean.get("properties"):
        lean.update(properties={}, additionalProperties=False)
    return lean


def lean_output_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """An output schema for results serialized without null fields: a nullable field is never required."""
    lean: dict[str, Any] = _walk(inline_single_use_defs(schema), output=True)
    return lean


def inline_single_use_defs(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with each `$defs` entry referenced exactly once written in place of its `$ref`.

    Definitions used more than once stay shared: repeating them would cost more. Recursion needs no guard: a
    definition on a cycle is used once inside the cycle, so it is either used from outside too (and stays), or
    never reached. `$defs` goes once nothing uses it.
    """
    defs = schema.get("$defs")
    if not isinstance(defs, dict):
        return schema
    uses = Counter(_refs(schema))
    single = {name for name in defs if uses[_DEF_PREFIX + name] == 1}
    inlined: dict[str, Any] = _inline({k: v for k, v in schema.items() if k != "$defs"}, defs, single)
    kept = {name: _inline(body, defs, single) for name, body in defs.items() if name not in single}
    if kept:
        inlined["$defs"] = kept
    return inlined


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_DEF_PREFIX):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _inline(node: Any, defs: dict[str, Any], single: set[str]) -> Any:
    if isinstance(node, list):
        return [_inline(item, defs, single) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.removeprefix(_DEF_PREFIX) in single:
        # Keywords beside the `$ref` (e.g. a field's description) refine the definition, so they win.
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        return {**_inline(defs[ref.removeprefix(_DEF_PREFIX)], defs, single), **_inline(siblings, defs, single)}
    return {key: _inline(value, defs, single) for key, value in node.items()}


def _walk(node: Any, *, output: bool) -> Any:
    if isinstance(node, list):
        return [_walk(item, output=output) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        # Titles repeat names; a null default and `additionalProperties: true` are what JSON Schema assumes anyway.
        if key == "title" or (key == "default" and value is None) or (key == "additionalProperties" and value is True):
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
    # The mark sits beside the limits it names, or beside the `anyOf` just folded into this node.
    for keyword in out.pop(_UNADVERTISED, ()):
        out.pop(keyword, None)
    return out


def _is_nullable(schema: Any) -> bool:
    return isinstance(schema, dict) and _NULL in schema.get("anyOf", ())
