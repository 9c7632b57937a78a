"""`piggy-mcp webhooks sync` and `piggy-mcp webhooks list`: the subscriptions that bring Piggy's events here.

Sync makes Piggy hold one ACTIVE subscription per wanted event type, posting to `--url` and signed with
PIGGY_WEBHOOK_SECRET, and touches no subscription it did not create. Its own are recognised by name:
`piggy-mcp: <event type> [<tag>]`, where the tag is a keyed hash of the secret they were created with. Piggy never
shows a subscription's secret and cannot change it, so the tag is how a later run tells the subscriptions signed
with today's secret from those of an earlier one (rotating a secret means creating new subscriptions; see the
README's "Piggy's webhooks"). The tag says nothing of the secret itself.

A `contact_updated` subscription watches every contact attribute the account has: Piggy wants a list, and a fixed
list would miss each account's own fields. Piggy does not show what a subscription watches, so each run sets the
list again, and an attribute added since the last run is watched from the next.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from piggy_mcp.config import Settings
from piggy_mcp.piggy import PiggyAPI, PiggyClient, PiggyError
from piggy_mcp.piggy.webhooks import CONTACT_UPDATED, EVENT_TYPES, WebhookSubscription

if TYPE_CHECKING:
    import argparse

    import httpx

NAME_PREFIX = "piggy-mcp: "
EXAMPLE_URL = "https://mcp.example.com/webhooks/piggy"
Action = Literal["create", "activate", "update", "keep", "leave", "delete"]
# The order actions are taken in: new subscriptions exist before old ones go, so a move leaves no gap.
_ORDER: tuple[Action, ...] = ("create", "activate", "update", "keep", "leave", "delete")
_DONE: dict[Action, str] = {
    "create": "created",
    "activate": "reactivated",
    "update": "updated",
    "keep": "kept",
    "leave": "of ours left",
    "delete": "deleted",
}


def secret_tag(secret: str) -> str:
    """Six hex digits of an HMAC keyed with the secret: enough to tell two secrets apart, nothing to recover one."""
    return hmac.new(secret.encode(), b"piggy-mcp webhook subscription", hashlib.sha256).hexdigest()[:6]


def subscription_name(event_type: str, secret: str) -> str:
    return f"{NAME_PREFIX}{event_type} [{secret_tag(secret)}]"


@dataclass(frozen=True)
class Step:
    """One thing sync does (or, for `leave`, deliberately does not do) to one subscription."""

    action: Action
    event_type: str
    url: str
    uuid: str | None = None
    reason: str | None = None

    def line(self, *, dry_run: bool) -> str:
        text = f"{'would ' if dry_run else ''}{self.action:<8} {self.event_type:<27} {self.url}"
        if self.uuid:
            text += f"  {self.uuid}"
        return f"{text} ({self.reason})" if self.reason else text


def plan(
    existing: Sequence[WebhookSubscription], *, url: str, events: Sequence[str], secret: str, delete: bool = True
) -> list[Step]:
    """What makes `existing` hold exactly one active subscription of ours per event in `events`.

    Ours that match (same url, event type and secret tag) are kept, or reactivated (a contact_updated one gets the
    attributes it watches set again); ours that do not (at this url, or signed with this secret elsewhere) are
    deleted, or with `delete=False` left as they are (the first step of a rotation). Others' are never in the plan,
    nor are those of another secret at another url: another deployment's.
    """
    names = {event: subscription_name(event, secret) for event in events}
    tag = f"[{secret_tag(secret)}]"
    covered: set[str] = set()
    steps: list[Step] = []
    for sub in existing:
        name = sub.name or ""
        event, where = sub.event_type or "?", sub.url or "?"
        # Another secret at another URL is another deployment's (a staging server, another tenant on this account).
        if not name.startswith(NAME_PREFIX) or (where != url and not name.endswith(tag)):
            continue
        if where == url and names.get(event) == sub.name and event not in covered:
            covered.add(event)
            if sub.status != "ACTIVE":
                steps.append(Step("activate", event, where, sub.uuid))
            elif event == CONTACT_UPDATED:
                # Piggy does not show what it watches: it is set again, to the account's attributes of today.
                steps.append(Step("update", event, where, sub.uuid, "the attributes it watches"))
            else:
                steps.append(Step("keep", event, where, sub.uuid))
            continue
        if where != url:
            reason = "another url"
        elif event not in names:
            reason = "event not wanted"
        elif sub.name != names[event]:
            reason = "another secret"
        else:
            reason = "duplicate"
        steps.append(Step("delete" if delete else "leave", event, where, sub.uuid, reason))
    steps += [Step("create", event, url) for event in events if event not in covered]
    return sorted(steps, key=lambda step: _ORDER.index(step.action))


async def sync(
    api: PiggyAPI,
    *,
    url: str,
    events: Sequence[str],
    secret: str,
    dry_run: bool = False,
    delete: bool = True,
    echo: Callable[[str], None] = print,
) -> list[Step]:
    """Carry out `plan` against Piggy, echoing one line per step as it is done (or, in a dry run, would be)."""
    existing = await api.list_webhook_subscriptions()
    steps = plan(existing, url=url, events=events, secret=secret, delete=delete)
    attributes: list[str] | None = None
    done: list[Step] = []
    for step in steps:
        if not dry_run and step.action in ("create", "activate", "update") and step.event_type == CONTACT_UPDATED:
            # Piggy wants the attributes at creation and on every update of a contact_updated subscription: all of
            # the account's (decision D63).
            attributes = attributes or [a.name for a in await api.list_contact_attributes()]
        watched = attributes if step.event_type == CONTACT_UPDATED else None
        if dry_run or step.action in ("keep", "leave"):
            pass
        elif step.action == "create":
            name = subscription_name(step.event_type, secret)
            created = await api.create_webhook_subscription(name, step.event_type, url, secret, watched)
            step = replace(step, uuid=created.uuid)
        elif step.action in ("activate", "update"):
            assert step.uuid is not None
            await api.update_webhook_subscription(step.uuid, status="ACTIVE", attributes=watched)
        else:
            assert step.uuid is not None
            await api.delete_webhook_subscription(step.uuid)
        echo(step.line(dry_run=dry_run))
        done.append(step)
    counts = {action: sum(1 for step in done if step.action == action) for action in _ORDER}
    others = sum(1 for sub in existing if not (sub.name or "").startswith(NAME_PREFIX))
    told = ", ".join(f"{counts[action]} {_DONE[action]}" for action in _ORDER)
    summary = f"{told}; {others} of others left alone."
    echo(f"Dry run, nothing was changed: {summary}" if dry_run else summary)
    return done


def table(subscriptions: Sequence[WebhookSubscription]) -> list[str]:
    """The subscriptions as aligned text lines: no secret, since a subscription record holds none."""
    if not subscriptions:
        return ["No webhook subscriptions."]
    header = ("uuid", "status", "event_type", "url", "name")
    rows = [header] + [(s.uuid, s.status or "", s.event_type or "", s.url or "", s.name or "") for s in subscriptions]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    return ["  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]) for row in rows]


# The command line -------------------------------------------------------------------------------------------------


def run(settings: Settings, args: argparse.Namespace, *, transport: httpx.AsyncBaseTransport | None = None) -> int:
    """`piggy-mcp webhooks sync|list`: 0 when done, 1 when Piggy failed, 2 for input refused before sending."""
    if settings.sandbox:
        from piggy_mcp.sandbox.serving import sandboxed

        settings, transport = sandboxed(settings)
    try:
        if settings.api_key is None or not settings.api_key.get_secret_value():
            raise _Refused("PIGGY_API_KEY is not set: set it to the Piggy Personal Access Token of the account.")
        work = _print_list if args.webhooks_command == "list" else _sync_command(settings, args)
    except _Refused as refusal:
        print(f"piggy-mcp: {refusal}", file=sys.stderr)
        return 2
    return asyncio.run(_against_piggy(settings, transport, work))


class _Refused(Exception):
    """Input refused, in one sentence, before anything was sent."""


def _sync_command(settings: Settings, args: argparse.Namespace) -> Callable[[PiggyAPI], Awaitable[object]]:
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret is not None else ""
    if not secret:
        raise _Refused(
            "PIGGY_WEBHOOK_SECRET is not set: set it to the secret this server verifies Piggy's deliveries with, "
            "then sync again (nothing was changed)."
        )
    url = str(args.url).strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise _Refused(f"--url must be an http(s) URL without credentials, such as {EXAMPLE_URL}, not {url!r}.")
    named = (args.events or ",".join(EVENT_TYPES)).split(",")
    events = list(dict.fromkeys(event.strip() for event in named if event.strip()))
    unknown = [event for event in events if event not in EVENT_TYPES]
    if unknown or not events:
        wrong = ", ".join(unknown) or "nothing"
        raise _Refused(f"--events takes Piggy's event types ({', '.join(EVENT_TYPES)}), not {wrong}.")
    return lambda api: sync(api, url=url, events=events, secret=secret, dry_run=args.dry_run, delete=not args.no_delete)


async def _print_list(api: PiggyAPI) -> None:
    for line in table(await api.list_webhook_subscriptions()):
        print(line)


async def _against_piggy(
    settings: Settings, transport: httpx.AsyncBaseTransport | None, work: Callable[[PiggyAPI], Awaitable[object]]
) -> int:
    async with PiggyClient(settings, transport=transport) as client:
        try:
            await work(PiggyAPI(client, default_shop=settings.shop_uuid))
        except PiggyError as exc:
            print(f"piggy-mcp: {exc}", file=sys.stderr)
            return 1
    return 0
