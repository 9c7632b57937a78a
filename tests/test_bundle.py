"""The MCP Bundle: manifest.json is what `piggy-mcp bundle` makes, and agrees with the package; the .mcpb packed
from the installed wheel, outside the checkout, holds the package and an entry point that serves when started
the way its manifest says (`uv run`, with the user's settings in place of `${user_config.*}`); the official MCPB
CLI (`@anthropic-ai/mcpb`, pinned in .ci/run, installed into node_modules/) accepts and packs it. Without that CLI
those tests skip saying why; where CI is set they fail.
"""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from mcp import StdioServerParameters

import piggy_mcp
from piggy_mcp import bundle
from piggy_mcp.config import Settings
from piggy_mcp.server import settings_tools
from tests.helpers import (
    EXPECTED_TOOLS,
    READ_TOOLS,
    REPOSITORY,
    ROOT,
    STORE_BALANCE,
    FreshInstall,
    client_env,
    fresh_install,
    run_over_stdio,
    unavailable,
    uv_binary,
    uv_env,
)

MANIFEST = ROOT / "manifest.json"
MCPB = ROOT / "node_modules" / ".bin" / "mcpb"
USER_CONFIG = re.compile(r"\$\{user_config\.(\w+)\}")


def committed() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return data


# manifest.json --------------------------------------------------------------------------------------------


def test_manifest_json_is_what_piggy_mcp_bundle_makes() -> None:
    assert committed() == bundle.manifest(), "regenerate it: .venv/bin/piggy-mcp bundle --manifest > manifest.json"


def test_the_manifest_lists_the_default_served_tools_and_the_package_version() -> None:
    data = committed()
    assert [tool["name"] for tool in data["tools"]] == [spec.name for spec in settings_tools(Settings(_env_file=None))]  # type: ignore[call-arg]
    assert data["version"] == piggy_mcp.__version__
    assert all(tool["description"] for tool in data["tools"])


def test_user_config_is_the_key_as_a_secret_the_host_read_only_and_the_sandbox() -> None:
    data = committed()
    options = data["user_config"]
    assert options["api_key"]["type"] == "string" and options["api_key"]["sensitive"] is True
    assert options["base_url"]["default"] == Settings.model_fields["base_url"].default
    assert options["read_only"]["type"] == options["sandbox"]["type"] == "boolean"
    # The host substitutes only values it has: an option without a default would reach the server as "${...}".
    assert all("default" in option for option in options.values())
    env = data["server"]["mcp_config"]["env"]
    assert {USER_CONFIG.fullmatch(value).group(1) for value in env.values()} == set(options)  # type: ignore[union-attr]
    assert set(env) <= {f"PIGGY_{name.upper()}" for name in Settings.model_fields}
    assert env["PIGGY_API_KEY"] == "${user_config.api_key}"


def test_server_runs_the_entry_point_through_uv_and_links_stay_in_the_repository() -> None:
    data = committed()
    server = data["server"]
    assert (data["manifest_version"], server["type"], server["entry_point"]) == ("0.4", "uv", "server/main.py")
    assert server["mcp_config"]["command"] == "uv"
    assert server["mcp_config"]["args"] == ["run", "--directory", "${__dirname}", server["entry_point"]]
    assert data["privacy_policies"] == [f"{REPOSITORY}/blob/main/PRIVACY.md"]
    assert (ROOT / "PRIVACY.md").is_file()
    assert data["repository"]["url"] == data["homepage"] == REPOSITORY == bundle.REPOSITORY


# The .mcpb, packed from the installed wheel ------------------------------------------------------------------


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> FreshInstall:
    return fresh_install(tmp_path_factory)


@pytest.fixture(scope="module")
def packed(installed: FreshInstall) -> Path:
    done = installed.run("piggy-mcp", "bundle", "--output", "piggy.mcpb")
    assert done.returncode == 0, done.stderr
    return installed.workdir / "piggy.mcpb"


