"""server.json, piggy-mcp's entry for the official MCP Registry, is valid against the registry's schema and says
what the package is: its version, and environment variables the server really reads.

tests/schemas/server.schema.2025-12-11.json is a byte-for-byte copy of the published schema
https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json, taken from the repository that
serves it, modelcontextprotocol/static (schemas/2025-12-11/server.schema.json, commit a9ba437, "Add server.json
schema version 2025-12-11"); it is generated from docs/reference/server-json/server.schema.json in
modelcontextprotocol/registry. Its SHA-256 is pinned below: moving to a newer schema is a deliberate change of
the copy, the pin and server.json's "$schema" together.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # jsonschema ships no type hints, and no stubs are installed
import pytest

import piggy_mcp
from piggy_mcp.config import Settings
from tests.helpers import REPOSITORY, ROOT, TOOLSET_NAMES

SCHEMA_PATH = ROOT / "tests" / "schemas" / "server.schema.2025-12-11.json"
SCHEMA_SHA256 = "3fba09590c99f61735d234822279f4223fab9e300c0a81e81c91ab62a4114de0"
SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"


def server_json() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "server.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    raw = SCHEMA_PATH.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SCHEMA_SHA256, "the schema copy is not the one pinned"
    schema = json.loads(raw)
    assert schema["$id"] == SCHEMA_URL
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def test_server_json_is_valid_against_the_registry_schema(validator: jsonschema.Draft7Validator) -> None:
    data = server_json()
    assert data["$schema"] == SCHEMA_URL
    errors = [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(data)]
    assert not errors, errors


@pytest.mark.parametrize(
    "spoil",
    [
        lambda data: data.update(description="x" * 101),
        lambda data: data.update(name="piggy-mcp"),  # not reverse-DNS with one slash
        lambda data: data["packages"][0].update(version="latest"),
        lambda data: data["packages"][0].pop("transport"),
    ],
    ids=["long-description", "bare-name", "latest", "no-transport"],
)
def test_the_schema_copy_rejects_what_the_registry_rejects(validator: jsonschema.Draft7Validator, spoil: Any) -> None:
    data = copy.deepcopy(server_json())
    spoil(data)
    assert not validator.is_valid(data)


def test_name_and_repository_are_the_projects() -> None:
    data = server_json()
    owner, repo = REPOSITORY.removeprefix("https://github.com/").split("/")
    assert data["name"] == f"io.github.{owner}/{repo}"
    assert data["repository"] == {"url": REPOSITORY, "source": "github"}
    # The registry checks PyPI ownership by finding this line in the package's README (its PyPI description).
    assert f"mcp-name: {data['name']}" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_versions_are_the_packages() -> None:
    data = server_json()
    (package,) = data["packages"]
    assert data["version"] == package["version"] == piggy_mcp.__version__
    assert (package["registryType"], package["identifier"], package["runtimeHint"]) == ("pypi", "piggy-mcp", "uvx")
    assert package["transport"] == {"type": "stdio"}


def test_environment_variables_are_real_settings_and_secrets_are_marked() -> None:
    (package,) = server_json()["packages"]
    variables = {variable["name"]: variable for variable in package["environmentVariables"]}
    settings = {f"PIGGY_{name.upper()}": field for name, field in Settings.model_fields.items()}
    assert set(variables) <= set(settings), set(variables) - set(settings)
    assert {"PIGGY_API_KEY", "PIGGY_BASE_URL", "PIGGY_READ_ONLY", "PIGGY_SANDBOX"} <= set(variables)
    for name, variable in variables.items():
        field = settings[name]
        assert variable.get("isSecret", False) == ("SecretStr" in str(field.annotation)), name
        if "default" in variable:
            default = field.default
            expected = str(default).lower() if isinstance(default, bool) else str(default)
            assert variable["default"] == expected, name
        if field.annotation is bool:
            assert variable["format"] == "boolean", name


def test_the_toolsets_named_are_real() -> None:
    (package,) = server_json()["packages"]
    (toolsets,) = [variable for variable in package["environmentVariables"] if variable["name"] == "PIGGY_TOOLSETS"]
    match = re.search(r"\(([^)]*)\)", toolsets["description"])
    assert match is not None
    assert match.group(1).split(", ") == [*TOOLSET_NAMES, "all"]
