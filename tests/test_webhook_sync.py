"""`piggy-mcp webhooks sync` and `list` (events/sync.py), against the sandbox.

Sync creates one subscription per wanted event type, named so that a later run knows it and its secret; keeps its
own that match, reactivates them when inactive, deletes its own stale ones (another url, an event no longer wanted,
another secret, a duplicate) and leaves everyone else's alone; a dry run changes nothing; the rotation recipe of the
README loses no delivery. Through `piggy_mcp.cli.main`: against a sandbox served over HTTP, the refusals in one
sentence with nothing sent, and `list`'s table; the secret shows up nowhere.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from piggy_mcp.cli import main
from piggy_mcp.events.sync import NAME_PREFIX, Step, secret_tag, subscription_name, sync
from piggy_mcp.piggy import PiggyAPI, PiggyClient
from piggy_mcp.piggy.webhooks import EVENT_TYPES
from piggy_mcp.sandbox import SEED, Sandbox, create_app, sandbox_of, serve_in_background
from piggy_mcp.sandbox.webhooks import Subscription
from tests.test_sandbox import KEY, ManualClock, settings

URL = "https://mcp.example.com/webhooks/piggy"
OLD_URL = "https://old.example.com/webhooks/piggy"
SECRET = "fake-webhook-secret-for-sync-0123456789"
NEW_SECRET = "fake-rotated-webhook-secret-9876543210"


@dataclass
class Piggy:
    api: PiggyAPI
    sandbox: Sandbox
    lines: list[str] = field(default_factory=list)

    @property
    def subscriptions(self) -> list[Subscription]:
        return list(self.sandbox.store.webhooks.subscriptions.values())

    async def sync(self, **overrides: Any) -> list[Step]:
        self.lines.clear()
        arguments: dict[str, Any] = {"url": URL, "events": EVENT_TYPES, "secret": SECRET, **overrides}
        return await sync(self.api, echo=self.lines.append, **arguments)


@pytest.fixture
async def piggy() -> AsyncIterator[Piggy]:
    app = create_app(api_key=KEY, clock=ManualClock())
    async with PiggyClient(settings(), transport=httpx.ASGITransport(app)) as client:
        yield Piggy(PiggyAPI(client), sandbox_of(app))


def actions(steps: list[Step]) -> list[tuple[str, str]]:
    return [(step.action, step.event_type) for step in steps]


async def test_sync_creates_one_subscription_per_event_type(piggy: Piggy) -> None:
    steps = await piggy.sync()

    assert actions(steps) == [("create", event) for event in EVENT_TYPES]
    subs = piggy.subscriptions
    assert [s.event_type for s in subs] == list(EVENT_TYPES)
    assert {(s.url, s.secret, s.status) for s in subs} == {(URL, SECRET, "ACTIVE")}
    assert [s.name for s in subs] == [f"piggy-mcp: {event} [{secret_tag(SECRET)}]" for event in EVENT_TYPES]
    (watching,) = [s for s in subs if s.event_type == "contact_updated"]
    assert watching.attributes == [a.name for a in piggy.sandbox.store.attributes]  # every attribute of the account
    assert all(not s.attributes for s in subs if s is not watching)
    assert len(piggy.lines) == 13 and piggy.lines[0].startswith("create   contact_created")
    assert piggy.lines[-1] == (
        "12 created, 0 reactivated, 0 updated, 0 kept, 0 of ours left, 0 deleted; 0 of others left alone."
    )


async def test_a_second_sync_keeps_what_matches(piggy: Piggy) -> None:
    await piggy.sync()
    before = [s.uuid for s in piggy.subscriptions]

    watching = next(s for s in piggy.subscriptions if s.event_type == "contact_updated")
    watching.attributes = ["firstname"]  # an attribute list of an earlier day

    steps = await piggy.sync()

    # contact_updated is kept too, with the attributes it watches set again: Piggy does not show them.
    assert actions(steps) == [("update", "contact_updated")] + [
        ("keep", event) for event in EVENT_TYPES if event != "contact_updated"
    ]
    assert [s.uuid for s in piggy.subscriptions] == before
    assert watching.attributes == [a.name for a in piggy.sandbox.store.attributes]
    assert piggy.lines[-1].startswith("0 created, 0 reactivated, 1 updated, 11 kept, 0 of ours left, 0 deleted")


async def test_others_subscriptions_are_left_alone(piggy: Piggy) -> None:
    theirs = await piggy.api.create_webhook_subscription("Zapier: vouchers", "voucher_redeemed", URL, "their-secret")
    elsewhere = await piggy.api.create_webhook_subscription("CRM", "contact_created", OLD_URL)

    steps = await piggy.sync(events=["voucher_redeemed"])

    assert actions(steps) == [("create", "voucher_redeemed")]
    assert {theirs.uuid, elsewhere.uuid} <= {s.uuid for s in piggy.subscriptions}
    assert piggy.lines[-1].endswith("; 2 of others left alone.")
    assert all(theirs.uuid not in line and elsewhere.uuid not in line for line in piggy.lines)


async def test_another_deployments_subscriptions_are_left_alone(piggy: Piggy) -> None:
    # Staging, or another tenant on this account: our name, another secret, another URL.
    other = "another-deployments-secret"
    staging = await piggy.api.create_webhook_subscription(
        subscription_name("voucher_redeemed", other), "voucher_redeemed", OLD_URL, other
    )

    steps = await piggy.sync(events=["voucher_redeemed"])

    assert actions(steps) == [("create", "voucher_redeemed")]
    assert staging.uuid in {s.uuid for s in piggy.subscriptions}


async def test_stale_ones_of_ours_are_deleted(piggy: Piggy) -> None:
    await piggy.sync(url=OLD_URL, events=["voucher_redeemed", "contact_updated"])
    await piggy.sync(events=["voucher_redeemed", "credit_reception_created"])

    assert sorted((s.event_type, s.url) for s in piggy.subscriptions) == [
        ("credit_reception_created", URL),
        ("voucher_redeemed", URL),
    ]
    # New ones first, so that a move leaves no gap.
    assert [line.split()[0] for line in piggy.lines[:-1]] == ["create", "create", "delete", "delete"]
    assert "(another url)" in piggy.lines[2] and "(another url)" in piggy.lines[3]

    await piggy.sync(events=["voucher_redeemed"])
    assert piggy.lines[-2].startswith("delete   credit_reception_created") and "(event not wanted)" in piggy.lines[-2]
    assert [s.event_type for s in piggy.subscriptions] == ["voucher_redeemed"]


async def test_inactive_ones_are_reactivated_and_duplicates_deleted(piggy: Piggy) -> None:
    await piggy.sync(events=["contact_updated", "voucher_redeemed"])
    watching = next(s for s in piggy.subscriptions if s.event_type == "contact_updated")
    watching.status = "INACTIVE"
    name = subscription_name("voucher_redeemed", SECRET)
    twin = await piggy.api.create_webhook_subscription(name, "voucher_redeemed", URL, SECRET)

    steps = await piggy.sync(events=["contact_updated", "voucher_redeemed"])

    assert actions(steps) == [
        ("activate", "contact_updated"),
        ("keep", "voucher_redeemed"),
        ("delete", "voucher_redeemed"),
    ]
    assert watching.status == "ACTIVE"
    assert steps[-1].uuid == twin.uuid and steps[-1].reason == "duplicate"
    assert len(piggy.subscriptions) == 2


async def test_a_dry_run_changes_nothing(piggy: Piggy) -> None:
    await piggy.sync(url=OLD_URL, events=["voucher_redeemed"])
    before = [(s.uuid, s.url, s.status) for s in piggy.subscriptions]
    piggy.sandbox.clear_requests()

    steps = await piggy.sync(events=["voucher_redeemed", "contact_updated"], dry_run=True)

    assert actions(steps) == [
        ("create", "voucher_redeemed"),
        ("create", "contact_updated"),
        ("delete", "voucher_redeemed"),
    ]
    assert [(s.uuid, s.url, s.status) for s in piggy.subscriptions] == before
    assert [r.method for r in piggy.sandbox.requests] == ["GET"]
    assert all(line.startswith("would ") for line in piggy.lines[:-1])
    assert piggy.lines[-1].startswith("Dry run, nothing was changed: 2 created")


async def test_rotating_the_secret_loses_no_delivery(piggy: Piggy) -> None:
    """The README's recipe: sync with the new secret and --no-delete, deploy it, sync again."""
    await piggy.sync(events=["credit_reception_created"])
    piggy.sandbox.store.webhooks.deliver = _accept

    steps = await piggy.sync(events=["credit_reception_created"], secret=NEW_SECRET, delete=False)
    assert actions(steps) == [("create", "credit_reception_created"), ("leave", "credit_reception_created")]
    assert steps[1].reason == "another secret"

    # Meanwhile each event goes out twice, once signed with each secret: whichever the server holds verifies one.
    await piggy.api.create_credit_reception(SEED.contacts.emma, SEED.shops.store, credits=2)
    await piggy.sandbox.store.webhooks.drain()
    signatures = {d.headers["signature"] for d in piggy.sandbox.store.webhooks.deliveries}
    body = piggy.sandbox.store.webhooks.deliveries[0].body
    assert signatures == {_signed(body, SECRET), _signed(body, NEW_SECRET)}

    steps = await piggy.sync(events=["credit_reception_created"], secret=NEW_SECRET)
    assert actions(steps) == [("keep", "credit_reception_created"), ("delete", "credit_reception_created")]
    assert [s.secret for s in piggy.subscriptions] == [NEW_SECRET]


