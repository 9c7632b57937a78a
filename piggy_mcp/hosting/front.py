"""The HTTP front: who is calling, for which tenant, and that tenant's own MCP server behind it.

Each tenant has its own MCPServer (its Piggy client, selection, keys, audit) and its own streamable HTTP app.
The front authenticates a caller once, checks the request is one bounded JSON-RPC message within the token's
scopes, and hands it to the app of the caller's tenant, which verifies the token again for itself: a request
reaches no other tenant's server. Reloading the tenants builds a new set of servers; calls already running
finish on the old set, which is then closed.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.abc
from mcp.server import MCPServer
from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
from pydantic import AnyHttpUrl
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from piggy_mcp.bounded_body import body_within
from piggy_mcp.events.receiver import WEBHOOK_PATH, Endpoint
from piggy_mcp.hosting.auth import bearer_token
from piggy_mcp.hosting.callers import Caller, Callers, identified
from piggy_mcp.hosting.guards import MCP_PATH, invalid_request, read_message, replaying
from piggy_mcp.hosting.tenants import DEFAULT_TENANT, Tenant
from piggy_mcp.scopes import READ, SCOPES, grants

log = logging.getLogger(__name__)

# Requests that read what Piggy holds, besides tool calls.
_READING = frozenset({"resources/read", "resources/subscribe", "subscriptions/listen"})

# How long calls still running on a replaced set of servers may take before that set is closed anyway.
DRAIN_SECONDS = 30.0


@dataclass
class Served:
    """One tenant's running server, its HTTP app, the scope each of its tools needs, and its webhook endpoint."""

    server: MCPServer[Any]
    app: ASGIApp
    needed: Mapping[str, str]
    webhook: Endpoint | None = None


# Starts a tenant's server for its generation's callers (with what it needs: its event hub, its record of
# deliveries) on the stack given.
Start = Callable[[Tenant, Callers, AsyncExitStack], Awaitable[Served]]


