"""The SDK's subscription bus over Redis pub/sub, so that an event any replica publishes reaches every replica's
subscribers.

`publish` sends the event to the namespace's channel; `run` (a background task in each process) relays what
arrives on the channel to this process's listeners, its own publications included, so that each reaches them
exactly once. Events travel as the notifications they announce (method and params), the SDK's own wire form.
Each namespace (a tenant) has its own channel: tenants never hear each other's events. As with the SDK's bus,
there is no replay: what is published while a replica is cut off from Redis does not reach its subscribers.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio
import anyio.abc
from mcp.server.subscriptions import InMemorySubscriptionBus, ServerEvent
from mcp.shared.subscriptions import event_from_wire, event_to_notification

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

log = logging.getLogger(__name__)

_NAMESPACE = re.compile(r"[A-Za-z0-9_-]{1,64}")
QUIET_FOR = 30.0  # seconds without a message before Redis is pinged; as long again without an answer: reconnect
RECONNECT_FIRST, RECONNECT_AT_MOST = 0.5, 10.0


def channel_for(namespace: str) -> str:
    if not _NAMESPACE.fullmatch(namespace):
        raise ValueError("a namespace is 1 to 64 letters, digits, - or _")
    return f"piggy-mcp:{namespace}:events"


def encoded(event: ServerEvent) -> str:
    wire = event_to_notification(event, {}).model_dump(by_alias=True, mode="json", exclude_none=True)
    return json.dumps({"method": wire["method"], "params": wire.get("params")}, separators=(",", ":"))


def decoded(raw: bytes | str) -> ServerEvent | None:
    try:
        wire = json.loads(raw)
        return event_from_wire(wire["method"], wire.get("params")) if isinstance(wire, dict) else None
    except (ValueError, KeyError, TypeError):
        return None


class RedisSubscriptionBus:
    """A `SubscriptionBus` (mcp.server.subscriptions) whose events travel over Redis, on `namespace`'s channel.

    Listeners hear events only while `run` runs: start it in a task group before serving (`task_group.start`
    returns once the channel is subscribed)."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis = redis
        self._channel = channel_for(namespace)
        self._local = InMemorySubscriptionBus()  # fans out to this process's listeners, isolating each

    async def publish(self, event: ServerEvent) -> None:
        await self._redis.publish(self._channel, encoded(event))

    def subscribe(self, listener: Callable[[ServerEvent], None]) -> Callable[[], None]:
        return self._local.subscribe(listener)

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Relay the channel to this process's listeners until cancelled. A Redis that cannot be reached at the
        start is an error; a connection lost later is made again, waiting longer after each failure."""
        from redis.exceptions import RedisError

        started = False
        wait = RECONNECT_FIRST
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self._channel)
                    if not started:
                        task_status.started()
                        started = True
                    wait = RECONNECT_FIRST
                    await self._relay(pubsub)
            except Exception as exc:  # any failure once serving: the relay must keep going for the subscribers
                if not started:
                    raise
                if isinstance(exc, RedisError | OSError):
                    log.warning(
                        "lost the Redis channel of subscriptions (%s); again in %.1fs", type(exc).__name__, wait
                    )
                else:
                    log.exception("relaying the Redis channel of subscriptions failed; again in %.1fs", wait)
            await anyio.sleep(wait)
            wait = min(wait * 2, RECONNECT_AT_MOST)

    async def _relay(self, pubsub: PubSub) -> None:
        from redis.exceptions import ConnectionError as RedisConnectionError

        heard = anyio.current_time()
        pinged = False
        while True:
            message = await pubsub.get_message(timeout=QUIET_FOR)
            if message is not None:
                heard, pinged = anyio.current_time(), False
                if message.get("type") == "message":
                    await self._deliver(message.get("data"))
            elif anyio.current_time() - heard >= QUIET_FOR:
                # A connection that died quietly would otherwise be waited on for ever.
                if pinged:
                    raise RedisConnectionError("Redis did not answer a ping")
                await pubsub.ping()
                heard, pinged = anyio.current_time(), True

    async def _deliver(self, data: object) -> None:
        event = decoded(data) if isinstance(data, bytes | str) else None
        if event is None:
            log.warning("ignored a message on the Redis channel of subscriptions that is not an event")
            return
        await self._local.publish(event)
