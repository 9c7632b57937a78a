"""Every client configuration in examples/ is what its client reads, and the command line it names serves.

Each file is parsed (JSON, or TOML with tomllib) and its server entry checked for the client's own form; then the
command line it names is started exactly as the client would start it, and the official MCP client lists its
tools over stdio; the sandbox variants also ask the simulated account for a balance. Three substitutions, and
only these, stand in for what cannot happen here:

- the package source `git+https://github.com/piggy-mcp/piggy-mcp` in `uvx --from ...` becomes the wheel built
  from this checkout (tests/helpers.py `fresh_install`): the repository is a placeholder, and tests reach no
  network but package registries. `uvx` itself is the one the test extra installs; it fetches the wheel's
  dependencies from PyPI into a cache of the session's;
- what the client would put in place of `${PIGGY_API_KEY}`, `${env:...}`, `${input:...}` or `env_vars` is a fake
  key (listing tools never reaches Piggy);
- the hosted example's address becomes a local HTTP server's, and its token one that server accepts.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

import piggy_mcp
from piggy_mcp.sandbox import SEED
from tests.helpers import (
    EXPECTED_TOOLS,
    REPOSITORY,
    ROOT,
    STORE_BALANCE,
    FreshInstall,
    StdioRun,
    client_env,
    fresh_install,
    post_mcp,
    run_over_stdio,
    structured,
    uv_binary,
    uv_env,
)
from tests.servers import SESSION_DEADLINE, HttpServer, http_server

EXAMPLES = ROOT / "examples"
SOURCE = f"git+{REPOSITORY}"
# Each client's file name, in examples/<client>/<variant>/.
CLIENTS = {
    "claude-desktop": "claude_desktop_config.json",
    "claude-code": ".mcp.json",
    "cursor": "mcp.json",
    "vscode": "mcp.json",
    "windsurf": "mcp_config.json",
    "codex": "config.toml",
}
VARIANTS = ["sandbox", "account"]
SERVER_NAME = {"sandbox": "piggy-sandbox", "account": "piggy"}
CASES = [(client, variant) for client in CLIENTS for variant in VARIANTS]
HOSTED = EXAMPLES / "hosted" / "mcp.json"
CLAUDE_CODE_README = EXAMPLES / "claude-code" / "README.md"
FAKE_KEY = "fake-key-for-listing-only"
TOKEN = "fake-bearer-token-for-the-tests"
# How each client refers to the key without holding it (the account variants).
KEY_REFERENCES = {
    "claude-code": "${PIGGY_API_KEY}",
    "cursor": "${env:PIGGY_API_KEY}",
    "windsurf": "${env:PIGGY_API_KEY}",
    "vscode": "${input:piggy-api-key}",
}
PLACEHOLDER = "paste-your-personal-access-token-here"  # Claude Desktop expands nothing


@dataclass(frozen=True)
class Launch:
    """A stdio server entry: what the client runs, and the environment it adds."""

    command: str
    args: list[str]
    env: dict[str, str]


def path_of(client: str, variant: str) -> Path:
    return EXAMPLES / client / variant / CLIENTS[client]


def load(path: Path) -> dict[str, Any]:
    if path.suffix == ".toml":
        return tomllib.loads(path.read_text(encoding="utf-8"))
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def servers_of(client: str, data: dict[str, Any]) -> dict[str, Any]:
    key = {"vscode": "servers", "codex": "mcp_servers"}.get(client, "mcpServers")
    servers: dict[str, Any] = data[key]
    return servers


def entry_of(client: str, variant: str) -> dict[str, Any]:
    servers = servers_of(client, load(path_of(client, variant)))
    assert list(servers) == [SERVER_NAME[variant]]
    entry: dict[str, Any] = servers[SERVER_NAME[variant]]
    return entry


def launch_of(entry: dict[str, Any]) -> Launch:
    return Launch(entry["command"], list(entry.get("args", [])), dict(entry.get("env", {})))


def expected_args(variant: str) -> list[str]:
    return ["--from", SOURCE, "piggy-mcp", *(["--sandbox"] if variant == "sandbox" else [])]


# The files -------------------------------------------------------------------------------------------------


def test_every_example_file_is_one_these_tests_check() -> None:
    files = {path for path in EXAMPLES.rglob("*") if path.is_file() and path.name != "README.md"}
    assert files == {path_of(client, variant) for client, variant in CASES} | {HOSTED}


@pytest.mark.parametrize(("client", "variant"), CASES)
def test_the_entry_has_the_clients_form(client: str, variant: str) -> None:
    entry = entry_of(client, variant)
    launch = launch_of(entry)
    assert launch.command == "uvx"
    assert launch.args == expected_args(variant)
    if client in ("vscode", "claude-code"):
        assert entry["type"] == "stdio"  # VS Code requires it; Claude Code writes it
    allowed = {"type", "command", "args", "env", "env_vars"}
    assert set(entry) <= allowed, set(entry) - allowed
    if variant == "sandbox":
        assert launch.env == {} and "env_vars" not in entry, "the sandbox needs no key"
    elif client == "codex":
        assert entry["env_vars"] == ["PIGGY_API_KEY"] and launch.env == {}
    else:
        assert launch.env == {"PIGGY_API_KEY": KEY_REFERENCES.get(client, PLACEHOLDER)}


def test_vscode_asks_for_the_key_once_masked() -> None:
    data = load(path_of("vscode", "account"))
    assert data["inputs"] == [
        {
            "type": "promptString",
            "id": "piggy-api-key",
            "description": "Piggy Personal Access Token",
            "password": True,
        }
    ]
    assert "inputs" not in load(path_of("vscode", "sandbox"))


# The command lines, started ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> FreshInstall:
    return fresh_install(tmp_path_factory)


@pytest.fixture(scope="module")
def uv_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("uv-cache")


def started(launch: Launch, installed: FreshInstall, uv_cache: Path, state: Path) -> StdioServerParameters:
    """`launch` as the client starts it, with the substitutions the module docstring lists."""
    assert launch.command == "uvx" and launch.args.count(SOURCE) == 1, launch
    args = [str(installed.wheel) if arg == SOURCE else arg for arg in launch.args]
    env = {
        name: FAKE_KEY if "PIGGY_API_KEY" in value or value == PLACEHOLDER else value
        for name, value in launch.env.items()
    }
    return StdioServerParameters(
        command=str(uv_binary("uvx")),
        args=args,
        env=client_env(**env, **uv_env(uv_cache), PIGGY_MCP_STATE_DIR=str(state)),
        cwd=str(installed.workdir),
    )


@pytest.fixture(scope="module")
def runs(
    installed: FreshInstall, uv_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str], StdioRun | AssertionError]:
    """Every example's command line, started all at once (each takes seconds, mostly waiting): what each served."""
    outcomes: dict[tuple[str, str], StdioRun | AssertionError] = {}

    async def run(client: str, variant: str) -> None:
        workdir = tmp_path_factory.mktemp(f"{client}-{variant}")
        launch = launch_of(entry_of(client, variant))
        if client == "codex" and variant == "account":
            launch = Launch(launch.command, launch.args, {"PIGGY_API_KEY": FAKE_KEY})  # what env_vars forwards
        params = started(launch, installed, uv_cache, workdir / "state")
        try:
            outcomes[client, variant] = await run_over_stdio(
                params, workdir / "stderr.log", sandbox=variant == "sandbox"
            )
        except AssertionError as failure:
            outcomes[client, variant] = failure

    async def run_all() -> None:
        async with anyio.create_task_group() as tasks:
            for case in CASES:
                tasks.start_soon(run, *case)

    anyio.run(run_all)
    return outcomes


