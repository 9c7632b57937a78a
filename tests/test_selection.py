"""Operator controls: which tools are served (read-only, toolsets, tools, exclusions), `piggy-mcp tools`,
the audit trail of writes, and the bound on concurrent requests to Piggy.

Expectations are computed from `piggy_mcp.tools.TOOLSETS`, so adding tools does not break these tests; the
tools named explicitly (merge_contacts, create_credit_reception, ...) are the long-standing ones.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import anyio
import httpx
import pytest
import respx
from mcp import Client
from mcp.server import MCPServer
from mcp.types import CallToolResult, ElicitRequestFormParams, ElicitResult, TextContent

from piggy_mcp.cli import main
from piggy_mcp.config import Settings
from piggy_mcp.selection import SelectionError, select_tools
from piggy_mcp.server import build_server
from piggy_mcp.tools import TOOLSETS, ToolSpec
from piggy_mcp.tools.runtime import Runtime
from tests.conftest import API_KEY, CONTACT_A, CONTACT_B, SHOP, make_settings

MODES = ["auto", "legacy"]
Mode = Literal["auto", "legacy"]

ALL_SPECS: list[ToolSpec] = [spec for toolset in TOOLSETS for spec in toolset.tools]
ALL_TOOLS = [spec.name for spec in ALL_SPECS]
READ_TOOLS = [spec.name for spec in ALL_SPECS if spec.read_only]
WRITE_TOOLS = [spec.name for spec in ALL_SPECS if not spec.read_only]
TOOLSET_NAMES = [toolset.name for toolset in TOOLSETS]
TOOLSET_OF = {spec.name: spec.toolset for spec in ALL_SPECS}

MERGE_ARGS = {"source_contact_uuid": CONTACT_A, "destination_contact_uuid": CONTACT_B}
EMAIL = "jane.doe@example.com"
MASKED_EMAIL = "j***@example.com"
LOGIN_CODE = "739154"


def in_order(names: set[str] | Sequence[str]) -> list[str]:
    """`names` in the order tools/list must show them: the order of TOOLSETS."""
    wanted = set(names)
    return [name for name in ALL_TOOLS if name in wanted]


def tools_of(*toolsets: str) -> list[str]:
    return [spec.name for spec in ALL_SPECS if spec.toolset in toolsets]


async def listed(settings: Settings, mode: Mode = "auto") -> list[str]:
    """tools/list as the official client sees it."""
    async with Client(build_server(settings), mode=mode) as client:
        listing = await client.list_tools(cache_mode="bypass")
    assert listing.next_cursor is None
    return [tool.name for tool in listing.tools]


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def envelope(data: Any) -> dict[str, Any]:
    return {"data": data, "meta": []}


def test_every_toolset_is_non_empty_and_every_tool_is_in_exactly_one() -> None:
    assert len(TOOLSET_NAMES) == len(set(TOOLSET_NAMES))
    assert len(ALL_TOOLS) == len(set(ALL_TOOLS))
    assert all(toolset.tools for toolset in TOOLSETS)
    assert all(spec.toolset in TOOLSET_NAMES for spec in ALL_SPECS)
    # Both kinds exist, so the read-only tests below test something.
    assert READ_TOOLS and WRITE_TOOLS


# Selection, listed through the official client ---------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_default_serves_every_tool_in_toolset_order(mode: Mode) -> None:
    assert await listed(make_settings(), mode) == ALL_TOOLS
    assert [spec.name for spec in select_tools()] == ALL_TOOLS


@pytest.mark.parametrize("mode", MODES)
async def test_read_only_serves_exactly_the_read_only_tools(mode: Mode) -> None:
    names = await listed(make_settings(read_only=True), mode)
    assert names == READ_TOOLS
    async with Client(build_server(make_settings(read_only=True)), mode=mode) as client:
        for tool in (await client.list_tools()).tools:
            assert tool.annotations is not None
            assert tool.annotations.read_only_hint is True, tool.name
            assert tool.annotations.destructive_hint is False, tool.name


@pytest.mark.parametrize("toolset", TOOLSET_NAMES)
async def test_one_toolset(toolset: str) -> None:
    assert await listed(make_settings(toolsets=[toolset])) == tools_of(toolset)


async def test_several_toolsets_keep_the_fixed_order_whatever_order_they_are_named_in() -> None:
    expected = tools_of("loyalty", "vouchers")
    assert await listed(make_settings(toolsets=["vouchers", "loyalty"])) == expected
    assert await listed(make_settings(toolsets=["loyalty", "vouchers"])) == expected
    assert expected.index("get_contact_credit_balance") < expected.index("create_vouchers_batch")


async def test_single_tools_only() -> None:
    named = ["create_credit_reception", "merge_contacts"]
    # contacts comes before loyalty in TOOLSETS, so merge_contacts is listed first.
    assert await listed(make_settings(tools=named)) == ["merge_contacts", "create_credit_reception"]


async def test_single_tools_add_to_toolsets() -> None:
    names = await listed(make_settings(toolsets=["loyalty"], tools=["merge_contacts"]))
    assert names == in_order({*tools_of("loyalty"), "merge_contacts"})


@pytest.mark.parametrize("mode", MODES)
async def test_exclude_tools_takes_away_from_everything(mode: Mode) -> None:
    excluded = ["merge_contacts", "get_contact_credit_balance"]
    names = await listed(make_settings(exclude_tools=excluded), mode)
    assert names == [name for name in ALL_TOOLS if name not in excluded]


async def test_exclude_tools_takes_away_from_toolsets_and_from_named_tools() -> None:
    names = await listed(
        make_settings(
            toolsets=["contacts", "loyalty"],
            tools=["create_vouchers_batch"],
            exclude_tools=["merge_contacts", "create_vouchers_batch"],
        )
    )
    # Exclusion wins over naming a tool.
    assert names == [name for name in tools_of("contacts", "loyalty") if name != "merge_contacts"]


@pytest.mark.parametrize("mode", MODES)
async def test_read_only_wins_over_tools_naming_a_write_tool(mode: Mode) -> None:
    names = await listed(
        make_settings(
            read_only=True, tools=["merge_contacts", "create_credit_reception", "get_contact_credit_balance"]
        ),
        mode,
    )
    assert names == ["get_contact_credit_balance"]


async def test_read_only_wins_over_toolsets() -> None:
    names = await listed(make_settings(read_only=True, toolsets=["contacts", "loyalty"]))
    assert names == [name for name in tools_of("contacts", "loyalty") if name in READ_TOOLS]
    assert "merge_contacts" not in names
    assert "get_contact_auth_token" in names


async def test_read_only_with_only_write_tools_named_serves_nothing() -> None:
    assert await listed(make_settings(read_only=True, tools=["merge_contacts", "create_credit_reception"])) == []


async def test_order_is_deterministic() -> None:
    settings = make_settings(toolsets=["catalog", "contacts"], tools=["update_booking", "get_contact_credit_balance"])
    first = await listed(settings)
    assert first == await listed(settings)
    reordered = make_settings(toolsets=["contacts", "catalog"], tools=["get_contact_credit_balance", "update_booking"])
    assert await listed(reordered) == first
    assert first == in_order(first)


@pytest.mark.parametrize(
    ("overrides", "kind", "valid"),
    [
        ({"toolsets": ["contacts", "nope"]}, "toolset", TOOLSET_NAMES),
        ({"tools": ["merge_contact"]}, "tool", ALL_TOOLS),
        ({"exclude_tools": ["delete_everything"]}, "tool", ALL_TOOLS),
    ],
    ids=["toolset", "tool", "excluded-tool"],
)
def test_unknown_names_stop_the_start_with_the_valid_names(
    overrides: dict[str, list[str]], kind: str, valid: list[str]
) -> None:
    unknown = [name for names in overrides.values() for name in names if name not in valid]
    for attempt in (lambda: select_tools(**overrides), lambda: build_server(make_settings(**overrides))):
        with pytest.raises(SelectionError) as raised:
            attempt()
        message = str(raised.value)
        assert f"unknown {kind} {unknown[0]!r}" in message
        for name in valid:
            assert name in message


def test_unknown_names_are_all_reported() -> None:
    with pytest.raises(SelectionError, match=r"'nope'.*'neither'"):
        select_tools(toolsets=["nope", "contacts", "neither"])


# A tool that is not served cannot be called --------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("overrides", "tool", "arguments"),
    [
        ({"read_only": True}, "merge_contacts", MERGE_ARGS),
        ({"read_only": True, "tools": ["merge_contacts"]}, "merge_contacts", MERGE_ARGS),
        (
            {"exclude_tools": ["create_credit_reception"]},
            "create_credit_reception",
            {"contact_uuid": CONTACT_A, "shop_uuid": SHOP, "credits": 5},
        ),
        ({"toolsets": ["loyalty"]}, "create_vouchers_batch", {"promotion_uuid": CONTACT_A, "quantity": 1}),
        ({"tools": ["get_contact_credit_balance"]}, "send_contact_verification_email", {"email": EMAIL}),
    ],
    ids=["read-only", "read-only-wins", "excluded", "other-toolset", "not-named"],
)
async def test_a_tool_that_is_not_served_cannot_be_called(
    piggy: respx.MockRouter, mode: Mode, overrides: dict[str, Any], tool: str, arguments: dict[str, Any]
) -> None:
    # Piggy would answer anything; nothing may reach it.
    catch_all = piggy.route().respond(200, json=envelope({}))
    settings = make_settings(**overrides)
    async with Client(build_server(settings), mode=mode) as client:
        assert tool not in [t.name for t in (await client.list_tools()).tools]
        result = await client.call_tool(tool, arguments)
        # With a confirmation token too: a token cannot unlock a tool that is not served.
        again = await client.call_tool(tool, {**arguments, "confirmation_token": "c1.4000000000.sig"})
    for outcome in (result, again):
        assert outcome.is_error
        assert tool in text_of(outcome)
    assert not catch_all.called
    assert piggy.calls.call_count == 0


# Environment ---------------------------------------------------------------------------------------


def test_selection_and_hosting_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIGGY_READ_ONLY", "true")
    monkeypatch.setenv("PIGGY_TOOLSETS", "contacts, loyalty")
    monkeypatch.setenv("PIGGY_TOOLS", "create_vouchers_batch,find_voucher_by_code")
    monkeypatch.setenv("PIGGY_EXCLUDE_TOOLS", " get_contact_auth_token , ,")
    monkeypatch.setenv("PIGGY_AUDIT_LOG", "/var/log/piggy/audit.jsonl")
    monkeypatch.setenv("PIGGY_MAX_CONCURRENT_REQUESTS", "3")
    monkeypatch.setenv("PIGGY_QUEUE_TIMEOUT", "1.5")
    monkeypatch.setenv("PIGGY_MCP_AUTH_TOKENS", "tok-one, sha256:" + "ab" * 32)
    monkeypatch.setenv("PIGGY_MCP_ALLOWED_HOSTS", "mcp.example.com,mcp.example.com:*")
    monkeypatch.setenv("PIGGY_MCP_ALLOWED_ORIGINS", "https://app.example.com")
    monkeypatch.setenv("PIGGY_MCP_PUBLIC_URL", "https://mcp.example.com")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.read_only is True
    assert settings.toolsets == ["contacts", "loyalty"]
    assert settings.tools == ["create_vouchers_batch", "find_voucher_by_code"]
    assert settings.exclude_tools == ["get_contact_auth_token"]
    assert settings.audit_log == Path("/var/log/piggy/audit.jsonl")
    assert settings.max_concurrent_requests == 3
    assert settings.queue_timeout == 1.5
    assert [token.get_secret_value() for token in settings.mcp_auth_tokens] == ["tok-one", "sha256:" + "ab" * 32]
    assert "tok-one" not in repr(settings)
    assert settings.mcp_allowed_hosts == ["mcp.example.com", "mcp.example.com:*"]
    assert settings.mcp_allowed_origins == ["https://app.example.com"]
    assert settings.mcp_public_url == "https://mcp.example.com"

    from piggy_mcp.server import settings_tools

    expected = [
        name
        for name in in_order({*tools_of("contacts", "loyalty"), "create_vouchers_batch", "find_voucher_by_code"})
        if name in READ_TOOLS and name != "get_contact_auth_token"
    ]
    assert [spec.name for spec in settings_tools(settings)] == expected


def test_empty_selection_variables_mean_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PIGGY_TOOLSETS", "PIGGY_TOOLS", "PIGGY_EXCLUDE_TOOLS"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("PIGGY_READ_ONLY", "false")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.toolsets, settings.tools, settings.exclude_tools) == ([], [], [])
    assert [spec.name for spec in select_tools(toolsets=settings.toolsets)] == ALL_TOOLS


# piggy-mcp tools ----------------------------------------------------------------------------------------


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
    assert rows == [[spec.name, spec.toolset, expected_kind(spec)] for spec in ALL_SPECS]
    kinds = {name: kind for name, _, kind in rows}
    assert kinds["merge_contacts"] == "destructive"
    assert kinds["create_credit_reception"] == "write"
    assert kinds["get_contact_credit_balance"] == "read"


@pytest.mark.parametrize("argv", [["tools", "--read-only"], ["--read-only", "tools"]], ids=["after", "before"])
def test_cli_tools_read_only(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert main(argv) == 0
    rows = table(capsys.readouterr().out)
    assert [name for name, _, _ in rows] == READ_TOOLS
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


# Audit trail ----------------------------------------------------------------------------------------------


@pytest.fixture
def audit_log(tmp_path: Path) -> Path:
    return tmp_path / "audit.jsonl"


@pytest.fixture
def audited(audit_log: Path) -> MCPServer[Runtime]:
    return build_server(make_settings(audit_log=audit_log))


def read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def audit_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in read_text(path).splitlines()]


def assert_well_formed(line: dict[str, Any], tool: str) -> None:
    assert line["tool"] == tool
    assert line["event"] == "tool_call"
    when = datetime.fromisoformat(line["time"])
    assert when.tzinfo is not None
    assert isinstance(line["duration_ms"], int | float)
    assert line["duration_ms"] >= 0
    assert isinstance(line["arguments"], dict)


class User:
    """An elicitation callback that answers every question the same way and counts them."""

    def __init__(self, action: Literal["accept", "decline", "cancel"], content: dict[str, Any] | None = None) -> None:
        self.action = action
        self.content = content
        self.asked = 0

    async def __call__(self, context: Any, params: Any) -> ElicitResult:
        assert isinstance(params, ElicitRequestFormParams)
        self.asked += 1
        return ElicitResult(action=self.action, content=self.content)


@asynccontextmanager
async def connect(server: MCPServer[Runtime], mode: Mode, user: User | None = None) -> AsyncIterator[Client]:
    async with Client(server, mode=mode, elicitation_callback=user) as client:
        assert (client.protocol_version >= "2026-07-28") == (mode == "auto"), client.protocol_version
        yield client


def fake_merge(piggy: respx.MockRouter) -> respx.Route:
    for uuid, email in ((CONTACT_A, "old.address@example.com"), (CONTACT_B, EMAIL)):
        contact = {"uuid": uuid, "email": email, "credit_balance": {"balance": 10, "id": 1}}
        piggy.get(f"/contacts/{uuid}").respond(200, json=envelope({**contact, "current_values": {}}))
    return piggy.post("/contacts/merge").respond(200, json=envelope(None))


CREDITS_ARGS = {"contact_uuid": CONTACT_A, "shop_uuid": SHOP, "credits": 5}
RECEPTION = {"uuid": CONTACT_B, "credits": 5, "unit_value": None, "contact": {"credit_balance": {"balance": 15}}}


@pytest.mark.parametrize("mode", MODES)
async def test_audit_ok(audited: MCPServer[Runtime], audit_log: Path, piggy: respx.MockRouter, mode: Mode) -> None:
    piggy.post("/credit-receptions").respond(200, json=envelope(RECEPTION))
    async with connect(audited, mode) as client:
        result = await client.call_tool("create_credit_reception", CREDITS_ARGS)
    assert not result.is_error, text_of(result)

    [line] = audit_lines(audit_log)
    assert_well_formed(line, "create_credit_reception")
    assert line["outcome"] == "ok"
    assert line["arguments"] == CREDITS_ARGS
    assert line["error"] is None
    assert line["piggy_code"] is None


@pytest.mark.parametrize("mode", MODES)
async def test_audit_piggy_error_with_its_code(
    audited: MCPServer[Runtime], audit_log: Path, piggy: respx.MockRouter, mode: Mode
) -> None:
    refusal = {"message": "Maximum credits per reception exceeded", "code": 1015, "status_code": 400}
    piggy.post("/credit-receptions").respond(400, json=refusal)
    async with connect(audited, mode) as client:
        result = await client.call_tool("create_credit_reception", CREDITS_ARGS)
    assert result.is_error

    [line] = audit_lines(audit_log)
    assert_well_formed(line, "create_credit_reception")
    assert line["outcome"] == "piggy_error"
    assert line["piggy_code"] == 1015
    assert line["error"] == "RejectedError"


@pytest.mark.parametrize("mode", MODES)
async def test_audit_piggy_error_while_reading_the_confirmation_preview(
    audited: MCPServer[Runtime], audit_log: Path, piggy: respx.MockRouter, mode: Mode
) -> None:
    merge = fake_merge(piggy)
    piggy.get(f"/contacts/{CONTACT_B}").respond(400, json={"message": "Not found", "code": 55031, "status_code": 400})
    async with connect(audited, mode) as client:
        assert (await client.call_tool("merge_contacts", MERGE_ARGS)).is_error
    [line] = audit_lines(audit_log)
    assert (line["outcome"], line["piggy_code"]) == ("piggy_error", 55031)
    assert not merge.called


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "arguments",
    [
        {"contact_uuid": "not-a-uuid", "shop_uuid": SHOP, "credits": 5},  # refused by the SDK's validation
        {"contact_uuid": CONTACT_A, "shop_uuid": SHOP},  # refused by the tool: neither credits nor unit_value
    ],
    ids=["schema", "tool"],
)
async def test_audit_error_for_bad_arguments(
    audited: MCPServer[Runtime], audit_log: Path, piggy: respx.MockRouter, mode: Mode, arguments: dict[str, Any]
) -> None:
    route = piggy.post("/credit-receptions").respond(200, json=envelope(RECEPTION))
    async with connect(audited, mode) as client:
        assert (await client.call_tool("create_credit_reception", arguments)).is_error
    assert not route.called

    [line] = audit_lines(audit_log)
    assert_well_formed(line, "create_credit_reception")
    assert line["outcome"] == "error"
    assert line["arguments"] == arguments
    assert line["piggy_code"] is None


@pytest.mark.parametrize("mode", MODES)
async def test_audit_confirmation_requested_then_ok_through_the_token(
    audited: MCPServer[Runtime], audit_log: Path, piggy: respx.MockRouter, mode: Mode
) -> None:
    merge = fake_merge(piggy)
    async with connect(audited, mode) as client:
        first = await client.call_tool("merge_contacts", MERGE_ARGS)
        assert first.structured_content is not None
        token = first.structured_content["confirmation_token"]
        assert isinstance(token, str)
        second = await client.call_tool("merge_contacts", {**MERGE_ARGS, "confirmation_token": token})
        assert second.structured_content is not None
        assert second.structured_content["status"] == "done"
        # A forged token is refused before anything is sent: an error, audited too.
        third = await client.call_tool("merge_contacts", {**MERGE_ARGS, "confirmation_token": "c1.4000000000.x"})
        assert third.is_error
    assert merge.call_count == 1

    lines = audit_lines(audit_log)
    assert [line["outcome"] for line in lines] == ["confirmation_requested", "ok", "error"]
    for line in lines:
        assert_well_formed(line, "merge_contacts")
    assert lines[0]["arguments"] == MERGE_ARGS
    assert lines[1]["arguments"] == {**MERGE_ARGS, "confirmation_token": "[redacted]"}
    assert lines[2]["arguments"]["confirmation_token"] == "[redacted]"
    assert token not in read_text(audit_log)


@pytest.mark.parametrize(
    ("mode", "user", "outcomes"),
    [
        # 2026-07-28: the first round returns an input-required result, the retry carries the answer.
        ("auto", User("accept", {"confirm": True}), ["confirmation_requested", "ok"]),
        ("auto", User("decline"), ["confirmation_requested", "cancelled"]),
        ("auto", User("cancel"), ["confirmation_requested", "cancelled"]),
        ("auto", User("accept", {"confirm": False}), ["confirmation_requested", "cancelled"]),
        # Older protocol: the question is asked within the one call.
        ("legacy", User("accept", {"confirm": True}), ["ok"]),
        ("legacy", User("decline"), ["cancelled"]),
    ],
    ids=["modern-accept", "modern-decline", "modern-cancel", "modern-unticked", "legacy-accept", "legacy-decline"],
)
async def test_audit_through_elicitation(
    audited: MCPServer[Runtime], audit_log: Path, piggy: respx.MockRouter, mode: Mode, user: User, outcomes: list[str]
) -> None:
    merge = fake_merge(piggy)
    async with connect(audited, mode, user) as client:
        result = await client.call_tool("merge_contacts", MERGE_ARGS)
    assert not result.is_error, text_of(result)
    assert user.asked == 1
    assert merge.call_count == (1 if outcomes[-1] == "ok" else 0)

    lines = audit_lines(audit_log)
    assert [line["outcome"] for line in lines] == outcomes
    for line in lines:
        assert_well_formed(line, "merge_contacts")
        assert line["arguments"] == MERGE_ARGS


@pytest.mark.parametrize("mode", MODES)
async def test_audit_masks_emails_and_redacts_codes_and_never_shows_the_api_key(
    audited: MCPServer[Runtime],
    audit_log: Path,
    piggy: respx.MockRouter,
    capfd: pytest.CaptureFixture[str],
    mode: Mode,
) -> None:
    piggy.post("/contact-verification/send").respond(200, json=envelope({"message": f"Sent to {EMAIL}."}))
    piggy.post("/contact-verification/verify").respond(200, json=envelope({"uuid": CONTACT_A}))
    async with connect(audited, mode) as client:
        sent = await client.call_tool("send_contact_verification_email", {"email": EMAIL})
        verified = await client.call_tool("verify_login_code", {"email": EMAIL, "code": LOGIN_CODE})
        # A failing write too: Piggy's error text goes through another path.
        piggy.post("/contact-verification/verify").respond(
            400, json={"message": f"Wrong code {LOGIN_CODE} for {EMAIL}", "code": 13010, "status_code": 400}
        )
        wrong = await client.call_tool("verify_login_code", {"email": EMAIL, "code": LOGIN_CODE})
    assert not sent.is_error and not verified.is_error and wrong.is_error

    lines = audit_lines(audit_log)
    assert [line["tool"] for line in lines] == [
        "send_contact_verification_email",
        "verify_login_code",
        "verify_login_code",
    ]
    assert [line["outcome"] for line in lines] == ["ok", "ok", "piggy_error"]
    assert lines[0]["arguments"] == {"email": MASKED_EMAIL}
    assert lines[1]["arguments"] == {"email": MASKED_EMAIL, "code": "[redacted]"}
    assert lines[2]["piggy_code"] == 13010

    written = read_text(audit_log)
    stderr = capfd.readouterr().err
    # The same lines go to stderr.
    for line in written.splitlines():
        assert line in stderr
    for secret in (API_KEY, EMAIL, LOGIN_CODE):
        assert secret not in written
        assert secret not in stderr


@pytest.mark.parametrize("mode", MODES)
async def test_read_only_tools_write_no_audit_line(
    audited: MCPServer[Runtime],
    audit_log: Path,
    piggy: respx.MockRouter,
    capfd: pytest.CaptureFixture[str],
    mode: Mode,
) -> None:
    piggy.get(f"/contacts/{CONTACT_A}/credit-balance").respond(200, json=envelope({"balance": 3}))
    piggy.get(f"/contact-verification/auth-token/{CONTACT_A}").respond(400, json={"message": "no", "code": 55031})
    async with connect(audited, mode) as client:
        await client.list_tools()
        assert not (await client.call_tool("get_contact_credit_balance", {"contact_uuid": CONTACT_A})).is_error
        assert (await client.call_tool("get_contact_auth_token", {"contact_uuid": CONTACT_A})).is_error
        assert (await client.call_tool("get_contact_credit_balance", {"contact_uuid": "bad"})).is_error
    assert audit_lines(audit_log) == []
    assert '"tool_call"' not in capfd.readouterr().err


async def test_audit_without_a_file_writes_to_stderr_only(
    piggy: respx.MockRouter, capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    piggy.post("/credit-receptions").respond(200, json=envelope(RECEPTION))
    async with Client(build_server(make_settings())) as client:
        assert not (await client.call_tool("create_credit_reception", CREDITS_ARGS)).is_error
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if '"tool_call"' in line]
    assert [(line["tool"], line["outcome"]) for line in lines] == [("create_credit_reception", "ok")]
    assert os.listdir(tmp_path) == []


# Concurrency bound --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "arguments", "method", "path"),
    [
        ("get_contact_credit_balance", {"contact_uuid": CONTACT_B}, "GET", f"/contacts/{CONTACT_B}/credit-balance"),
        ("create_credit_reception", CREDITS_ARGS, "POST", "/credit-receptions"),
    ],
    ids=["read", "write"],
)
async def test_excess_calls_wait_briefly_then_fail_clearly(
    piggy: respx.MockRouter, tool: str, arguments: dict[str, Any], method: str, path: str
) -> None:
    started, release = anyio.Event(), anyio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        started.set()
        await release.wait()
        return httpx.Response(200, json=envelope({"balance": 7}))

    held = piggy.get(f"/contacts/{CONTACT_A}/credit-balance").mock(side_effect=slow)
    second = piggy.request(method, path).respond(200, json=envelope({**RECEPTION, "balance": 1}))
    server = build_server(make_settings(max_concurrent_requests=1, queue_timeout=0.2))
    first: CallToolResult | None = None

    async def call_first(client: Client) -> None:
        nonlocal first
        first = await client.call_tool("get_contact_credit_balance", {"contact_uuid": CONTACT_A})

    with anyio.fail_after(20):
        async with Client(server) as client:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(call_first, client)
                await started.wait()
                began = anyio.current_time()
                busy = await client.call_tool(tool, arguments)
                waited = anyio.current_time() - began
                sent_while_busy = second.call_count
                release.set()
            # The slot is free again: the same call now goes through.
            later = await client.call_tool(tool, arguments)

    assert busy.is_error
    assert "busy" in text_of(busy)
    assert "Nothing was sent" in text_of(busy)
    assert sent_while_busy == 0
    # It waited for a slot (queue_timeout), briefly.
    assert 0.15 <= waited < 5, waited
    assert first is not None
    assert not first.is_error, text_of(first)
    assert first.structured_content == {"contact_uuid": CONTACT_A, "balance": 7}
    assert held.call_count == 1
    assert not later.is_error, text_of(later)
    assert second.call_count == 1
