"""Updates of members, vouchers and recent events reach subscribed clients of both protocol eras, on one process
and across replicas sharing a real Redis; subscriptions to what a server does not serve are refused.

2026-07-28 clients listen (`subscriptions/listen`); older clients subscribe (`resources/subscribe`) and hear
`notifications/resources/updated` on their session, which over HTTP needs the server to keep sessions. Events are
published on a hub as the webhook receiver does.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
import uvicorn
from mcp import Client, MCPError
from mcp.client.subscriptions import Subscription
from mcp.server.subscriptions import (
    InMemorySubscriptionBus,
    PromptsListChanged,
    ResourcesListChanged,
    ResourceUpdated,
    ServerEvent,
    ToolsListChanged,
)
from mcp.types import (
    EmptyResult,
    ResourceUpdatedNotification,
    ServerNotification,
    SubscribeRequest,
    SubscribeRequestParams,
    TextResourceContents,
    UnsubscribeRequest,
    UnsubscribeRequestParams,
)
from pydantic import SecretStr
from redis.exceptions import ConnectionError as RedisConnectionError

from piggy_mcp.config import Settings
from piggy_mcp.events.delivery import PiggyEvent, parse_delivery
from piggy_mcp.events.hub import EventHub, MemoryRecentEvents, open_event_hub
from piggy_mcp.events.legacy import LegacySubscriptions
from piggy_mcp.events.redis_bus import decoded, encoded
from piggy_mcp.resource_uris import RECENT_EVENTS, contact_uri, voucher_uri
from piggy_mcp.server import build_server
from tests.conftest import CONTACT_A, CONTACT_B, make_settings
from tests.helpers import HEX_UUID
from tests.servers import free_port

HEARD_WITHIN = 5.0  # seconds; generous for a loaded machine
CARD_A, CARD_B = contact_uri(CONTACT_A), contact_uri(CONTACT_B)


def about(contact: str, code: str | None = None) -> PiggyEvent:
    data: dict[str, Any] = {"contact": {"uuid": contact}}
    if code is not None:
        data["voucher"] = {"code": code}
    return parse_delivery(json.dumps({"type": "contact_updated", "data": data}).encode())


async def next_event(subscription: Subscription) -> ServerEvent:
    with anyio.fail_after(HEARD_WITHIN):
        return await anext(subscription)


class Heard:
    """What an older client heard: the URIs of the resource updates on its session."""

    def __init__(self) -> None:
        self.uris: list[str] = []
        self._changed = anyio.Event()

    async def __call__(self, message: ServerNotification | Exception) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            self.uris.append(message.params.uri)
            self._changed.set()

    async def until(self, count: int) -> list[str]:
        with anyio.fail_after(HEARD_WITHIN):
            while len(self.uris) < count:
                await self._changed.wait()
                self._changed = anyio.Event()
        return self.uris


async def subscribe(client: Client, uri: str) -> None:
    """resources/subscribe as an older client sends it (the SDK's client marks its method deprecated)."""
    request = SubscribeRequest(params=SubscribeRequestParams(uri=uri))
    await client.session.send_request(request, EmptyResult)


async def unsubscribe(client: Client, uri: str) -> None:
    await client.session.send_request(UnsubscribeRequest(params=UnsubscribeRequestParams(uri=uri)), EmptyResult)


@asynccontextmanager
async def quick_hub(check_every: float = 60.0) -> AsyncIterator[EventHub]:
    """A hub in this process whose older sessions are checked every `check_every` seconds."""
    async with anyio.create_task_group() as tasks:
        bus = InMemorySubscriptionBus()
        yield EventHub(bus, MemoryRecentEvents(10), LegacySubscriptions(bus, tasks, check_every=check_every))
        tasks.cancel_scope.cancel()


@pytest.fixture
async def hub() -> AsyncIterator[EventHub]:
    async with open_event_hub(make_settings()) as opened:
        yield opened


# 2026-07-28: subscriptions/listen -----------------------------------------------------------------


async def test_a_listening_client_hears_of_its_contact_and_not_of_another(hub: EventHub) -> None:
    async with (
        Client(build_server(make_settings(), events=hub)) as client,
        client.listen(resource_subscriptions=[CARD_A]) as subscription,
    ):
        await hub.publish(about(CONTACT_B))  # not listened to: never sent
        await hub.publish(about(CONTACT_A))
        assert await next_event(subscription) == ResourceUpdated(uri=CARD_A)


async def test_an_event_updates_its_voucher_and_the_recent_events(hub: EventHub) -> None:
    watched = [voucher_uri("WELCOME-7Q4K2M"), RECENT_EVENTS]
    async with (
        Client(build_server(make_settings(), events=hub)) as client,
        client.listen(resource_subscriptions=watched) as subscription,
    ):
        assert client.server_capabilities.resources and client.server_capabilities.resources.subscribe
        await hub.publish(about(CONTACT_A, "WELCOME-7Q4K2M"))
        assert {await next_event(subscription), await next_event(subscription)} == {
            ResourceUpdated(uri=uri) for uri in watched
        }


# Older clients: resources/subscribe ---------------------------------------------------------------


async def test_an_older_client_is_told_it_may_subscribe_only_with_an_event_source(hub: EventHub) -> None:
    async with Client(build_server(make_settings(), events=hub), mode="legacy") as client:
        assert client.server_capabilities.resources and client.server_capabilities.resources.subscribe
    async with Client(build_server(make_settings()), mode="legacy") as client:
        assert client.server_capabilities.resources and not client.server_capabilities.resources.subscribe


async def test_an_older_client_hears_of_what_it_subscribed_to_until_it_unsubscribes(hub: EventHub) -> None:
    heard = Heard()
    async with Client(build_server(make_settings(), events=hub), mode="legacy", message_handler=heard) as client:
        await subscribe(client, CARD_A)
        await subscribe(client, RECENT_EVENTS)
        await hub.publish(about(CONTACT_B))
        assert await heard.until(1) == [RECENT_EVENTS]  # nothing of contact B
        await hub.publish(about(CONTACT_A))
        assert sorted(await heard.until(3)) == sorted([RECENT_EVENTS, CARD_A, RECENT_EVENTS])
        await unsubscribe(client, CARD_A)
        await hub.publish(about(CONTACT_A))
        assert (await heard.until(4))[3:] == [RECENT_EVENTS]
        await anyio.sleep(0.05)
        assert CARD_A not in heard.uris[3:]


async def test_subscriptions_end_with_the_unsubscribe_or_the_session() -> None:
    async with quick_hub(check_every=0.05) as hub:
        server = build_server(make_settings(), events=hub)
        async with Client(server, mode="legacy") as client:
            await subscribe(client, CARD_A)
            await unsubscribe(client, CARD_A)
            assert hub.legacy.sessions == 0
            await subscribe(client, CARD_A)
            await anyio.sleep(0.3)  # a few checks, each answered: the session keeps its subscription
            assert hub.legacy.sessions == 1
        with anyio.fail_after(HEARD_WITHIN):
            while hub.legacy.sessions:  # noqa: ASYNC110 - the next check finds the session gone; nothing to wait on
                await anyio.sleep(0.02)


@asynccontextmanager
async def over_http(hub: EventHub, *, sessions: bool) -> AsyncIterator[str]:
    """The server on a real loopback HTTP port in this event loop (the hub's tasks run in it); its /mcp URL."""
    app = build_server(make_settings(), events=hub).streamable_http_app(stateless_http=not sessions)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(server.serve)
        with anyio.fail_after(HEARD_WITHIN):
            while not server.started:  # noqa: ASYNC110 - uvicorn says it is ready only so
                await anyio.sleep(0.02)
        yield f"http://127.0.0.1:{server.config.port}/mcp"
        server.should_exit = True


async def test_an_older_http_client_hears_updates_only_with_sessions() -> None:
    async with quick_hub(check_every=0.1) as hub:
        heard = Heard()
        async with (
            over_http(hub, sessions=True) as url,
            Client(url, mode="legacy", message_handler=heard) as client,
        ):
            await subscribe(client, CARD_A)
            await anyio.sleep(0.3)  # checked on its stream for the server's messages, and answering
            await hub.publish(about(CONTACT_A))
            assert await heard.until(1) == [CARD_A]
        with anyio.fail_after(HEARD_WITHIN):
            while hub.legacy.sessions:  # noqa: ASYNC110 - the session was deleted; the next check finds it gone
                await anyio.sleep(0.02)
        async with over_http(hub, sessions=False) as url, Client(url, mode="legacy") as client:
            with pytest.raises(MCPError) as refused:
                await subscribe(client, CARD_A)
        assert "PIGGY_MCP_HTTP_SESSIONS=true" in refused.value.error.message


# Refused subscriptions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toolsets", "uri", "reason"),
    [
        (["vouchers"], CARD_A, "does not serve piggy://contacts/{contact_uuid}"),
        (["contacts"], voucher_uri("WELCOME-7Q4K2M"), "does not serve piggy://vouchers/{code}"),
        (["contacts"], "piggy://members/" + CONTACT_A, "no resource of this server has that URI"),
        (["contacts"], "piggy://contacts/not-a-uuid", "a contact is named by its uuid"),
        (["contacts"], f"piggy://contacts/{HEX_UUID.upper()}", f"sent for {contact_uri(HEX_UUID)}"),
    ],
)
@pytest.mark.parametrize("era", ["listen", "subscribe"])
async def test_a_subscription_to_what_is_not_served_is_refused(
    hub: EventHub, toolsets: list[str], uri: str, reason: str, era: str
) -> None:
    server = build_server(make_settings(toolsets=toolsets), events=hub)
    async with Client(server, mode="auto" if era == "listen" else "legacy") as client:
        with pytest.raises(MCPError) as refused:
            if era == "listen":
                async with client.listen(resource_subscriptions=[RECENT_EVENTS, uri]):
                    pass
            else:
                await subscribe(client, uri)
    assert refused.value.error.code == -32602
    assert reason in refused.value.error.message
    assert hub.legacy.sessions == 0


