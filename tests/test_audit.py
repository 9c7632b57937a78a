"""The audit trail (audit.py): one JSON line per call of a tool that can change something, whatever its outcome
(ok, Piggy's error and code, bad arguments, confirmation asked for, cancelled), with emails masked and codes and
tokens redacted, on stderr and in PIGGY_AUDIT_LOG; reads leave no line."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import respx
from mcp import Client
from mcp.server import MCPServer

from piggy_mcp.server import build_server
from piggy_mcp.tools.runtime import Runtime
from tests.conftest import API_KEY, CONTACT_A, CONTACT_B, SHOP, make_settings
from tests.helpers import EMAIL, MERGE_ARGS, MODES, Mode, User, connect, envelope, fake_merge, text_of

MASKED_EMAIL = "j***@example.com"
LOGIN_CODE = "739154"
CREDITS_ARGS = {"contact_uuid": CONTACT_A, "shop_uuid": SHOP, "credits": 5}
RECEPTION_ANSWER = {"uuid": CONTACT_B, "credits": 5, "unit_value": None, "contact": {"credit_balance": {"balance": 15}}}


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


@pytest.mark.parametrize("mode", MODES)
async def test_audit_ok(audited: MCPServer[Runtime], audit_log: Path, piggy: respx.MockRouter, mode: Mode) -> None:
    piggy.post("/credit-receptions").respond(200, json=envelope(RECEPTION_ANSWER))
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
    merge = fake_merge(piggy).merge
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
    route = piggy.post("/credit-receptions").respond(200, json=envelope(RECEPTION_ANSWER))
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
    merge = fake_merge(piggy).merge
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
    merge = fake_merge(piggy).merge
    async with connect(audited, mode, user) as client:
        result = await client.call_tool("merge_contacts", MERGE_ARGS)
    assert not result.is_error, text_of(result)
    assert len(user.messages) == 1
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
    piggy.post("/credit-receptions").respond(200, json=envelope(RECEPTION_ANSWER))
    async with Client(build_server(make_settings())) as client:
        assert not (await client.call_tool("create_credit_reception", CREDITS_ARGS)).is_error
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if '"tool_call"' in line]
    assert [(line["tool"], line["outcome"]) for line in lines] == [("create_credit_reception", "ok")]
    assert os.listdir(tmp_path) == []