async def _accept(url: str, headers: Any, body: bytes) -> int:
    return 200


def _signed(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# Through the command line ---------------------------------------------------------------------------------------


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A sandbox over real HTTP, and the environment that points piggy-mcp at it."""
    sandbox = Sandbox(api_key=KEY)
    with serve_in_background(create_app(sandbox=sandbox)) as base_url:
        monkeypatch.setenv("PIGGY_BASE_URL", base_url)
        monkeypatch.setenv("PIGGY_API_KEY", KEY)
        monkeypatch.setenv("PIGGY_WEBHOOK_SECRET", SECRET)
        yield sandbox


def test_the_command_syncs_and_lists(served: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["webhooks", "sync", "--url", URL, "--events", "voucher_redeemed,contact_updated"]) == 0
    synced = capsys.readouterr()
    assert synced.out.splitlines()[:2] == [
        f"create   voucher_redeemed            {URL}  {_uuid_of(served, 'voucher_redeemed')}",
        f"create   contact_updated             {URL}  {_uuid_of(served, 'contact_updated')}",
    ]
    assert [s.event_type for s in served.store.webhooks.subscriptions.values()] == [
        "voucher_redeemed",
        "contact_updated",
    ]

    assert main(["webhooks", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split() == ["uuid", "status", "event_type", "url", "name"]
    assert listed[1].split()[:4] == [_uuid_of(served, "voucher_redeemed"), "ACTIVE", "voucher_redeemed", URL]
    assert listed[1].endswith(subscription_name("voucher_redeemed", SECRET))
    assert SECRET not in synced.out + synced.err + "\n".join(listed)


def test_a_dry_run_from_the_command_line(served: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["webhooks", "sync", "--url", URL, "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 13 and out[0].startswith("would create")
    assert not served.store.webhooks.subscriptions


@pytest.mark.parametrize(
    ("argv", "unset", "sentence"),
    [
        (["webhooks", "sync", "--url", URL], "PIGGY_WEBHOOK_SECRET", "PIGGY_WEBHOOK_SECRET is not set"),
        (["webhooks", "sync", "--url", URL], "PIGGY_API_KEY", "PIGGY_API_KEY is not set"),
        (["webhooks", "sync", "--url", "mcp.example.com/webhooks"], None, "--url must be an http(s) URL"),
        (["webhooks", "sync", "--url", "https://u:p@mcp.example.com/x"], None, "without credentials"),
        (["webhooks", "sync", "--url", URL, "--events", "voucher_redeemed,order_created"], None, "not order_created"),
        (["webhooks", "sync", "--url", URL, "--events", ","], None, "not nothing"),
    ],
    ids=["no-secret", "no-api-key", "bad-url", "url-credentials", "unknown-event", "no-event"],
)
def test_bad_input_is_refused_in_one_sentence_with_nothing_sent(
    served: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    unset: str | None,
    sentence: str,
) -> None:
    if unset:
        monkeypatch.delenv(unset)

    assert main(argv) == 2

    err = capsys.readouterr().err.strip()
    assert err.startswith("piggy-mcp: ") and sentence in err and err.count(". ") == 0, err
    assert served.requests == []


def test_piggys_refusal_is_reported(served: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    served.maintenance(times=5)
    assert main(["webhooks", "list"]) == 1
    assert "maintenance" in capsys.readouterr().err


def test_list_against_the_built_in_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--sandbox", "webhooks", "list"]) == 0
    assert capsys.readouterr().out == "No webhook subscriptions.\n"


def _uuid_of(sandbox: Sandbox, event_type: str) -> str:
    return next(s.uuid for s in sandbox.store.webhooks.subscriptions.values() if s.event_type == event_type)


def test_names_carry_the_prefix_and_a_tag_not_the_secret() -> None:
    name = subscription_name("voucher_redeemed", SECRET)
    assert name.startswith(NAME_PREFIX) and SECRET not in name
    assert secret_tag(SECRET) != secret_tag(NEW_SECRET) and len(secret_tag(SECRET)) == 6
    assert json.dumps(name).isascii()
