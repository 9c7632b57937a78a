"""Confirmation tokens: bound to one tool, its exact arguments, the preview shown and an expiry, under one key."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from piggy_mcp.signing import Signer, stake_digest
from tests.conftest import CONTACT_A, CONTACT_B
from tests.helpers import CLAIM_ARGS, HEX_UUID, MERGE_ARGS

PREVIEW = "Merge contact a INTO b. This cannot be undone."


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_signer_round_trip() -> None:
    signer = Signer("k", 600)
    token = signer.issue("merge_contacts", MERGE_ARGS, PREVIEW)
    signer.check(token, "merge_contacts", MERGE_ARGS)
    assert signer.ttl_seconds == 600
    # Argument order does not matter, only their values.
    reordered = {"destination_contact_uuid": CONTACT_B, "source_contact_uuid": CONTACT_A}
    signer.check(token, "merge_contacts", reordered)
    # Another signer with the same key accepts it: nothing is remembered.
    Signer("k", 600).check(token, "merge_contacts", MERGE_ARGS)


def test_signer_expiry_with_an_injected_clock() -> None:
    clock = Clock(1_000_000.0)
    signer = Signer("k", 60, clock=clock)
    token = signer.issue("merge_contacts", MERGE_ARGS, PREVIEW)
    assert token.split(".")[1] == "1000060"
    clock.now = 1_000_060.0
    signer.check(token, "merge_contacts", MERGE_ARGS)
    clock.now = 1_000_060.5
    with pytest.raises(ToolError, match="expired"):
        signer.check(token, "merge_contacts", MERGE_ARGS)
    clock.now = 1_100_000.0
    with pytest.raises(ToolError, match="expired"):
        signer.check(token, "merge_contacts", MERGE_ARGS)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: ".".join([t.split(".")[0], str(int(t.split(".")[1]) + 1), *t.split(".")[2:]]),
        lambda t: ".".join([t.split(".")[0], str(int(t.split(".")[1]) - 1), *t.split(".")[2:]]),
        lambda t: t + "A",
    ],
    ids=["signature", "later-expiry", "earlier-expiry", "longer-signature"],
)
def test_signer_refuses_tampered_tokens(tamper: Callable[[str], str]) -> None:
    signer = Signer("k", 600)
    token = signer.issue("merge_contacts", MERGE_ARGS, PREVIEW)
    # A signature of the wrong length is malformed rather than mismatched; both are refused.
    with pytest.raises(ToolError, match=r"does not match|not a token this server issued"):
        signer.check(tamper(token), "merge_contacts", MERGE_ARGS)


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "c1",
        "c1.",
        "c1..sig",
        "c1.soon.sig",
        "c1.123.",
        "c2.123.sig",
        "garbage",
        "c1.-5.sig",
        # str.isdigit() accepts these, int() does not.
        "c1.\u00b2.sig",
        # hmac.compare_digest() refuses non-ASCII str.
        "c1.123.sig\u00e9",
    ],
)
def test_signer_refuses_malformed_tokens(junk: str) -> None:
    with pytest.raises(ToolError, match="not a token this server issued"):
        Signer("k", 600).check(junk, "merge_contacts", MERGE_ARGS)


def test_signer_refuses_another_tool() -> None:
    signer = Signer("k", 600)
    token = signer.issue("merge_contacts", CLAIM_ARGS, PREVIEW)
    with pytest.raises(ToolError, match="does not match"):
        signer.check(token, "claim_anonymous_contact", CLAIM_ARGS)


@pytest.mark.parametrize(
    "changed",
    [
        {"source_contact_uuid": HEX_UUID, "destination_contact_uuid": CONTACT_A},
        {"source_contact_uuid": CONTACT_A, "destination_contact_uuid": CONTACT_A},
        {"source_contact_uuid": CONTACT_A, "destination_contact_uuid": CONTACT_B},
        {"source_contact_uuid": CONTACT_A, "destination_contact_uuid": HEX_UUID.upper()},
        {"source_contact_uuid": CONTACT_A},
        {"source_contact_uuid": CONTACT_A, "destination_contact_uuid": HEX_UUID, "extra": "x"},
        {},
    ],
    ids=["swapped", "same-twice", "other-value", "case", "missing", "extra", "empty"],
)
def test_signer_refuses_changed_arguments(changed: dict[str, str]) -> None:
    signer = Signer("k", 600)
    args = {"source_contact_uuid": CONTACT_A, "destination_contact_uuid": HEX_UUID}
    token = signer.issue("merge_contacts", args, PREVIEW)
    signer.check(token, "merge_contacts", dict(args))
    with pytest.raises(ToolError, match="does not match"):
        signer.check(token, "merge_contacts", changed)


def test_signer_refuses_another_key_saying_so() -> None:
    token = Signer("k", 600).issue("merge_contacts", MERGE_ARGS, PREVIEW)
    with pytest.raises(ToolError, match="signed with another key"):
        Signer("other", 600).check(token, "merge_contacts", MERGE_ARGS)


def test_tokens_differ_by_call() -> None:
    clock = Clock(1_000.0)
    signer = Signer("k", 600, clock=clock)
    merge = signer.issue("merge_contacts", MERGE_ARGS, PREVIEW)
    # Unique even for the same call at the same instant, so single use refuses only a replay.
    again = signer.issue("merge_contacts", MERGE_ARGS, PREVIEW)
    assert again != merge
    signer.check(again, "merge_contacts", MERGE_ARGS)
    assert signer.issue("claim_anonymous_contact", MERGE_ARGS, PREVIEW) != merge
    assert signer.issue("merge_contacts", {**MERGE_ARGS, "source_contact_uuid": CONTACT_B}, PREVIEW) != merge
    assert Signer("other", 600, clock=clock).issue("merge_contacts", MERGE_ARGS, PREVIEW) != merge
    # The token carries no argument values in the clear.
    assert CONTACT_A not in merge and CONTACT_B not in merge


def test_a_token_carries_the_digest_of_its_preview() -> None:
    signer = Signer("k", 600)
    checked = signer.check(signer.issue("merge_contacts", MERGE_ARGS, PREVIEW), "merge_contacts", MERGE_ARGS)
    assert checked.stake == stake_digest(PREVIEW)
    assert checked.stake != stake_digest(PREVIEW + " Balance after: 12 credits.")
