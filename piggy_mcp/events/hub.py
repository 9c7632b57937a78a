"""Where verified Piggy events go: the recent-events log, and updates to the resources each one is about.

`EventHub.publish` is what the webhook receiver hands an event to. It is recorded first (so a client that reads
piggy://events/recent on hearing of it finds it there), then `ResourceUpdated` is published on the bus for
the card of each contact it is about, each voucher, and piggy://events/recent. A failure (Redis unreachable)
is raised, so that the delivery is answered with an error and Piggy sends it again.

- One process: the SDK's in-memory bus and a bounded deque.
- Replicas (PIGGY_MCP_REDIS_URL): `RedisSubscriptionBus` and a Redis list (LPUSH and LTRIM in one
  transaction), so every replica's subscribers hear every event and every replica shows the same recent ones.

Everything is per tenant: its own channel and its own list.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Protocol

import anyio
from mcp.server.subscriptions import InMemorySubscriptionBus, ResourceUpdated, SubscriptionBus

from piggy_mcp.config import Settings
from piggy_mcp.events.delivery import MalformedDelivery, PiggyEvent
from piggy_mcp.events.legacy import LegacySubscriptions
from piggy_mcp.events.redis_bus import RedisSubscriptionBus, channel_for
from piggy_mcp.resource_uris import RECENT_EVENTS, contact_uri, voucher_uri

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

DEFAULT_NAMESPACE = "default"


def namespace_of(settings: Settings, tenant: str) -> str:
    """Where `tenant`'s events travel in Redis: its name, and a digest of its keys, so that deployments of other
    accounts sharing a Redis never meet, while the replicas of one (one signing key, or one API key) do."""
    return f"{tenant[:40]}-{settings.derived_key('events').hex()[:16]}"


def updated_uris(event: PiggyEvent) -> list[str]:
    """The resources `event` may have changed."""
    return [
        *(contact_uri(uuid) for uuid in event.contact_uuids),
        *(voucher_uri(code) for code in event.voucher_codes),
        RECENT_EVENTS,
    ]


class RecentEvents(Protocol):
    limit: int

    async def add(self, event: PiggyEvent) -> None: ...

    async def latest(self) -> list[PiggyEvent]:
        """The last `limit` events, newest first."""
        ...


class MemoryRecentEvents:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._events: deque[PiggyEvent] = deque(maxlen=limit)

    async def add(self, event: PiggyEvent) -> None:
        self._events.appendleft(event)

    async def latest(self) -> list[PiggyEvent]:
        return list(self._events)


class RedisRecentEvents:
    def __init__(self, redis: Redis, namespace: str, limit: int) -> None:
        self.limit = limit
        self._redis = redis
        self._key = f"{channel_for(namespace)}:recent"

    async def add(self, event: PiggyEvent) -> None:
        async with self._redis.pipeline(transaction=True) as transaction:
            transaction.lpush(self._key, event.to_json())
            transaction.ltrim(self._key, 0, self.limit - 1)
            await transaction.execute()

    async def latest(self) -> list[PiggyEvent]:
        events = []
        for raw in await self._redis.lrange(self._key, 0, self.limit - 1):
            try:
                events.append(PiggyEvent.from_json(raw.decode() if isinstance(raw, bytes) else raw))
            except (MalformedDelivery, UnicodeDecodeError):
                log.warning("skipped an entry of the recent events in Redis that is not an event")
        return events


class EventHub:
    """Verified events: recorded in `recent`, announced on `bus`, which `legacy` bridges to older clients.

    A server shows them when built with it (`build_server(..., events=hub)`): the bus is its subscription bus."""

    def __init__(self, bus: SubscriptionBus, recent: RecentEvents, legacy: LegacySubscriptions) -> None:
        self.bus = bus
        self.legacy = legacy
        self._recent = recent

    @property
    def limit(self) -> int:
        """How many recent events are kept."""
        return self._recent.limit

    async def publish(self, event: PiggyEvent) -> None:
        await self._recent.add(event)
        for uri in updated_uris(event):
            await self.bus.publish(ResourceUpdated(uri=uri))

    async def recent(self) -> list[PiggyEvent]:
        """The last verified events, newest first."""
        return await self._recent.latest()


@asynccontextmanager
async def open_event_hub(settings: Settings, tenant: str = DEFAULT_NAMESPACE) -> AsyncIterator[EventHub]:
    """The hub of `tenant` that `settings` call for: over Redis with PIGGY_MCP_REDIS_URL, else in this process.
    Its background tasks (the Redis relay, the sending to older clients) run until exit. A Redis that cannot be
    reached stops the start with its error."""
    namespace = namespace_of(settings, tenant)
    channel_for(namespace)  # a bad namespace stops the start, whichever the store
    redis: Redis | None = None
    try:
        async with anyio.create_task_group() as tasks:
            if settings.mcp_redis_url is None:
                bus: SubscriptionBus = InMemorySubscriptionBus()
                recent: RecentEvents = MemoryRecentEvents(settings.recent_events)
            else:
                from redis.asyncio import Redis  # only deployments that name a Redis server need the client

                # Bounded waits: a Redis that hangs must not hold a webhook delivery for ever.
                redis = Redis.from_url(
                    settings.mcp_redis_url.get_secret_value(), socket_timeout=5, socket_connect_timeout=5
                )
                relay = RedisSubscriptionBus(redis, namespace)
                await tasks.start(relay.run)
                bus, recent = relay, RedisRecentEvents(redis, namespace, settings.recent_events)
            try:
                yield EventHub(bus, recent, LegacySubscriptions(bus, tasks))
            finally:
                tasks.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        # The task group wraps what the caller's block raised: the caller gets it as raised.
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from None
        raise
    finally:
        if redis is not None:
            with anyio.CancelScope(shield=True):
                await redis.aclose()
