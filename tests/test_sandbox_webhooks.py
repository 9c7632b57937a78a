"""The sandbox's webhook subscriptions (sandbox/webhooks.py) through OUR client, and the signed deliveries it sends.

CRUD with Piggy's shapes and codes (80300, 1003 for what cannot change or is missing); a credit reception, a voucher
redemption, a contact update and a reward reception each send one delivery per ACTIVE subscription of its event type,
signed over the exact body; inactive, deleted and other subscriptions get nothing; a receiver that fails does not
fail the request that caused the delivery; the default delivery posts over real HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from piggy_mcp.piggy import PiggyAPI, PiggyClient
from piggy_mcp.piggy.errors import InvalidInputError, NotFoundError
from piggy_mcp.sandbox import SEED, Sandbox, create_app, sandbox_of, serve_in_background
from piggy_mcp.sandbox.webhooks import Delivery
from tests.test_sandbox import KEY, ManualClock, settings

C, E = SEED.contacts, SEED.emails
SECRET = "fake-sandbox-webhook-secret-0123456789"
RECEIVER = "https://receiver.example.com/webhooks/piggy"


@dataclass
class Receiver:
    """A fake `deliver`: records what was posted, answers `status` (or raises `error`)."""

    status: int = 200
    error: Exception | None = None
    posted: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    async def __call__(self, url: str, headers: Mapping[str, str], body: bytes) -> int:
        self.posted.append((url, dict(headers), body))
        if self.error is not None:
            raise self.error
        return self.status


@dataclass
class Piggy:
    api: PiggyAPI
    client: PiggyClient
    sandbox: Sandbox
    receiver: Receiver

    async def deliveries(self) -> list[Delivery]:
        await self.sandbox.store.webhooks.drain()
        return list(self.sandbox.store.webhooks.deliveries)


@pytest.fixture
async def piggy() -> AsyncIterator[Piggy]:
    app = create_app(api_key=KEY, clock=ManualClock())
    receiver = Receiver()
    sandbox_of(app).store.webhooks.deliver = receiver
    async with PiggyClient(settings(), transport=httpx.ASGITransport(app)) as client:
        yield Piggy(PiggyAPI(client), client, sandbox_of(app), receiver)


def signed(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def award(piggy: Piggy, credits: int = 7) -> None:
    await piggy.api.create_credit_reception(C.sanne_store, SEED.shops.store, credits=credits)


# The endpoints ----------------------------------------------------------------------------------------------------


async def test_create_list_get_update_delete(piggy: Piggy) -> None:
    api = piggy.api
    created = await api.create_webhook_subscription("Fake hook", "voucher_redeemed", RECEIVER, SECRET)
    assert (created.name, created.event_type, created.url, created.status) == (
        "Fake hook",
        "voucher_redeemed",
        RECEIVER,
        "ACTIVE",
    )
    other = await api.create_webhook_subscription("Other", "contact_updated", RECEIVER, SECRET, ["firstname"])

    assert [s.uuid for s in await api.list_webhook_subscriptions()] == [created.uuid, other.uuid]
    assert [s.uuid for s in await api.list_webhook_subscriptions(event_type="contact_updated")] == [other.uuid]
    assert await api.get_webhook_subscription(created.uuid) == created

    paused = await api.update_webhook_subscription(created.uuid, status="INACTIVE", name="Renamed")
    assert (paused.status, paused.name, paused.url) == ("INACTIVE", "Renamed", RECEIVER)
    assert [s.uuid for s in await api.list_webhook_subscriptions(status="ACTIVE")] == [other.uuid]

    await api.delete_webhook_subscription(created.uuid)
    for gone in (api.get_webhook_subscription(created.uuid), api.delete_webhook_subscription(created.uuid)):
        with pytest.raises(NotFoundError) as caught:
            await gone
        assert caught.value.code == 80300


async def test_answers_have_piggys_shape_and_never_the_secret(piggy: Piggy) -> None:
    created = await piggy.api.create_webhook_subscription("Fake hook", "voucher_redeemed", RECEIVER, SECRET)
    listed = await piggy.client.get("/webhook-subscriptions")
    one = await piggy.client.get(f"/webhook-subscriptions/{created.uuid}")

    keys = {"uuid", "name", "event_type", "url", "status", "version", "created_at"}
    assert set(listed[0]) == keys and listed[0]["version"] == "V1"
    assert set(one) == keys | {"properties"} and one["properties"] == []
    assert SECRET not in json.dumps([listed, one])


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"name": "x", "event_type": "order_created", "url": RECEIVER}, "event_type"),
        ({"name": "x", "event_type": "voucher_redeemed", "url": "not a url"}, "url"),
        ({"event_type": "voucher_redeemed", "url": RECEIVER}, "name"),
        ({"name": "x", "event_type": "contact_updated", "url": RECEIVER, "attributes": ["no_such"]}, "attributes.0"),
    ],
    ids=["event-type", "url", "name", "attributes"],
)
async def test_create_validates_like_piggy(piggy: Piggy, body: dict[str, Any], key: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await piggy.client.send("POST", "/webhook-subscriptions", body)
    assert caught.value.code == 1003 and key in caught.value.field_errors
    assert not piggy.sandbox.store.webhooks.subscriptions


async def test_event_type_and_secret_cannot_change_and_contact_updated_needs_attributes(piggy: Piggy) -> None:
    sub = await piggy.api.create_webhook_subscription("Fake", "contact_updated", RECEIVER, SECRET, ["firstname"])
    path = f"/webhook-subscriptions/{sub.uuid}"
    changes: list[tuple[dict[str, Any], str]] = [
        ({"event_type": "voucher_redeemed", "attributes": ["firstname"]}, "event_type"),
        ({"secret": "another-secret", "attributes": ["firstname"]}, "secret"),
        ({"name": "Renamed"}, "attributes"),
    ]
    for body, key in changes:
        with pytest.raises(InvalidInputError) as caught:
            await piggy.client.send("PUT", path, body)
        assert key in caught.value.field_errors
    stored = piggy.sandbox.store.webhooks.subscriptions[sub.uuid]
    assert (stored.event_type, stored.secret, stored.name) == ("contact_updated", SECRET, "Fake")

    await piggy.api.update_webhook_subscription(sub.uuid, attributes=["firstname", "lastname"])
    assert stored.attributes == ["firstname", "lastname"]


# Deliveries -------------------------------------------------------------------------------------------------------


async def test_a_credit_reception_sends_one_signed_delivery(piggy: Piggy) -> None:
    await piggy.api.create_webhook_subscription("Fake", "credit_reception_created", RECEIVER, SECRET)
    await award(piggy)

    (delivery,) = await piggy.deliveries()
    ((url, headers, body),) = piggy.receiver.posted
    assert (url, delivery.status, delivery.error) == (RECEIVER, 200, None)
    assert headers == {"content-type": "application/json", "signature": signed(body)}
    payload = json.loads(body)
    assert payload["type"] == "credit_reception_created"
    reception, contact = payload["data"]["credit_reception"], payload["data"]["contact"]
    assert reception["credits"] == 7 and reception["created_at"] and reception["uuid"]
    assert contact == {"uuid": C.sanne_store, "email": E.sanne_store}


async def test_only_active_subscriptions_of_the_event_type_get_it(piggy: Piggy) -> None:
    api = piggy.api
    wanted = await api.create_webhook_subscription("Wanted", "credit_reception_created", RECEIVER, SECRET)
    paused = await api.create_webhook_subscription("Paused", "credit_reception_created", RECEIVER + "/paused", SECRET)
    await api.update_webhook_subscription(paused.uuid, status="INACTIVE")
    gone = await api.create_webhook_subscription("Gone", "credit_reception_created", RECEIVER + "/gone", SECRET)
    await api.delete_webhook_subscription(gone.uuid)
    await api.create_webhook_subscription("Other type", "voucher_redeemed", RECEIVER + "/vouchers", SECRET)

    await award(piggy)

    assert [d.subscription_uuid for d in await piggy.deliveries()] == [wanted.uuid]
    assert [url for url, _, _ in piggy.receiver.posted] == [RECEIVER]


async def test_no_subscription_no_delivery(piggy: Piggy) -> None:
    await award(piggy)
    assert await piggy.deliveries() == []
    assert piggy.receiver.posted == []


async def test_each_subscription_is_signed_with_its_own_secret(piggy: Piggy) -> None:
    await piggy.api.create_webhook_subscription("A", "credit_reception_created", RECEIVER, SECRET)
    await piggy.api.create_webhook_subscription("B", "credit_reception_created", RECEIVER + "/b", "another-fake-secret")
    await award(piggy)
    await piggy.deliveries()

    (_, first, body), (_, second, same_body) = piggy.receiver.posted
    assert body == same_body
    assert (first["signature"], second["signature"]) == (signed(body), signed(body, "another-fake-secret"))


async def test_a_voucher_redemption_sends_voucher_redeemed(piggy: Piggy) -> None:
    await piggy.api.create_webhook_subscription("Fake", "voucher_redeemed", RECEIVER, SECRET)
    await piggy.api.redeem_voucher(SEED.codes.active)

    (delivery,) = await piggy.deliveries()
    payload = json.loads(delivery.body)
    assert payload["type"] == "voucher_redeemed"
    voucher = payload["data"]["voucher"]
    assert (voucher["code"], voucher["status"], voucher["uuid"]) == (
        SEED.codes.active,
        "REDEEMED",
        SEED.vouchers.active,
    )
    assert payload["data"]["contact"]["uuid"]
    assert delivery.headers["signature"] == signed(delivery.body)


async def test_a_contact_update_sends_the_changed_attributes(piggy: Piggy) -> None:
    await piggy.api.create_webhook_subscription("Fake", "contact_updated", RECEIVER, SECRET, ["firstname"])
    await piggy.api.update_contact(C.sanne_store, {"firstname": "Sanna", "lastname": "de Vries"})  # lastname unchanged
    await piggy.api.update_contact(C.sanne_store, {"firstname": "Sanna"})  # no change: no event

    (delivery,) = await piggy.deliveries()
    assert json.loads(delivery.body) == {
        "type": "contact_updated",
        "data": {"contact": {"uuid": C.sanne_store, "email": E.sanne_store}, "attributes": {"firstname": "Sanna"}},
    }


async def test_a_reward_reception_sends_contact_updated_with_the_balance(piggy: Piggy) -> None:
    await piggy.api.create_webhook_subscription("Fake", "contact_updated", RECEIVER, SECRET, ["loyalty_balance"])
    before = await piggy.api.get_credit_balance(C.sanne_store)
    await piggy.api.create_reward_reception(C.sanne_store, SEED.rewards.espresso, SEED.shops.store)

    (delivery,) = await piggy.deliveries()
    data = json.loads(delivery.body)["data"]
    assert data["attributes"] == {"loyalty_balance": before - 50}
    assert data["contact"]["uuid"] == C.sanne_store


async def test_a_failing_receiver_does_not_fail_the_request(piggy: Piggy) -> None:
    await piggy.api.create_webhook_subscription("Fake", "credit_reception_created", RECEIVER, SECRET)
    piggy.receiver.error = httpx.ConnectError("refused")
    before = await piggy.api.get_credit_balance(C.sanne_store)

    await award(piggy)

    (delivery,) = await piggy.deliveries()
    assert (delivery.status, delivery.error) == (None, "ConnectError")
    assert await piggy.api.get_credit_balance(C.sanne_store) == before + 7


async def test_the_default_delivery_posts_over_http() -> None:
    received: list[tuple[dict[str, str], bytes]] = []

    async def hook(request: Request) -> Response:
        received.append((dict(request.headers), await request.body()))
        return Response(status_code=204)

    receiver = Starlette(routes=[Route("/webhooks/piggy", hook, methods=["POST"])])
    app = create_app(api_key=KEY, clock=ManualClock())
    with serve_in_background(receiver) as base_url:
        async with PiggyClient(settings(), transport=httpx.ASGITransport(app)) as client:
            api = PiggyAPI(client)
            await api.create_webhook_subscription(
                "Fake", "credit_reception_created", f"{base_url}/webhooks/piggy", SECRET
            )
            await api.create_credit_reception(C.sanne_store, SEED.shops.store, credits=3)
            await sandbox_of(app).store.webhooks.drain()

    ((headers, body),) = received
    assert headers["content-type"] == "application/json"
    assert headers["signature"] == signed(body)
    assert json.loads(body)["data"]["credit_reception"]["credits"] == 3
    assert sandbox_of(app).store.webhooks.deliveries[0].status == 204
