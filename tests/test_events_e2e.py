"""Piggy's events, live in the agent, end to end over real processes: the sandbox sends signed webhooks to the
server it backs (`piggy-mcp --sandbox --transport http`), clients of both protocol eras subscribed to a member hear
of a credit reception, forged deliveries are refused, and with Redis an event reaching one replica is heard by the
clients of another."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from mcp.client.subscriptions import Subscription
from mcp.server.subscriptions import ResourceUpdated
from mcp.types import ResourceUpdatedNotification, ServerNotification, SubscribeRequest, SubscribeRequestParams
from mcp_types import EmptyResult

from piggy_mcp.resource_uris import RECENT_EVENTS, contact_uri
from piggy_mcp.sandbox.seed import SEED
from tests.helpers import structured, text_of
from tests.servers import SESSION_DEADLINE, HttpServer, connect_http, http_server

SECRET = "fake-webhook-secret-of-the-replicas"
SANNE = SEED.contacts.sanne_store
HEARD_WITHIN = 5.0  # seconds: the issue asks for a second; a loaded CI machine gets some slack


class Heard:
    """The resource updates an older client's session received."""

    def __init__(self) -> None:
        self.uris: list[str] = []
        self.changed = anyio.Event()

    async def __call__(self, message: ServerNotification | Exception) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            self.uris.append(message.params.uri)
            self.changed.set()

    async def until(self, uri: str) -> None:
        with anyio.fail_after(HEARD_WITHIN):
            while uri not in self.uris:
                await self.changed.wait()
                self.changed = anyio.Event()


async def next_update(subscription: Subscription) -> object:
    with anyio.fail_after(HEARD_WITHIN):
        return await anext(subscription)


def env(workdir: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "PIGGY_SANDBOX": "true",
        "PIGGY_MCP_HTTP_SESSIONS": "true",
        "PIGGY_MCP_STATE_DIR": str(workdir / "state"),
        **extra,
    }


@pytest.fixture(scope="module")
def sandboxed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    workdir = tmp_path_factory.mktemp("events")
    with http_server(env(workdir), workdir) as server:
        yield server


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"signature": signature, "content-type": "application/json"}


async def award(url: str, credits: int) -> None:
    arguments = {"contact_uuid": SANNE, "shop_uuid": SEED.shops.store, "credits": credits}
    async with connect_http(url, None) as client:
        result = await client.call_tool("create_credit_reception", arguments)
    assert not result.is_error, text_of(result)


async def test_both_eras_hear_of_a_credit_reception_made_in_the_sandbox(sandboxed: HttpServer) -> None:
    heard = Heard()
    card = contact_uri(SANNE)
    with anyio.fail_after(SESSION_DEADLINE):
        async with (
            connect_http(sandboxed.mcp_url, None) as listening,
            listening.listen(resource_subscriptions=[card, RECENT_EVENTS]) as subscription,
            connect_http(sandboxed.mcp_url, None, mode="legacy", message_handler=heard) as older,
        ):
            await older.session.send_request(SubscribeRequest(params=SubscribeRequestParams(uri=card)), EmptyResult)
            await award(sandboxed.mcp_url, 5)
            assert {await next_update(subscription), await next_update(subscription)} == {
                ResourceUpdated(uri=card),
                ResourceUpdated(uri=RECENT_EVENTS),
            }
            await heard.until(card)
            recent = await listening.read_resource(RECENT_EVENTS)
    events = json.loads(recent.contents[0].text)["events"]  # type: ignore[union-attr]
    assert events[0]["type"] == "credit_reception_created"
    assert events[0]["contact_uuids"] == [SANNE]


async def test_the_member_card_resource_reads_the_account_live(sandboxed: HttpServer) -> None:
    with anyio.fail_after(SESSION_DEADLINE):
        async with connect_http(sandboxed.mcp_url, None) as client:
            before = json.loads((await client.read_resource(contact_uri(SANNE))).contents[0].text)  # type: ignore[union-attr]
            await award(sandboxed.mcp_url, 2)
            after = json.loads((await client.read_resource(contact_uri(SANNE))).contents[0].text)  # type: ignore[union-attr]
            balance = structured(await client.call_tool("get_contact_credit_balance", {"contact_uuid": SANNE}))
    assert after["credits"] == before["credits"] + 2 == balance["balance"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"signature": "0" * 64},
        signed(b'{"type": "voucher_redeemed", "data": {}}'),  # signed, but over another body
        signed(b"", secret="the sandbox's secret is another one"),
    ],
    ids=["missing", "wrong", "another body", "another secret"],
)
def test_forged_deliveries_are_refused(sandboxed: HttpServer, headers: dict[str, str]) -> None:
    body = json.dumps({"type": "contact_updated", "data": {"contact": {"uuid": SANNE}}}).encode()
    response = httpx.post(f"{sandboxed.base}/webhooks/piggy", content=body, headers=headers)
    assert response.status_code == 401


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[tuple[HttpServer, HttpServer]]:
    workdir = tmp_path_factory.mktemp("event-replicas")
    # What replicas of one deployment share: Redis, the webhook secret, the signing key (whose digest names their
    # event channel; the sandbox has no API key to derive one from).
    shared = {
        "PIGGY_MCP_REDIS_URL": redis_url,
        "PIGGY_WEBHOOK_SECRET": SECRET,
        "PIGGY_MCP_SIGNING_KEY": "replicas-share-this-signing-key",
        "PIGGY_MCP_HTTP_SESSIONS": "false",
    }
    with http_server(env(workdir, **shared), workdir) as a, http_server(env(workdir, **shared), workdir) as b:
        yield a, b


async def test_an_event_reaching_one_replica_is_heard_by_the_clients_of_another(
    replicas: tuple[HttpServer, HttpServer],
) -> None:
    a, b = replicas
    card = contact_uri(SANNE)
    with anyio.fail_after(SESSION_DEADLINE):
        async with (
            connect_http(b.mcp_url, None) as listening,
            listening.listen(resource_subscriptions=[card]) as subscription,
        ):
            await award(a.mcp_url, 1)  # replica A's sandbox posts to replica A
            assert await next_update(subscription) == ResourceUpdated(uri=card)
            # A delivery posted to B by hand reaches B's listeners too, and B shows what A received.
            body = json.dumps({"type": "contact_updated", "data": {"contact": {"uuid": SANNE}}}).encode()
            async with httpx.AsyncClient() as http:
                response = await http.post(f"{b.base}/webhooks/piggy", content=body, headers=signed(body))
            assert response.status_code == 200 and response.json() == {"status": "ok"}
            assert await next_update(subscription) == ResourceUpdated(uri=card)
            recent = json.loads((await listening.read_resource(RECENT_EVENTS)).contents[0].text)  # type: ignore[union-attr]
    assert [event["type"] for event in recent["events"][:2]] == ["contact_updated", "credit_reception_created"]