@pytest.mark.parametrize(("client", "variant"), CASES)
def test_the_command_line_serves_every_tool(
    client: str, variant: str, runs: dict[tuple[str, str], StdioRun | AssertionError]
) -> None:
    run = runs[client, variant]
    if isinstance(run, AssertionError):
        raise run
    assert run.server_version == piggy_mcp.__version__
    assert set(run.tools) == EXPECTED_TOOLS
    if variant == "sandbox":
        assert run.sandbox_balance == STORE_BALANCE, SEED.contacts.sanne_store


# Claude Code's command line -------------------------------------------------------------------------------------


def claude_mcp_add_lines() -> list[list[str]]:
    text = CLAUDE_CODE_README.read_text(encoding="utf-8")
    # The shell would expand these; what they stand for is checked against the .mcp.json files.
    text = text.replace('"$PIGGY_API_KEY"', "${PIGGY_API_KEY}").replace("$PIGGY_MCP_TOKEN", "${PIGGY_MCP_TOKEN}")
    return [shlex.split(line) for line in text.splitlines() if line.startswith("claude mcp add ")]


def parse_claude_mcp_add(argv: list[str]) -> tuple[str, dict[str, Any]]:
    """The server name and the .mcp.json entry `claude mcp add <argv>` writes."""
    words = argv[3:]
    entry: dict[str, Any] = {}
    env: dict[str, str] = {}
    headers: dict[str, str] = {}
    while words[0].startswith("-"):
        option, value, *words = words
        if option == "--transport":
            entry["type"] = value
        elif option in ("--env", "-e"):
            name, _, env[name] = value.partition("=")
        elif option == "--header":
            name, _, headers[name] = value.partition(": ")
        else:
            raise AssertionError(f"unexpected option {option}")
    name, *rest = words
    if entry["type"] == "stdio":
        assert rest[0] == "--", argv
        entry |= {"command": rest[1], "args": rest[2:]} | ({"env": env} if env else {})
    else:
        (entry["url"],) = rest
        entry["headers"] = headers
    return name, entry