@dataclass
class Generation:
    """The callers and tenants of one reading of the configuration, and their servers once running."""

    callers: Callers
    tenants: Mapping[str, Tenant]
    start: Start
    served: dict[str, Served] = field(default_factory=dict)
    retired: anyio.Event = field(default_factory=anyio.Event)
    _in_flight: int = 0
    _idle: anyio.Event = field(default_factory=anyio.Event)

    async def run(self, front: Front, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        """Serve as `front`'s current generation until retired and its calls are done (or out of time)."""
        async with AsyncExitStack() as stack:
            if self.callers.oauth is not None:
                stack.push_async_callback(self.callers.oauth.aclose)
            for name, tenant in self.tenants.items():
                self.served[name] = await self.start(tenant, self.callers, stack)
            front.current = self
            task_status.started()
            await self.retired.wait()
            if self._in_flight:
                with anyio.move_on_after(DRAIN_SECONDS):
                    await self._idle.wait()

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[None]:
        """Count a request in flight, so that a retired generation waits for it."""
        if self._in_flight == 0:
            self._idle = anyio.Event()
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()


class Front:
    """The ASGI app at the top: /healthz, /metrics, OAuth metadata, and /mcp routed to the caller's tenant."""

    def __init__(
        self,
        build: Callable[[], Generation],
        *,
        resource_url: str,
        max_request_bytes: int,
        routes: Sequence[BaseRoute] = (),
        oauth_issuer: str | None = None,
        reloadable: bool = False,
    ) -> None:
        self._build = build
        self._max_bytes = max_request_bytes
        self._reloadable = reloadable
        # RFC 9728 metadata names an authorization server, so it exists only with OAuth: static tokens have none.
        self._metadata_url = str(build_resource_metadata_url(AnyHttpUrl(resource_url))) if oauth_issuer else None
        self._reload_requested = anyio.Event()
        self.current: Generation | None = None
        # Built now: a configuration that cannot be built stops the start, not the first request.
        self._first: Generation | None = build()
        mounted = list(routes)
        if oauth_issuer is not None:
            mounted += _metadata_routes(resource_url, oauth_issuer)
        mounted.append(Route(WEBHOOK_PATH, self._webhook, methods=["POST"]))
        mounted.append(Route(WEBHOOK_PATH + "/{tenant}", self._webhook, methods=["POST"]))
        mounted.append(Route(MCP_PATH, endpoint=_AsgiEndpoint(self._mcp)))
        self.app = Starlette(routes=mounted, lifespan=self._lifespan)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def reload(self) -> None:
        """Read the configuration again (as on SIGHUP); the new servers take over once started."""
        self._reload_requested.set()

    @asynccontextmanager
    async def _lifespan(self, _: Starlette) -> AsyncIterator[None]:
        first, self._first = self._first, None
        if first is None:
            raise RuntimeError("a Front serves one lifespan")
        async with anyio.create_task_group() as tasks:
            await tasks.start(first.run, self)
            if self._reloadable:
                tasks.start_soon(self._reload_on_request, tasks)
                _on_sighup(self.reload)
            try:
                yield
            finally:
                tasks.cancel_scope.cancel()

    async def _reload_on_request(self, tasks: anyio.abc.TaskGroup) -> None:
        while True:
            await self._reload_requested.wait()
            self._reload_requested = anyio.Event()
            old = self.current
            try:
                await tasks.start(self._build().run, self)
            except Exception as exc:  # a malformed file, say: the tenants serving now go on serving
                log.error("tenants not reloaded, the previous ones keep serving: %s", exc)
                continue
            if old is not None:
                old.retired.set()
            log.warning("tenants reloaded: %s", ", ".join(self.current.served if self.current else ()))

    async def _mcp(self, scope: Scope, receive: Receive, send: Send) -> None:
        generation = self.current
        if generation is None:
            await Response("starting", status_code=503)(scope, receive, send)
            return
        # Counted from the first moment: a reload must not close these servers while the caller is identified.
        async with generation.serving():
            await self._serve(generation, scope, receive, send)

    async def _serve(self, generation: Generation, scope: Scope, receive: Receive, send: Send) -> None:
        caller: Caller | None = None
        if generation.callers.required:
            token = bearer_token(scope)
            caller = await generation.callers.identify(token)
            if caller is None:
                # RFC 6750: a request that brought no credentials is told what to bring, without an error code.
                challenge = self._challenge(401, "invalid_token", "The token is not valid here") if token else None
                await (challenge or self._challenge(401))(scope, receive, send)
                return
            identified(caller)
        served = generation.served[caller.tenant if caller is not None else DEFAULT_TENANT]
        if scope["method"] == "POST":
            body = await body_within(scope, receive, self._max_bytes)
            if body is None:
                refusal = f"the request is larger than {self._max_bytes:,} bytes"
                await invalid_request(refusal, status=413)(scope, receive, send)
                return
            message, problem = read_message(body)
            if problem is not None:
                await invalid_request(problem, status=400)(scope, receive, send)
                return
            needed = _needed_scope(message, served.needed)
            if caller is not None and needed is not None and not grants(caller.access.scopes, needed):
                narrow = self._challenge(403, "insufficient_scope", f"This call needs the scope {needed}", needed)
                await narrow(scope, receive, send)
                return
            receive = replaying(body, receive)
        await served.app(scope, receive, send)

    async def _webhook(self, request: Request) -> Response:
        """Piggy's deliveries for a tenant, to its own endpoint (which checks their signature); 404 without one."""
        generation = self.current
        served = generation.served.get(request.path_params.get("tenant", DEFAULT_TENANT)) if generation else None
        if generation is None or served is None or served.webhook is None:
            return JSONResponse({"error": "no webhooks are received here"}, status_code=404)
        async with generation.serving():
            return await served.webhook(request)

    def _challenge(
        self,
        status: int,
        error: str | None = None,
        description: str = "Authentication required",
        scope: str | None = None,
    ) -> Response:
        parts = [f'error="{error}"', f'error_description="{description}"'] if error else []
        if scope is not None:
            parts.append(f'scope="{scope}"')
        if self._metadata_url is not None:
            parts.append(f'resource_metadata="{self._metadata_url}"')
        headers = {"WWW-Authenticate": " ".join(["Bearer", ", ".join(parts)]).strip()}
        body = {"error": error or "invalid_request", "error_description": description}
        return JSONResponse(body, status_code=status, headers=headers)


class _AsgiEndpoint:
    """An ASGI callable a route hands the raw request to (Starlette wraps plain methods as request handlers)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


def _metadata_routes(resource_url: str, issuer: str) -> list[Route]:
    """RFC 9728 metadata: which issuer's tokens this server takes, and the scopes it knows."""
    return create_protected_resource_routes(
        resource_url=AnyHttpUrl(resource_url),
        authorization_servers=[AnyHttpUrl(issuer)],
        scopes_supported=list(SCOPES),
        resource_name="piggy-mcp",
    )


def _needed_scope(message: Mapping[str, Any] | None, needed: Mapping[str, str]) -> str | None:
    """The scope a request needs: a tools/call its tool's, reading or subscribing to what Piggy holds piggy:read;
    None for the rest (listings, prompts; a tool the tenant does not serve is left to the SDK)."""
    method = message.get("method") if message is not None else None
    if method in _READING:
        return READ
    if message is None or method != "tools/call":
        return None
    return needed.get(str((message.get("params") or {}).get("name")))


def _on_sighup(reload: Callable[[], None]) -> None:
    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload)
    except (RuntimeError, NotImplementedError, ValueError):  # not the main thread, or no signals here
        log.warning("SIGHUP cannot reload the tenants here; restart to apply changes")


def healthz_route() -> Route:
    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Route("/healthz", healthz, methods=["GET"])