@pytest.fixture(scope="module")
def unpacked(packed: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(packed) as archive:
        archive.extractall(target)
    return target


def test_the_archive_holds_the_manifest_entry_point_and_package(installed: FreshInstall, unpacked: Path) -> None:
    manifest = json.loads((unpacked / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == committed()
    assert (unpacked / manifest["server"]["entry_point"]).is_file()
    with zipfile.ZipFile(installed.wheel) as wheel:
        in_wheel = {name for name in wheel.namelist() if name.startswith("piggy_mcp/")}
    in_bundle = {p.relative_to(unpacked / "server").as_posix() for p in (unpacked / "server" / "piggy_mcp").rglob("*")}
    assert {name for name in in_bundle if name.endswith(".py")} == in_wheel
    assert not (unpacked / "server" / "lib").exists() and not (unpacked / "server" / "venv").exists()  # uv type


def test_the_archive_names_the_wheels_dependencies(installed: FreshInstall, unpacked: Path) -> None:
    import tomllib

    project = tomllib.loads((unpacked / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    with zipfile.ZipFile(installed.wheel) as wheel:
        metadata = wheel.read(f"piggy_mcp-{piggy_mcp.__version__}.dist-info/METADATA").decode()
    required = [
        line.removeprefix("Requires-Dist: ") for line in metadata.splitlines() if line.startswith("Requires-Dist: ")
    ]
    assert sorted(project["dependencies"]) == sorted(r for r in required if "extra ==" not in r)
    assert project["version"] == piggy_mcp.__version__
    assert project["requires-python"] == ">=3.11"


def substituted(value: str, unpacked: Path, choices: dict[str, Any]) -> str:
    """What the host puts in place of `${__dirname}` and `${user_config.*}` (booleans as "true"/"false")."""
    value = value.replace("${__dirname}", str(unpacked))

    def option(match: re.Match[str]) -> str:
        chosen = choices[match.group(1)]
        return str(chosen).lower() if isinstance(chosen, bool) else str(chosen)

    return USER_CONFIG.sub(option, value)


@pytest.mark.parametrize(
    ("changed", "tools"),
    [
        ({"sandbox": True}, EXPECTED_TOOLS),
        ({"api_key": "fake-key-listing-only", "read_only": True}, set(READ_TOOLS) & EXPECTED_TOOLS),
    ],
    ids=["sandbox", "read-only"],
)
async def test_the_entry_point_serves_as_the_manifest_starts_it(
    unpacked: Path, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, changed: dict[str, Any], tools: set[str]
) -> None:
    manifest = json.loads((unpacked / "manifest.json").read_text(encoding="utf-8"))
    choices = {name: option["default"] for name, option in manifest["user_config"].items()} | changed
    config = manifest["server"]["mcp_config"]
    assert config["command"] == "uv"
    env = {name: substituted(value, unpacked, choices) for name, value in config["env"].items()}
    params = StdioServerParameters(
        command=str(uv_binary("uv")),
        args=[substituted(arg, unpacked, choices) for arg in config["args"]],
        env=client_env(**env, **uv_env(tmp_path_factory.getbasetemp() / "uv-cache"), PIGGY_MCP_STATE_DIR=str(tmp_path)),
        cwd=str(tmp_path),
    )
    run = await run_over_stdio(params, tmp_path / "stderr.log", sandbox=choices["sandbox"])
    assert run.server_version == piggy_mcp.__version__
    assert set(run.tools) == tools
    if choices["sandbox"]:
        assert run.sandbox_balance == STORE_BALANCE


# The official MCPB CLI -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mcpb() -> Path:
    pinned = re.search(r"@anthropic-ai/mcpb@([\d.]+)", (ROOT / ".ci" / "run").read_text(encoding="utf-8"))
    assert pinned is not None, ".ci/run must install a pinned @anthropic-ai/mcpb"
    install = f"npm install --prefix . --no-save --no-audit --no-fund @anthropic-ai/mcpb@{pinned.group(1)}"
    if not MCPB.exists():
        unavailable(f"the MCPB CLI is not installed in {ROOT} (run `{install}` there)")
    version = subprocess.run([str(MCPB), "--version"], capture_output=True, text=True, timeout=60, check=False)
    if version.stdout.strip() != pinned.group(1):
        unavailable(f"node_modules has mcpb {version.stdout.strip()!r}, not {pinned.group(1)} (run `{install}`)")
    return MCPB


def test_mcpb_validates_the_manifest(mcpb: Path) -> None:
    done = subprocess.run(
        [str(mcpb), "validate", str(MANIFEST)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "validation passes" in done.stdout


def test_mcpb_packs_the_staged_files_into_the_same_archive(installed: FreshInstall, packed: Path, mcpb: Path) -> None:
    staged = installed.workdir / "staged"
    done = installed.run("piggy-mcp", "bundle", "--stage", str(staged))
    assert done.returncode == 0, done.stderr
    output = installed.workdir / "official.mcpb"
    packing = subprocess.run(
        [str(mcpb), "pack", str(staged), str(output)], capture_output=True, text=True, timeout=120, check=False
    )
    assert packing.returncode == 0, packing.stdout + packing.stderr
    with zipfile.ZipFile(output) as official, zipfile.ZipFile(packed) as ours:
        assert sorted(official.namelist()) == sorted(ours.namelist())
        assert json.loads(official.read("manifest.json")) == json.loads(ours.read("manifest.json"))