async def test_without_an_event_source_no_resource_subscription_is_taken() -> None:
    async with Client(build_server(make_settings())) as client:
        with pytest.raises(MCPError) as refused:
            async with client.listen(resource_subscriptions=[CARD_A]):
                pass
        assert "receives no Piggy events" in refused.value.error.message
        async with client.listen(tools_list_changed=True) as subscription:  # what is not about resources still is
            assert subscription.honored.tools_list_changed


# Across replicas: one real Redis ------------------------------------------------------------------


def tenant() -> str:
    """A tenant of its own for each test, since the tests share one Redis."""
    return f"t-{uuid.uuid4().hex[:12]}"


def on_redis(redis_url: str) -> Settings:
    return make_settings(mcp_redis_url=redis_url, recent_events=3)


async def test_a_redis_that_cannot_be_reached_stops_the_start() -> None:
    with pytest.raises(RedisConnectionError):
        async with open_event_hub(make_settings(mcp_redis_url=f"redis://127.0.0.1:{free_port()}/0")):
            pass


async def test_a_modern_client_cannot_use_resources_subscribe(hub: EventHub) -> None:
    async with Client(build_server(make_settings(), events=hub)) as client:
        with pytest.raises(MCPError) as refused:
            await subscribe(client, "piggy://not/served")
    assert refused.value.error.code == -32601  # 2026-07-28 has no such method: listen instead


