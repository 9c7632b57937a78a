"""piggy-mcp --sandbox through a client nobody here wrote: the MCP Inspector's command-line mode.

The Inspector (a pinned version, installed by .ci/run from npm into node_modules/) starts the server over stdio
or connects to it over streamable HTTP, runs one method and prints one JSON object. Its exit code is 0 on success
and 5 when the tool answered isError. On a machine without npx or without the package these tests are skipped
with a message saying so; where the environment variable CI is set they fail instead: CI must run them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from piggy_mcp.sandbox import SEED
from piggy_mcp.sandbox.serving import SANDBOX_NOTICE
from tests.helpers import EXPECTED_TOOLS, STORE_BALANCE
from tests.servers import http_server

INSPECTOR = "@modelcontextprotocol/inspector@2.12.0"
INSPECTOR_VERSION = INSPECTOR.rsplit("@", 1)[1]
INSTALL = f"npm install --no-save --no-audit --no-fund {INSPECTOR}"
ROOT = Path(__file__).resolve().parents[1]  # where node_modules/ is
TIMEOUT = 60  # seconds, for every Inspector run
TOOL_IS_ERROR = 5  # the Inspector's exit code when the tool returned isError
SANNE = SEED.contacts.sanne_store
UNKNOWN_CONTACT = "0b7c1f3e-6a2d-4e59-8c41-9d2e3f4a5b6c"


def _unavailable() -> str | None:
    """Why the pinned Inspector cannot run here, or None if it can."""
    if shutil.which("npx") is None:
        return "npx is not on PATH (install Node.js 20 or newer)"
    try:
        probe = subprocess.run(
            ["npx", "--no-install", INSPECTOR, "--version"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"`npx --no-install {INSPECTOR} --version` did not finish within {TIMEOUT} s"
    if probe.returncode != 0 or probe.stdout.strip() != INSPECTOR_VERSION:
        return f"{INSPECTOR} is not installed in {ROOT} (run `{INSTALL}` there)"
    return None


def _run_to_the_end(command: list[str], env: dict[str, str]) -> tuple[str, str, int]:
    """Run `command` in its own process group; afterwards nothing it started (npx, node, a server) is left."""
    with subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the Inspector did not finish within {TIMEOUT} s: {command}") from None
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return stdout, stderr, process.returncode


@dataclass(frozen=True)
class Target:
    """What the Inspector connects to: a server command or URL, and the options that go with it."""

    argv: list[str]
    options: list[str]


@dataclass(frozen=True)
class Run:
    code: int
    out: Any  # the JSON object printed on stdout
    stderr: str

    @property
    def result(self) -> dict[str, Any]:
        result: dict[str, Any] = self.out["result"]
        return result


@dataclass(frozen=True)
class Inspector:
    env: dict[str, str]

    def run(self, target: Target, method: str, *options: str) -> Run:
        command = ["npx", "--no-install", INSPECTOR, "--cli", "--method", method, *options, *target.options]
        stdout, stderr, code = _run_to_the_end([*command, "--format", "json", "--", *target.argv], self.env)
        try:
            out = json.loads(stdout)
        except ValueError:
            raise AssertionError(f"no JSON on stdout (exit {code}):\n{stdout}\n{stderr}") from None
        return Run(code, out, stderr)

    def list_tools(self, target: Target) -> Run:
        return self.run(target, "tools/list")

    def balance(self, target: Target, contact_uuid: str, *options: str) -> Run:
        args = ["--tool-name", "get_contact_credit_balance", "--tool-arg", f"contact_uuid={contact_uuid}"]
        return self.run(target, "tools/call", *args, *options)


@pytest.fixture(scope="module")
def inspector(tmp_path_factory: pytest.TempPathFactory) -> Inspector:
    reason = _unavailable()
    if reason is not None:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"CI must run the MCP Inspector tests, but {reason}")
        pytest.skip(f"MCP Inspector tests skipped: {reason}")
    home = tmp_path_factory.mktemp("inspector")
    # The developer's own Inspector catalog and client settings stay out of it, and untouched.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIGGY_")}
    env |= {"MCP_CATALOG_PATH": str(home / "mcp.json"), "MCP_CLIENT_CONFIG_PATH": str(home / "client.json")}
    return Inspector(env)


@pytest.fixture(scope="module")
def stdio(tmp_path_factory: pytest.TempPathFactory) -> Target:
    """The server command the Inspector starts, in an empty directory (no .env file)."""
    workdir = tmp_path_factory.mktemp("stdio")
    return Target([sys.executable, "-m", "piggy_mcp", "--sandbox"], ["--cwd", str(workdir)])


@pytest.fixture(scope="module")
def http(inspector: Inspector, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """piggy-mcp --sandbox over streamable HTTP on a free loopback port."""
    with http_server({"PATH": os.environ["PATH"]}, tmp_path_factory.mktemp("http"), "--sandbox") as server:
        yield Target([server.mcp_url], ["--transport", "http"])


def assert_lists_every_tool(run: Run) -> None:
    assert run.code == 0, run.stderr
    tools = run.result["tools"]
    assert {tool["name"] for tool in tools} == EXPECTED_TOOLS
    assert all(tool["inputSchema"]["type"] == "object" for tool in tools)


def assert_balance(run: Run) -> None:
    assert run.code == 0, run.stderr
    assert run.result["isError"] is False
    assert run.result["structuredContent"] == {"contact_uuid": SANNE, "balance": STORE_BALANCE}
    texts = [block["text"] for block in run.result["content"] if block["type"] == "text"]
    assert json.loads(texts[0]) == run.result["structuredContent"]
    assert SANDBOX_NOTICE in texts  # the model is told the data is simulated
    links = [block["uri"] for block in run.result["content"] if block["type"] == "resource_link"]
    assert links == [f"piggy://contacts/{SANNE}"]  # the member's card, to read again or subscribe to


def assert_tool_error(run: Run, *fragments: str) -> None:
    assert run.code == TOOL_IS_ERROR, (run.code, run.out, run.stderr)
    assert run.result["isError"] is True
    text = " ".join(block["text"] for block in run.result["content"])
    for fragment in fragments:
        assert fragment in text, text
    assert '"tool_is_error"' in run.stderr


# stdio ------------------------------------------------------------------------------------------------------


def test_stdio_tools_list(inspector: Inspector, stdio: Target) -> None:
    assert_lists_every_tool(inspector.list_tools(stdio))


def test_stdio_tools_call(inspector: Inspector, stdio: Target) -> None:
    assert_balance(inspector.balance(stdio, SANNE))


def test_stdio_tools_call_with_a_bad_argument_exits_5(inspector: Inspector, stdio: Target) -> None:
    assert_tool_error(inspector.balance(stdio, "not-a-uuid"), "must be a uuid")


def test_stdio_tools_call_for_an_unknown_contact_exits_5(inspector: Inspector, stdio: Target) -> None:
    assert_tool_error(inspector.balance(stdio, UNKNOWN_CONTACT), "55031", "Check the contact uuid")


# Streamable HTTP --------------------------------------------------------------------------------------------


def test_http_tools_list(inspector: Inspector, http: Target) -> None:
    assert_lists_every_tool(inspector.list_tools(http))


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_http_tools_call(inspector: Inspector, http: Target, era: str) -> None:
    assert_balance(inspector.balance(http, SANNE, "--protocol-era", era))


def test_http_tools_call_for_an_unknown_contact_exits_5(inspector: Inspector, http: Target) -> None:
    assert_tool_error(inspector.balance(http, UNKNOWN_CONTACT), "55031")
