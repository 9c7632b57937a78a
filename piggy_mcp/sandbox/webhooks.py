"""Webhook subscriptions in the sandbox, and the signed deliveries it sends when its own state changes.

The endpoints answer with Piggy's documented object (`uuid, name, event_type, url, status, version, created_at`;
the single get adds `properties: []`) and never with the secret. Unknown subscriptions are 80300; `event_type` and
`secret` cannot be changed (refused as invalid input, like a booking's fixed fields); `attributes` are required on
update for `contact_updated`, and accepted at creation.

Deliveries: the store calls `WebhookBook.emit(event_type, data)` where a credit reception, a voucher redemption or a
contact update is booked. Every ACTIVE subscription of that type gets a POST of `{"type": ..., "data": ...}` as
compact JSON, with `content-type: application/json` and `signature`: the hex HMAC-SHA256 of the exact body under
its secret (no header when it has none: there is nothing to sign with). A reward reception sends `contact_updated`
with the new `loyalty_balance`, since Piggy documents no event for it and the balance changed (a sandbox choice).
Which attributes a `contact_updated` subscription watches is recorded, not used: each gets every contact update.

A delivery never blocks or fails the request that caused it: it is an asyncio task (httpx, a short timeout) whose
failure is logged and dropped. `deliveries` records each attempt and its outcome; `await drain()` waits for those
in flight; `deliver` may be replaced (tests) by any async callable taking the url, headers and body.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from piggy_mcp.sandbox.errors import ApiError
from piggy_mcp.sandbox.inputs import Fields

if TYPE_CHECKING:
    from piggy_mcp.sandbox.records import Contact, Transaction, Voucher
    from piggy_mcp.sandbox.routes import Call, Handler, Result

log = logging.getLogger(__name__)

# The twelve documented event types (piggy/webhooks.py holds the client's copy; the sandbox stands alone).
EVENT_TYPES = (
    "contact_created",
    "contact_updated",
    "credit_reception_created",
    "prepaid_transaction_created",
    "voucher_created",
    "voucher_updated",
    "voucher_redeemed",
    "form_submission_completed",
    "referral_completed",
    "contact_identifier_created",
    "reward_updated",
    "promotion_updated",
)
STATUSES = ("ACTIVE", "INACTIVE")
NOT_FOUND = 80300
KEPT_DELIVERIES = 1000
DELIVERY_TIMEOUT = 5.0  # seconds; the receiver answers at once or not at all

# (url, headers, body) -> the receiver's HTTP status
Deliver = Callable[[str, Mapping[str, str], bytes], Awaitable[int]]


async def post(url: str, headers: Mapping[str, str], body: bytes) -> int:
    """The default delivery: one POST over httpx, no retry (Piggy documents none)."""
    import httpx

    async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT) as http:
        response = await http.post(url, content=body, headers=dict(headers))
    return response.status_code


def signature(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Subscription:
    uuid: str
    name: str
    event_type: str
    url: str
    secret: str | None
    status: str
    attributes: list[str]
    created_at: datetime


@dataclass
class Delivery:
    """One attempted delivery: what was sent, and how it went (`status` from the receiver, or `error`)."""

    subscription_uuid: str
    event_type: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None
    error: str | None = None


@dataclass
class WebhookBook:
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    # The latest attempts only: a sandbox serving for days must not keep every body it ever sent.
    deliveries: deque[Delivery] = field(default_factory=lambda: deque(maxlen=KEPT_DELIVERIES))
    deliver: Deliver = post
    _in_flight: set[asyncio.Task[None]] = field(default_factory=set, init=False, repr=False)

    def emit(self, event_type: str, data: Mapping[str, Any]) -> None:
        """Send `{"type": event_type, "data": data}` to every active subscription of that type, in the background."""
        body = json.dumps({"type": event_type, "data": data}, separators=(",", ":")).encode()
        for sub in self.subscriptions.values():
            if sub.event_type != event_type or sub.status != "ACTIVE":
                continue
            headers = {"content-type": "application/json"}
            if sub.secret:
                headers["signature"] = signature(body, sub.secret)
            delivery = Delivery(sub.uuid, event_type, sub.url, headers, body)
            self.deliveries.append(delivery)
            try:
                task = asyncio.get_running_loop().create_task(self._send(delivery))
            except RuntimeError:  # the store used outside an event loop (a script, a sync test): nothing to send on
                delivery.error = "no event loop"
                continue
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _send(self, delivery: Delivery) -> None:
        try:
            delivery.status = await self.deliver(delivery.url, delivery.headers, delivery.body)
        except Exception as exc:  # any failure of the receiver's side is its own: logged and dropped
            delivery.error = type(exc).__name__
            log.info("sandbox webhook %s to %s failed: %s", delivery.event_type, delivery.url, delivery.error)

    async def drain(self) -> None:
        """Wait until every delivery sent so far has been answered or has failed."""
        while self._in_flight:
            await asyncio.gather(*self._in_flight)


# What each event's data carries: the entity, and its contact. -------------------------------------------------


def _when(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def credit_reception_data(reception: Transaction, contact: Contact) -> dict[str, Any]:
    return {
        "credit_reception": {
            "uuid": reception.uuid,
            "credits": reception.credits,
            "unit_value": reception.unit_value,
            "created_at": _when(reception.created_at),
            "shop": {"uuid": reception.shop_uuid},
        },
        "contact": {"uuid": contact.uuid, "email": contact.email},
    }


def voucher_redeemed_data(voucher: Voucher) -> dict[str, Any]:
    return {
        "voucher": {
            "uuid": voucher.uuid,
            "code": voucher.code,
            "status": voucher.status,
            "redeemed_at": _when(voucher.redeemed_at),
            "promotion": {"uuid": voucher.promotion_uuid},
        },
        "contact": {"uuid": voucher.contact_uuid},
    }


def contact_updated_data(contact: Contact, changed: Mapping[str, Any]) -> dict[str, Any]:
    return {"contact": {"uuid": contact.uuid, "email": contact.email}, "attributes": dict(changed)}


# The endpoints ---------------------------------------------------------------------------------------------------


def _json(s: Subscription) -> dict[str, Any]:
    return {
        "uuid": s.uuid,
        "name": s.name,
        "event_type": s.event_type,
        "url": s.url,
        "status": s.status,
        "version": "V1",
        "created_at": _when(s.created_at),
    }


def _subscription(call: Call) -> Subscription:
    found = call.store.webhooks.subscriptions.get(call.path_params["uuid"].lower())
    if found is None:
        raise ApiError(NOT_FOUND, "Webhook subscription not found")
    return found


def _url(f: Fields, *, required: bool) -> str | None:
    url = f.string("url", required=required, max_length=2048)
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            f.fail("url", "The url must be a valid URL.")
            return None
    return url


def _attribute_names(call: Call, f: Fields, *, required: bool) -> list[str] | None:
    raw = f.array("attributes", required=required)
    if raw is None:
        return None
    known = {a.name for a in call.store.attributes}
    for i, name in enumerate(raw):
        if not isinstance(name, str) or name not in known:
            f.fail(f"attributes.{i}", f"The selected attributes.{i} is invalid.")
    return [name for name in raw if isinstance(name, str)]


def list_subscriptions(call: Call) -> Result:
    f = Fields(call.query)
    event_type = f.choice("event_type", EVENT_TYPES)
    status = f.choice("status", STATUSES)
    f.check()
    found = [
        s
        for s in call.store.webhooks.subscriptions.values()
        if (event_type is None or s.event_type == event_type) and (status is None or s.status == status)
    ]
    return [_json(s) for s in found], []


def create_subscription(call: Call) -> Result:
    f = Fields(call.body)
    name = f.string("name", required=True)
    event_type = f.choice("event_type", EVENT_TYPES, required=True)
    url = _url(f, required=True)
    secret = f.string("secret")
    status = f.choice("status", STATUSES)
    attributes = _attribute_names(call, f, required=False)
    f.check()
    assert name is not None and event_type is not None and url is not None
    s = call.store
    sub = Subscription(
        s.new_uuid("webhook-subscription"), name, event_type, url, secret, status or "ACTIVE", attributes or [], s.now()
    )
    s.webhooks.subscriptions[sub.uuid] = sub
    return _json(sub), []


def get_subscription(call: Call) -> Result:
    return {**_json(_subscription(call)), "properties": []}, []


def update_subscription(call: Call) -> Result:
    sub = _subscription(call)
    f = Fields(call.body)
    for fixed in ("event_type", "secret"):
        if fixed in call.body:
            f.fail(fixed, f"The {fixed.replace('_', ' ')} of a webhook subscription cannot be changed.")
    name = f.string("name")
    url = _url(f, required=False)
    status = f.choice("status", STATUSES)
    if sub.event_type == "contact_updated" and not call.body.get("attributes"):
        f.fail("attributes", "The attributes field is required when event type is contact_updated.")
    attributes = _attribute_names(call, f, required=False)
    f.check()
    sub.name, sub.url, sub.status = name or sub.name, url or sub.url, status or sub.status
    if attributes is not None:
        sub.attributes = attributes
    return _json(sub), []


def delete_subscription(call: Call) -> Result:
    sub = _subscription(call)
    del call.store.webhooks.subscriptions[sub.uuid]
    return [], []


ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/webhook-subscriptions", list_subscriptions),
    ("POST", "/webhook-subscriptions", create_subscription),
    ("GET", "/webhook-subscriptions/{uuid}", get_subscription),
    ("PUT", "/webhook-subscriptions/{uuid}", update_subscription),
    ("DELETE", "/webhook-subscriptions/{uuid}", delete_subscription),
]
