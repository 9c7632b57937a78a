"""Every tool's schemas are ones strict function calling takes whole: openai-agents converts each input schema in
strict mode without falling back and without losing an argument; no schema holds a free-form map, a list of
types or an object that declares nothing; ajv compiles every schema in strict mode."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from agents.mcp import MCPServerStdio, MCPUtil
from agents.strict_schema import ensure_strict_json_schema
from mcp import Client
from mcp.types import Tool

from piggy_mcp.server import build_server
from tests.conftest import make_settings
from tests.helpers import unavailable, wire_tools

ROOT = Path(__file__).resolve().parent.parent
AJV_SCRIPT = Path(__file__).with_name("strict_compile.mjs")


@pytest.fixture
async def listing() -> list[dict[str, Any]]:
    async with Client(build_server(make_settings(toolsets=["all"]))) as client:
        return await wire_tools(client)


def schemas(listing: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for tool in listing:
        yield f"{tool['name']} input", tool["inputSchema"]
        if "outputSchema" in tool:
            yield f"{tool['name']} output", tool["outputSchema"]


def property_names(schema: Any, path: str = "") -> set[str]:
    """Every property's path in `schema`, nested ones included."""
    if not isinstance(schema, dict):
        return set()
    names: set[str] = set()
    for name, inner in (schema.get("properties") or {}).items():
        names |= {f"{path}{name}"} | property_names(inner, f"{path}{name}.")
    names |= property_names(schema.get("items"), f"{path}[].")
    for option in schema.get("anyOf", []):
        names |= property_names(option, path)
    return names


def loose_forms(schema: Any, path: str = "$") -> Iterator[str]:
    """Where `schema` has a form strict function calling cannot take whole."""
    if isinstance(schema, list):
        for index, item in enumerate(schema):
            yield from loose_forms(item, f"{path}[{index}]")
        return
    if not isinstance(schema, dict):
        return
    if isinstance(schema.get("type"), list):
        yield f"{path}: a list of types"
    if isinstance(schema.get("additionalProperties"), dict) or schema.get("additionalProperties") is True:
        yield f"{path}: a free-form map"
    if (
        schema.get("type") == "object"
        and not schema.get("properties")
        and schema.get("additionalProperties") is not False
    ):
        yield f"{path}: an object that declares no properties"
    for key, value in schema.items():
        if isinstance(value, dict | list) and key != "enum":
            yield from loose_forms(value, f"{path}.{key}")


async def test_openai_agents_converts_every_tool_in_strict_mode_keeping_every_argument(
    listing: list[dict[str, Any]],
) -> None:
    server = MCPServerStdio(params={"command": "piggy-mcp"}, name="piggy")  # only named, never started
    for tool in listing:
        converted = MCPUtil.to_function_tool(Tool.model_validate(tool), server, convert_schemas_to_strict=True)
        assert converted.strict_json_schema, f"{tool['name']} falls back to non-strict mode"
        assert property_names(converted.params_json_schema) == property_names(tool["inputSchema"]), tool["name"]


async def test_every_output_schema_converts_too(listing: list[dict[str, Any]]) -> None:
    for name, schema in schemas(listing):
        strict = ensure_strict_json_schema(copy.deepcopy(schema))
        assert property_names(strict) == property_names(schema), name


async def test_no_schema_has_a_form_strict_function_calling_refuses(listing: list[dict[str, Any]]) -> None:
    found = [f"{name} {where}" for name, schema in schemas(listing) for where in loose_forms(schema)]
    assert not found, "\n".join(found)


def test_the_loose_forms_are_found() -> None:
    # The check above can fail: each form it looks for, in the shapes tools once had.
    loose = {
        "type": "object",
        "properties": {
            "attributes": {"type": "object", "additionalProperties": {"type": ["string", "number"]}},
            "profile": {"type": "object"},
        },
    }
    assert set(loose_forms(loose)) == {
        "$.properties.attributes: a free-form map",
        "$.properties.attributes: an object that declares no properties",
        "$.properties.attributes.additionalProperties: a list of types",
        "$.properties.profile: an object that declares no properties",
    }


async def test_ajv_compiles_every_schema_in_strict_mode(listing: list[dict[str, Any]]) -> None:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "ajv-formats").is_dir():
        unavailable("node and ajv with ajv-formats (installed by .ci/run from npm) are needed")
    named = list(schemas(listing))
    probe = {"type": "object", "properties": {"a": {"type": ["string", "number"]}}}  # ajv refuses it: the check bites
    with anyio.fail_after(60):
        answer = await anyio.run_process(
            [node, str(AJV_SCRIPT)], input=json.dumps([schema for _, schema in named] + [probe]).encode(), cwd=ROOT
        )
    refused = json.loads(answer.stdout)
    assert [index for index, _ in refused] == [len(named)], [(named[i][0], why) for i, why in refused if i < len(named)]
