"""Webhook subscriptions (piggy/webhooks.py): the exact paths, queries and bodies of shared/piggy-api.md §7.8, the
records made of Piggy's answers (never holding a secret), and bad input refused before anything is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import respx

from piggy_mcp.piggy import PiggyAPI, PiggyClient
from piggy_mcp.piggy.errors import InvalidInputError, NotFoundError
from piggy_mcp.piggy.webhooks import EVENT_TYPES
from tests.conftest import make_settings
from tests.helpers import assert_get, assert_write, envelope, piggy_error, the_request

SUBSCRIPTION = "99999999-9999-4999-8999-999999999999"
URL = "https://mcp.example.com/webhooks/piggy"
SECRET = "fake-webhook-secret-not-real"


def subscription(event_type: str = "voucher_redeemed", **changes: Any) -> dict[str, Any]:
    """A subscription as Piggy answers with it; `secret` is there to prove it is dropped, should Piggy echo it."""
    return {
        "uuid": SUBSCRIPTION,
        "name": "Fake hook",
        "event_type": event_type,
        "url": URL,
        "status": "ACTIVE",
        "version": "V1",
        "created_at": "2026-01-01T00:00:00+00:00",
        "secret": SECRET,
        **changes,
    }


SHAPED = {
    "uuid": SUBSCRIPTION,
    "name": "Fake hook",
    "event_type": "voucher_redeemed",
    "url": URL,
    "status": "ACTIVE",
    "created_at": "2026-01-01T00:00:00+00:00",
}


@pytest.fixture
async def api() -> AsyncIterator[PiggyAPI]:
    async with PiggyClient(make_settings()) as client:
        yield PiggyAPI(client)


def test_the_twelve_documented_event_types() -> None:
    assert len(EVENT_TYPES) == len(set(EVENT_TYPES)) == 12
    assert {"contact_updated", "credit_reception_created", "voucher_redeemed"} <= set(EVENT_TYPES)


@pytest.mark.parametrize(
    ("filters", "params"),
    [
        ({}, []),
        (
            {"event_type": "voucher_redeemed", "status": "ACTIVE"},
            [("event_type", "voucher_redeemed"), ("status", "ACTIVE")],
        ),
    ],
    ids=["all", "filtered"],
)
async def test_list(
    piggy: respx.MockRouter, api: PiggyAPI, filters: dict[str, str], params: list[tuple[str, str]]
) -> None:
    route = piggy.get("/webhook-subscriptions").respond(200, json=envelope([subscription()]))

    found = await api.list_webhook_subscriptions(**filters)

    assert_get(the_request(route), "/webhook-subscriptions", params)
    assert [s.model_dump() for s in found] == [SHAPED]
    assert SECRET not in repr(found)


async def test_create_sends_name_type_url_and_secret(piggy: respx.MockRouter, api: PiggyAPI) -> None:
    route = piggy.post("/webhook-subscriptions").respond(200, json=envelope(subscription()))

    created = await api.create_webhook_subscription("Fake hook", "voucher_redeemed", URL, SECRET)

    sent = {"name": "Fake hook", "event_type": "voucher_redeemed", "url": URL, "secret": SECRET}
    assert_write(the_request(route), "POST", "/webhook-subscriptions", sent)
    assert created.model_dump() == SHAPED


async def test_create_contact_updated_sends_its_attributes(piggy: respx.MockRouter, api: PiggyAPI) -> None:
    route = piggy.post("/webhook-subscriptions").respond(200, json=envelope(subscription("contact_updated")))

    await api.create_webhook_subscription("Fake hook", "contact_updated", URL, SECRET, ["firstname", "loyalty_balance"])

    sent = {
        "name": "Fake hook",
        "event_type": "contact_updated",
        "url": URL,
        "secret": SECRET,
        "attributes": ["firstname", "loyalty_balance"],
    }
    assert_write(the_request(route), "POST", "/webhook-subscriptions", sent)


async def test_get(piggy: respx.MockRouter, api: PiggyAPI) -> None:
    route = piggy.get(f"/webhook-subscriptions/{SUBSCRIPTION}").respond(200, json=envelope(subscription(properties=[])))

    found = await api.get_webhook_subscription(SUBSCRIPTION.upper())

    assert_get(the_request(route), f"/webhook-subscriptions/{SUBSCRIPTION}")
    assert found.model_dump() == SHAPED


async def test_update_sends_only_what_changes(piggy: respx.MockRouter, api: PiggyAPI) -> None:
    route = piggy.put(f"/webhook-subscriptions/{SUBSCRIPTION}").respond(
        200, json=envelope(subscription(status="INACTIVE"))
    )

    updated = await api.update_webhook_subscription(SUBSCRIPTION, status="INACTIVE", attributes=["firstname"])

    assert_write(
        the_request(route),
        "PUT",
        f"/webhook-subscriptions/{SUBSCRIPTION}",
        {"status": "INACTIVE", "attributes": ["firstname"]},
    )
    assert updated.status == "INACTIVE"


async def test_delete(piggy: respx.MockRouter, api: PiggyAPI) -> None:
    route = piggy.delete(f"/webhook-subscriptions/{SUBSCRIPTION}").respond(200, json={"data": [], "meta": []})

    await api.delete_webhook_subscription(SUBSCRIPTION)

    request = the_request(route)
    assert (request.method, request.url.path, request.content) == (
        "DELETE",
        f"/api/v3/oauth/clients/webhook-subscriptions/{SUBSCRIPTION}",
        b"",
    )


async def test_an_unknown_subscription_is_not_found(piggy: respx.MockRouter, api: PiggyAPI) -> None:
    piggy.get(f"/webhook-subscriptions/{SUBSCRIPTION}").mock(
        return_value=piggy_error(80300, "Webhook subscription not found")
    )
    with pytest.raises(NotFoundError) as caught:
        await api.get_webhook_subscription(SUBSCRIPTION)
    assert caught.value.code == 80300


BAD_CALLS: dict[str, Callable[[PiggyAPI], Awaitable[Any]]] = {
    "list.event_type": lambda api: api.list_webhook_subscriptions(event_type="order_created"),
    "list.status": lambda api: api.list_webhook_subscriptions(status="active"),
    "create.event_type": lambda api: api.create_webhook_subscription("x", "order_created", URL, SECRET),
    "create.contact_updated_without_attributes": lambda api: api.create_webhook_subscription(
        "x", "contact_updated", URL, SECRET
    ),
    "create.attributes_for_another_type": lambda api: api.create_webhook_subscription(
        "x", "voucher_redeemed", URL, SECRET, ["firstname"]
    ),
    "get.path": lambda api: api.get_webhook_subscription("../contacts"),
    "update.nothing": lambda api: api.update_webhook_subscription(SUBSCRIPTION),
    "update.status": lambda api: api.update_webhook_subscription(SUBSCRIPTION, status="PAUSED"),
    "delete.path": lambda api: api.delete_webhook_subscription(f"{SUBSCRIPTION}/../x"),
}


@pytest.mark.parametrize("call", list(BAD_CALLS), ids=list(BAD_CALLS))
async def test_bad_input_is_refused_with_nothing_sent(piggy: respx.MockRouter, api: PiggyAPI, call: str) -> None:
    with pytest.raises(InvalidInputError):
        await BAD_CALLS[call](api)
    assert not piggy.calls
