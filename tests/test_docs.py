"""The README's commands and examples are the ones that work: CI runs the same test command, the desktop
config example is the file we ship, and every tool and setting the README names exists."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from mcp import Client

from piggy_mcp.config import Settings
from piggy_mcp.selection import select_tools
from piggy_mcp.server import build_server
from piggy_mcp.tools import TOOLSETS
from tests.conftest import make_settings
from tests.helpers import compact_size, wire_tools

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    test_command = next(block.strip() for block in code_blocks("sh") if "pytest" in block)
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci_lines[-1] == test_command


def test_the_desktop_config_in_the_readme_is_mcp_json_example() -> None:
    shipped = json.loads((ROOT / "mcp.json.example").read_text(encoding="utf-8"))
    assert shipped in [json.loads(block) for block in code_blocks("json")]


def test_the_tools_table_lists_every_tool_with_its_toolset() -> None:
    rows = set(re.findall(r"^\| (\w+) \| `(\w+)` \|", README, flags=re.MULTILINE))
    assert rows == {(spec.toolset, spec.name) for spec in select_tools(toolsets=["all"])}


def test_every_configuration_variable_is_documented() -> None:
    documented = set(re.findall(r"^\| `(PIGGY_\w+)` \|", README, flags=re.MULTILINE))
    assert documented == {f"PIGGY_{name.upper()}" for name in Settings.model_fields}


COST_ROW = re.compile(r"^\| `(\w+)` \| (by default|opt-in) \| (\d+) \| ([\d,]+) \|", re.MULTILINE)
AVERAGES = re.compile(r"The default listing averages (\d+) bytes per tool and `--toolsets all`\s+(\d+);")


async def listed(toolsets: list[str]) -> list[dict[str, Any]]:
    async with Client(build_server(make_settings(toolsets=toolsets))) as client:
        return await wire_tools(client)


async def test_the_readme_says_what_each_toolset_costs() -> None:
    documented = {
        name: (served, int(tools), int(size.replace(",", ""))) for name, served, tools, size in COST_ROW.findall(README)
    }
    measured = {}
    for toolset in TOOLSETS:
        tools = await listed([toolset.name])
        measured[toolset.name] = ("by default" if toolset.default else "opt-in", len(tools), compact_size(tools))
    table = "\n".join(f"| `{n}` | {s} | {t} | {b:,} |" for n, (s, t, b) in measured.items())
    assert documented == measured, f"the README's toolset table should read:\n{table}"
    averages = AVERAGES.search(README)
    assert averages is not None
    default, every = await listed([]), await listed(["all"])
    assert [int(averages[1]), int(averages[2])] == [
        round(compact_size(default) / len(default)),
        round(compact_size(every) / len(every)),
    ]
