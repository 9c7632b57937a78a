"""`resources/subscribe` for clients of the older protocol, bridged to the subscription bus.

The SDK serves `subscriptions/listen` (2026-07-28) from its bus, but registers no `resources/subscribe` handler,
and neither an `Extension` (its `MethodBinding` refuses spec methods) nor any other public hook of `MCPServer`
can add one. A middleware can: it answers `resources/subscribe` and `resources/unsubscribe` on handshake-era
connections before the SDK looks for a handler, and adds `resources.subscribe` to the `initialize` result.

Each subscribed session gets one bus listener and one task: the listener (synchronous, never raising) marks the
session's subscribed URIs as updated, and the task sends `notifications/resources/updated` on the session. An
update already waiting is not queued twice, so a session never has more waiting than it subscribed to.

The SDK tells nobody outside it when a session ends, and a notification to a closed session is dropped without an
error, so the task pings a session it has not pinged for `check_every` seconds: one that does not answer within
`answer_within` (gone, or an HTTP client without a stream for the server's messages) loses its subscriptions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.abc
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.session import ServerSession
from mcp.server.subscriptions import ResourceUpdated, ServerEvent, SubscriptionBus
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_REQUEST, SubscribeRequestParams, UnsubscribeRequestParams
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import ValidationError

log = logging.getLogger(__name__)

MAX_SESSIONS = 1024  # as the SDK bounds listen streams
MAX_URIS = 100  # per session
CHECK_EVERY = 60.0
ANSWER_WITHIN = 10.0


@dataclass(eq=False)
class _Subscriber:
    """One session's subscriptions: what it subscribed to, and the updates waiting to be sent to it."""

    session: ServerSession  # of the request that subscribed first; it sends on the session's own channel
    uris: set[str] = field(default_factory=set)
    waiting: dict[str, None] = field(default_factory=dict)  # in order, each once
    woken: anyio.Event = field(default_factory=anyio.Event)
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    stop_listening: Callable[[], None] = lambda: None

    def hear(self, event: ServerEvent) -> None:
        """The bus listener: synchronous, and never raises."""
        if isinstance(event, ResourceUpdated) and event.uri in self.uris:
            self.waiting[event.uri] = None
            self.woken.set()


class LegacySubscriptions:
    """Middleware: `resources/subscribe` and `resources/unsubscribe` on handshake-era connections, fed by `bus`;
    the sending runs in `task_group`, which must outlive the server's sessions."""

    def __init__(
        self,
        bus: SubscriptionBus,
        task_group: anyio.abc.TaskGroup,
        *,
        max_sessions: int = MAX_SESSIONS,
        max_uris: int = MAX_URIS,
        check_every: float = CHECK_EVERY,
        answer_within: float = ANSWER_WITHIN,
    ) -> None:
        self._bus = bus
        self._task_group = task_group
        self._max_sessions = max_sessions
        self._max_uris = max_uris
        self._check_every = check_every
        self._answer_within = answer_within
        self._subscribers: dict[int, _Subscriber] = {}

    @property
    def sessions(self) -> int:
        """How many sessions have subscriptions."""
        return len(self._subscribers)

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "initialize":
            return _advertised(await call_next(ctx))
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
            return await call_next(ctx)  # 2026-07-28 has no resources/subscribe: the SDK says so
        try:
            if ctx.method == "resources/subscribe":
                self._subscribe(ctx.session, SubscribeRequestParams.model_validate(ctx.params or {}).uri)
                return {}
            if ctx.method == "resources/unsubscribe":
                self._unsubscribe(ctx.session, UnsubscribeRequestParams.model_validate(ctx.params or {}).uri)
                return {}
        except ValidationError:
            pass  # the SDK answers malformed params itself
        return await call_next(ctx)

    def _subscribe(self, session: ServerSession, uri: str) -> None:
        key = _session_key(session)
        if key is None:
            raise MCPError(
                INVALID_REQUEST,
                "This connection has no session to send updates on; over HTTP, the server must keep sessions "
                "(PIGGY_MCP_HTTP_SESSIONS=true).",
            )
        subscriber = self._subscribers.get(key)
        if subscriber is None:
            if len(self._subscribers) >= self._max_sessions:
                raise MCPError(INVALID_REQUEST, "Too many sessions have subscriptions on this server; try later.")
            subscriber = self._subscribers[key] = _Subscriber(session)
            subscriber.stop_listening = self._bus.subscribe(subscriber.hear)
            self._task_group.start_soon(self._send, key, subscriber)
        if uri not in subscriber.uris and len(subscriber.uris) >= self._max_uris:
            raise MCPError(INVALID_REQUEST, f"A session may subscribe to {self._max_uris} resources at most.")
        subscriber.uris.add(uri)

    def _unsubscribe(self, session: ServerSession, uri: str) -> None:
        key = _session_key(session)
        subscriber = self._subscribers.get(key) if key is not None else None
        if key is None or subscriber is None:
            return
        subscriber.uris.discard(uri)
        subscriber.waiting.pop(uri, None)
        if not subscriber.uris:
            subscriber.scope.cancel()
            self._forget(key, subscriber)

    async def _send(self, key: int, subscriber: _Subscriber) -> None:
        """Send `subscriber` its updates until it unsubscribes from everything or stops answering."""
        checked = anyio.current_time()
        with subscriber.scope:
            try:
                while True:
                    with anyio.move_on_after(checked + self._check_every - anyio.current_time()):
                        await subscriber.woken.wait()
                    subscriber.woken = anyio.Event()
                    while subscriber.waiting:
                        uri = next(iter(subscriber.waiting))
                        del subscriber.waiting[uri]
                        with anyio.fail_after(self._answer_within):
                            await subscriber.session.send_resource_updated(uri)
                    if anyio.current_time() - checked >= self._check_every:
                        with anyio.fail_after(self._answer_within):
                            await subscriber.session.send_ping()
                        checked = anyio.current_time()
            except (MCPError, TimeoutError, anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
                log.info("a subscribed session stopped answering (%s): its subscriptions end", type(exc).__name__)
            except Exception:  # one session's failure must not end the task group every session's sending shares
                log.exception("sending updates to a subscribed session failed: its subscriptions end")
            finally:
                self._forget(key, subscriber)

    def _forget(self, key: int, subscriber: _Subscriber) -> None:
        if self._subscribers.get(key) is subscriber:
            del self._subscribers[key]
        subscriber.stop_listening()


def _session_key(session: ServerSession) -> int | None:
    """What tells sessions apart: the SDK builds a `ServerSession` per request, but every request of one connection
    reads the same `initialize` params, kept alive by the `_Subscriber` holding the session. A connection that
    never initialized (stateless HTTP: each request its own connection, with no channel back) has none."""
    params = session.client_params
    return id(params) if params is not None else None


def _advertised(result: HandlerResult) -> HandlerResult:
    """The `initialize` result, saying the server takes `resources/subscribe` (the SDK derives it from handlers
    registered on its low-level server, which only private attributes reach)."""
    if not isinstance(result, dict):
        return result
    capabilities = dict(result.get("capabilities") or {})
    capabilities["resources"] = {**(capabilities.get("resources") or {}), "subscribe": True}
    return {**result, "capabilities": capabilities}
