"""Refusing bad arguments in words a model can act on: one sentence per argument, naming it and its rule.

The SDK validates a call's arguments before the tool runs, but answers a refusal with pydantic's report, which
quotes the input back and links pydantic's documentation. When a call was refused, this middleware validates its
arguments again with the same argument model and, if they are at fault, answers in its own words instead, the
same way whether a value is missing, null or of the wrong type. Nothing was sent to Piggy either way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver.tools import Tool
from mcp.types import CallToolResult, TextContent
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from piggy_mcp.audit import json_form
from piggy_mcp.listing import LeanListing

# Error types that mean "not a value of the right kind": the rule is stated from the schema instead.
_WRONG_KIND = (
    "missing",
    "none_required",
    "_type",
    "_parsing",
    "literal_error",
    "enum",
    "model_attributes_type",
    "dict_type",
)
# Pydantic's messages open with a subject ("Input should ...", "String should ..."): the argument's name replaces it.
_SUBJECT = re.compile(r"^\w+ (?=should )")
_FORMATS = {
    "uuid": "a uuid such as 3f2a5c1e-8b7d-4c39-9a36-0d6f0b0c0a11, as Piggy returned it",
    "email": "an email address",
    "date-time": "an ISO 8601 date or date-time, e.g. 2026-12-31T23:59:00Z",
}
_TYPES = {"string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false",
          "array": "a list", "object": "an object"}  # fmt: skip


class ArgumentCheck:
    """Middleware: a `tools/call` whose arguments do not validate gets a plain-words error, not pydantic's."""

    def __init__(self, tools: Iterable[Tool], listing: LeanListing) -> None:
        self._tools = {tool.name: tool for tool in tools}
        # The rules are stated from the schemas the model was shown.
        self._properties = {name: listing.input_schema(name).get("properties", {}) for name in self._tools}

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        params = ctx.params or {}
        tool = self._tools.get(str(params.get("name"))) if ctx.method == "tools/call" else None
        arguments = params.get("arguments") or {}
        # Only a refused call is looked at again: a call that ran needs no second validation.
        if tool is None or not isinstance(arguments, Mapping) or not json_form(result).get("isError"):
            return result
        try:
            tool.fn_metadata.arg_model.model_validate(tool.fn_metadata.pre_parse_json(dict(arguments)))
        except ValidationError as exc:
            text = f"Invalid arguments; nothing was sent to Piggy. {self._sentences(tool.name, exc)}"
            return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
        return result

    def _sentences(self, tool: str, exc: ValidationError) -> str:
        """One sentence per argument at fault (a value that fits no member of a union fails once per member)."""
        by_place: dict[tuple[str, ...], list[ErrorDetails]] = {}
        for error in exc.errors(include_url=False, include_input=False):
            by_place.setdefault(_place(self._properties[tool], error["loc"]), []).append(error)
        return " ".join(self._sentence(tool, place, errors) for place, errors in by_place.items())

    def _sentence(self, tool: str, place: tuple[str, ...], errors: list[ErrorDetails]) -> str:
        name = ".".join(place) or "the arguments"
        kinds = [error["type"] for error in errors]
        if "value_error" in kinds:  # our own checks: their message is the rule
            message = str(next(error["msg"] for error in errors if error["type"] == "value_error"))
            return f"{name} {message.removeprefix('Value error, ')}."
        # A value of the right kind that breaks a limit says which; any other is told what the argument takes.
        broken = [error for error in errors if not _wrong_kind(error["type"])]
        if broken:
            return f"{name} {_SUBJECT.sub('', str(broken[0]['msg'])).rstrip('.')}."
        required = "is required and " if "missing" in kinds else ""
        return f"{name} {required}must be {_rule(_schema_at(self._properties[tool], place))}."


def _wrong_kind(error_type: str) -> bool:
    return any(error_type == kind or error_type.endswith(kind) for kind in _WRONG_KIND)


def _place(properties: Mapping[str, Any], location: tuple[int | str, ...]) -> tuple[str, ...]:
    """The path to the argument at fault, as the schema names it: pydantic's locations also name the members of a
    union and a map's keys, which mean nothing to a model."""
    place: list[str] = []
    schema: Mapping[str, Any] = {"type": "object", "properties": properties}
    for part in map(str, location):
        inner = _inner(schema, part)
        if inner is None:
            break
        place.append(part)
        schema = inner
    return tuple(place)


def _schema_at(properties: Mapping[str, Any], place: tuple[str, ...]) -> Mapping[str, Any]:
    schema: Mapping[str, Any] = {"type": "object", "properties": properties}
    for part in place:
        schema = _inner(schema, part) or {}
    return schema


def _inner(schema: Mapping[str, Any], part: str) -> Mapping[str, Any] | None:
    """The schema of `part` (a property, a list index or a map key) inside `schema`, if it has one."""
    if part.isdigit() and isinstance(schema.get("items"), Mapping):
        inner: Mapping[str, Any] = schema["items"]
        return inner
    if isinstance(schema.get("properties"), Mapping) and part in schema["properties"]:
        inner = schema["properties"][part]
        return inner
    if isinstance(schema.get("additionalProperties"), Mapping):
        inner = schema["additionalProperties"]
        return inner
    return None


def _rule(schema: Mapping[str, Any]) -> str:
    """What a value of `schema` is, in words."""
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    kind = schema.get("type")
    alternatives = schema.get("anyOf") or ([{"type": k} for k in kind] if isinstance(kind, list) else None)
    if isinstance(alternatives, list) and alternatives:
        rules = [_rule(option) for option in alternatives]
        return ", ".join(rules[:-1]) + f" or {rules[-1]}" if len(rules) > 1 else rules[0]
    if kind == "string" and schema.get("format") in _FORMATS:
        return _FORMATS[schema["format"]]
    words = _TYPES.get(kind, "a value as described") if isinstance(kind, str) else "a value as described"
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f"{words} from {low} to {high}"
    if low is not None:
        return f"{words} of at least {low}"
    if high is not None:
        return f"{words} of at most {high}"
    if "pattern" in schema:
        return f"{words} matching {schema['pattern']}"
    return words