def test_claude_mcp_add_writes_the_files_shipped() -> None:
    added = [parse_claude_mcp_add(argv) for argv in claude_mcp_add_lines()]
    assert added == [
        ("piggy-sandbox", entry_of("claude-code", "sandbox")),
        ("piggy", entry_of("claude-code", "account")),
        ("piggy-hosted", servers_of("claude-code", load(HOSTED))["piggy"]),
    ]


# The README ---------------------------------------------------------------------------------------------------


def readme_blocks(language: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


@pytest.mark.parametrize("client", CLIENTS)
def test_the_readme_shows_each_clients_sandbox_config(client: str) -> None:
    shipped = load(path_of(client, "sandbox"))
    if client == "codex":
        assert shipped in [tomllib.loads(block) for block in readme_blocks("toml")]
    else:
        assert shipped in [json.loads(block) for block in readme_blocks("json")]


def test_the_readme_shows_the_hosted_config_and_the_claude_code_line() -> None:
    assert load(HOSTED) in [json.loads(block) for block in readme_blocks("json")]
    sandbox_line = next(
        line for line in CLAUDE_CODE_README.read_text(encoding="utf-8").splitlines() if "--sandbox" in line
    )
    assert any(sandbox_line in block.splitlines() for block in readme_blocks("sh"))


# The hosted server -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hosted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    workdir = tmp_path_factory.mktemp("hosted")
    env = client_env(PIGGY_MCP_AUTH_TOKENS=TOKEN, PIGGY_MCP_STATE_DIR=str(workdir / "state"))
    with http_server(env, workdir, "--sandbox") as server:
        yield server


def test_the_hosted_example_is_streamable_http_with_a_bearer_token() -> None:
    entry = servers_of("claude-code", load(HOSTED))["piggy"]
    assert entry["type"] == "http"
    assert urlsplit(entry["url"]).scheme == "https" and urlsplit(entry["url"]).path == "/mcp"
    assert entry["headers"] == {"Authorization": "Bearer ${PIGGY_MCP_TOKEN}"}


async def test_the_hosted_example_connects_with_its_url_and_header(hosted: HttpServer) -> None:
    entry = servers_of("claude-code", load(HOSTED))["piggy"]
    # The example's path on the local server's address; the header with the token the client would expand.
    url = hosted.base + urlsplit(entry["url"]).path
    headers = {name: value.replace("${PIGGY_MCP_TOKEN}", TOKEN) for name, value in entry["headers"].items()}
    with anyio.fail_after(SESSION_DEADLINE):
        async with (
            httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0, read=60.0), trust_env=False) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            listing = await client.list_tools(cache_mode="bypass")
            result = await client.call_tool("get_contact_credit_balance", {"contact_uuid": SEED.contacts.sanne_store})
    assert {tool.name for tool in listing.tools} == EXPECTED_TOOLS
    assert structured(result)["balance"] == STORE_BALANCE
    # The header is what lets it in.
    assert post_mcp(hosted, "legacy").status_code == 401
