"""The command line (cli.py): `piggy-mcp tools` prints what would be served (name, toolset, kind), with the same
selection flags and variables as serving; unknown names and invalid settings exit 2 saying what is wrong."""

from __future__ import annotations

import pytest

from piggy_mcp.cli import main
from piggy_mcp.tools import ToolSpec
from tests.helpers import (
    ALL_SPECS,
    ALL_TOOLS,
    EXPECTED_TOOLS,
    READ_TOOLS,
    TOOLSET_NAMES,
    TOOLSET_OF,
    in_order,
    tools_of,
)


def expected_kind(spec: ToolSpec) -> str:
    if spec.annotations.read_only_hint:
        return "read"
    return "destructive" if spec.annotations.destructive_hint else "write"


def table(out: str) -> list[list[str]]:
    """The rows of `piggy-mcp tools` under its header, split into columns."""
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines, "no output"
    assert lines[0].split() == ["tool", "toolset", "kind"], lines[0]
    return [line.split() for line in lines[1:]]


def test_cli_tools_prints_name_toolset_and_kind_of_every_tool(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tools"]) == 0
    captured = capsys.readouterr()
    rows = table(captured.out)
    assert rows == [[spec.name, spec.toolset, expected_kind(spec)] for spec in ALL_SPECS if spec.name in EXPECTED_TOOLS]
    kinds = {name: kind for name, _, kind in rows}
    assert kinds["merge_contacts"] == "destructive"
    assert kinds["create_credit_reception"] == "write"
    assert kinds["get_contact_credit_balance"] == "read"


@pytest.mark.parametrize("argv", [["tools", "--read-only"], ["--read-only", "tools"]], ids=["after", "before"])
def test_cli_tools_read_only(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert main(argv) == 0
    rows = table(capsys.readouterr().out)
    assert [name for name, _, _ in rows] == [name for name in READ_TOOLS if name in EXPECTED_TOOLS]
    assert {kind for _, _, kind in rows} == {"read"}
    assert all(toolset == TOOLSET_OF[name] for name, toolset, _ in rows)


def test_cli_tools_with_toolsets_tools_and_exclusions(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["tools", "--toolsets", "loyalty,vouchers", "--tools", "merge_contacts", "--exclude-tools", "list_forms"]
    assert main(argv) == 0
    rows = table(capsys.readouterr().out)
    assert [name for name, _, _ in rows] == in_order({*tools_of("loyalty", "vouchers"), "merge_contacts"})


def test_cli_flags_override_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PIGGY_TOOLSETS", "contacts")
    monkeypatch.setenv("PIGGY_READ_ONLY", "true")
    assert main(["tools"]) == 0
    assert [row[0] for row in table(capsys.readouterr().out)] == [n for n in tools_of("contacts") if n in READ_TOOLS]
    assert main(["tools", "--toolsets", "loyalty"]) == 0
    # The flag replaces PIGGY_TOOLSETS; PIGGY_READ_ONLY still applies.
    assert [row[0] for row in table(capsys.readouterr().out)] == [n for n in tools_of("loyalty") if n in READ_TOOLS]


@pytest.mark.parametrize(
    ("argv", "expected", "valid"),
    [
        (["tools", "--toolsets", "contacts,nope"], "unknown toolset 'nope'", TOOLSET_NAMES),
        (["tools", "--tools", "merge_contact"], "unknown tool 'merge_contact'", ALL_TOOLS),
        (["tools", "--exclude-tools", "drop_tables"], "unknown tool 'drop_tables'", ALL_TOOLS),
    ],
    ids=["toolset", "tool", "excluded-tool"],
)
def test_cli_unknown_name_exits_2_listing_the_valid_ones(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: str, valid: list[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert expected in captured.err
    for name in valid:
        assert name in captured.err


def test_cli_invalid_setting_exits_2_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PIGGY_MAX_CONCURRENT_REQUESTS", "0")
    assert main(["tools"]) == 2
    assert "PIGGY_MAX_CONCURRENT_REQUESTS" in capsys.readouterr().err
