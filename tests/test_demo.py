"""`piggy-mcp demo`: the five stories run, against the sandbox only, and show their key facts to a person."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from piggy_mcp import demo
from piggy_mcp.demo import run_demo
from piggy_mcp.sandbox import SEED
from piggy_mcp.sandbox.serving import SANDBOX_NOTICE
from tests.helpers import BEANS_BAG_COST, ONLINE_BALANCE, STORE_BALANCE

MERGED = STORE_BALANCE + ONLINE_BALANCE


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str]:
    """`python -m piggy_mcp demo` in a clean environment: no API key, no PIGGY_* settings, no .env file."""
    completed = subprocess.run(
        [sys.executable, "-m", "piggy_mcp", "demo"],
        env={"PATH": os.environ["PATH"]},
        cwd=tmp_path_factory.mktemp("demo"),  # no .env file here
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    assert not completed.stderr, completed.stderr  # the audit trail's lines stay out of the way
    return completed.returncode, completed.stdout


def test_the_command_succeeds_without_an_api_key(demo_run: tuple[int, str]) -> None:
    code, out = demo_run
    assert code == 0, out
    assert out.rstrip().endswith("piggy-mcp --sandbox")


def test_it_says_once_that_everything_is_simulated(demo_run: tuple[int, str]) -> None:
    _, out = demo_run
    assert "SIMULATED" in out.split("Story 1")[0]
    assert out.count(SANDBOX_NOTICE) == 1


def test_five_stories_with_numbered_steps(demo_run: tuple[int, str]) -> None:
    _, out = demo_run
    headings = re.findall(r"^Story (\d): (.+)$", out, re.MULTILINE)
    assert [number for number, _ in headings] == ["1", "2", "3", "4", "5"]
    # Every step names its tool and arguments, with a reason above it and a result below.
    calls = re.findall(r"^ {7}→ (\w+) \{", out, re.MULTILINE)
    results = re.findall(r"^ {7}← ", out, re.MULTILINE)
    assert len(calls) == len(results) >= 15
    assert len(re.findall(r"^  \d\.\d+  \S", out, re.MULTILINE)) == len(calls)


def test_story_1_verifies_and_reads_the_balance(demo_run: tuple[int, str]) -> None:
    story = _story(demo_run[1], 1)
    for tool in ("find_contact", "send_contact_verification_email", "verify_login_code", "get_contact_auth_token"):
        assert f"→ {tool} " in story
    assert '"code": "123456"' in story
    assert f"balance: {STORE_BALANCE}" in story


def test_the_auth_token_is_masked(demo_run: tuple[int, str]) -> None:
    story = _story(demo_run[1], 1)
    token = re.search(r"auth_token: (\S+)", story)
    assert token is not None and "masked" in story
    assert not re.search(r"[0-9a-f]{16}", token.group(1)), token.group(1)


def test_story_2_shows_the_confirmation_and_the_merged_balance(demo_run: tuple[int, str]) -> None:
    story = _story(demo_run[1], 2)
    assert story.count("→ merge_contacts ") == 2
    assert "status: confirmation_required" in story and "status: done" in story
    assert '"confirmation_token": ' in story  # the second call carries the token
    assert f"balance: {MERGED}" in story
    assert f"{MERGED} = {STORE_BALANCE} + {ONLINE_BALANCE}" in story
    assert "background" in story  # why it reads the balance until the merge shows
    assert (
        f"error, as expected: Error executing tool find_contact: No contact has the email {SEED.emails.sanne_online}"
        in story
    )


def test_story_3_creates_the_select_attribute_and_reads_its_options_back(demo_run: tuple[int, str]) -> None:
    story = _story(demo_run[1], 3)
    assert "→ create_contact_attribute " in story
    assert "name: preferred_category" in story and "type: select" in story
    for value in ("electronics", "clothing", "home_goods"):
        assert f'"value": "{value}"' in story.split("←")[2]  # read back, not only in the arguments


def test_story_4_redeems_a_reward_after_confirmation(demo_run: tuple[int, str]) -> None:
    story = _story(demo_run[1], 4)
    assert "→ verify_login_code " in story and "→ list_rewards " in story
    assert story.count("→ redeem_reward ") == 2
    assert "status: confirmation_required" in story and "status: done" in story
    assert f"balance: {MERGED - BEANS_BAG_COST}" in story
    assert f"{MERGED} - {BEANS_BAG_COST} = {MERGED - BEANS_BAG_COST} points left" in story


def test_story_5_earns_points_for_an_order_once_and_returns_one_line(demo_run: tuple[int, str]) -> None:
    story = _story(demo_run[1], 5)
    left = MERGED - BEANS_BAG_COST
    assert story.count("→ create_order ") == 2
    assert "status: processed" in story and "status: already_processed" in story
    assert f"{left} + 61 = {left + 61}: the repeat earned nothing." in story
    assert story.count("→ create_order_return ") == 2 and "status: confirmation_required" in story
    assert "points: -12" in story
    assert f"{left + 61} - 12 = {left + 49}: only the returned bag's points went back." in story


def test_run_demo_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_demo() == 0
    out = capsys.readouterr().out
    assert out.count("\nStory ") == 5
    assert "All five stories went as expected" in out


def test_operator_settings_do_not_change_the_demo(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PIGGY_READ_ONLY", "1")
    monkeypatch.setenv("PIGGY_TOOLSETS", "loyalty")
    monkeypatch.setenv("PIGGY_AUDIT_LOG", str(tmp_path / "audit.log"))
    assert run_demo() == 0, capsys.readouterr().out
    assert not (tmp_path / "audit.log").exists()  # simulated calls stay out of a real audit trail


def test_a_step_that_misbehaves_stops_the_demo_with_exit_code_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo, "LOGIN_CODE", "000000")  # not the code the sandbox sent
    assert run_demo() == 1
    out = capsys.readouterr().out
    assert "✗ ERROR: Error executing tool verify_login_code" in out
    assert "✗ The demo stopped at step 1.3: the call failed." in out
    assert "Story 2" not in out


def _story(out: str, number: int) -> str:
    return out.split(f"\nStory {number}: ")[1].split("\nStory ")[0]
