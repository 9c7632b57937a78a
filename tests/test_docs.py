"""The README's commands and examples are the ones that work: CI runs the same test command, the desktop
config example is the file we ship, and every tool and setting the README names exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

from piggy_mcp.config import Settings
from piggy_mcp.selection import select_tools

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