@pytest.mark.parametrize(
    "event",
    [ToolsListChanged(), PromptsListChanged(), ResourcesListChanged(), ResourceUpdated(uri=voucher_uri("A B/C"))],
)
def test_events_travel_over_redis_as_they_were(event: ServerEvent) -> None:
    assert decoded(encoded(event)) == event
    assert decoded(b"not json") is None


async def test_an_event_on_one_replica_reaches_the_clients_of_another(redis_url: str) -> None:
    settings, name = on_redis(redis_url), tenant()
    async with open_event_hub(settings, name) as replica_a, open_event_hub(settings, name) as replica_b:
        server_b = build_server(settings, events=replica_b)
        heard = Heard()
        async with (
            Client(server_b) as listening,
            listening.listen(resource_subscriptions=[CARD_A]) as subscription,
            Client(server_b, mode="legacy", message_handler=heard) as older,
        ):
            await subscribe(older, CARD_A)
            await replica_a.publish(about(CONTACT_A))
            assert await next_event(subscription) == ResourceUpdated(uri=CARD_A)
            assert await heard.until(1) == [CARD_A]
        # Every replica shows the same recent events, newest first and bounded.
        for contact in (CONTACT_B, CONTACT_A, CONTACT_B):
            await replica_a.publish(about(contact))
        async with Client(server_b) as client:
            result = await client.read_resource(RECENT_EVENTS)
        (contents,) = result.contents
        assert isinstance(contents, TextResourceContents)
        recent = json.loads(contents.text)["events"]
        assert [event["contact_uuids"] for event in recent] == [[CONTACT_B], [CONTACT_A], [CONTACT_B]]


async def test_tenants_never_hear_each_others_events(redis_url: str) -> None:
    settings = on_redis(redis_url)
    async with open_event_hub(settings, tenant()) as other, open_event_hub(settings, tenant()) as own:
        async with (
            Client(build_server(settings, events=own)) as client,
            client.listen(resource_subscriptions=[CARD_A, CARD_B]) as subscription,
        ):
            await other.publish(about(CONTACT_A))
            await own.publish(about(CONTACT_B))
            assert await next_event(subscription) == ResourceUpdated(uri=CARD_B)
        assert [event.contact_uuids for event in await own.recent()] == [(CONTACT_B,)]


async def test_deployments_of_other_accounts_on_one_redis_never_meet(redis_url: str) -> None:
    # Both serve their one account as tenant "default"; their keys tell them apart.
    shop_a = on_redis(redis_url).model_copy(update={"mcp_signing_key": SecretStr("shop-a-signing-key")})
    shop_b = on_redis(redis_url).model_copy(update={"mcp_signing_key": SecretStr("shop-b-signing-key")})
    async with open_event_hub(shop_a) as a, open_event_hub(shop_b) as b:
        async with (
            Client(build_server(shop_b, events=b)) as client,
            client.listen(resource_subscriptions=[CARD_A, CARD_B]) as subscription,
        ):
            await a.publish(about(CONTACT_A))
            await b.publish(about(CONTACT_B))
            assert await next_event(subscription) == ResourceUpdated(uri=CARD_B)
        assert [event.contact_uuids for event in await b.recent()] == [(CONTACT_B,)]
