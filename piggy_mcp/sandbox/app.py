"""The Starlette app that speaks Piggy's OAuth client API over the sandbox.

Every request passes the gate first: it is recorded, test faults are applied, the bearer token is checked,
and work queued by earlier requests is settled; then the route's handler answers with Piggy's envelope.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import anyio
import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from piggy_mcp.sandbox.control import Sandbox
from piggy_mcp.sandbox.errors import ApiError
from piggy_mcp.sandbox.faults import RecordedRequest
from piggy_mcp.sandbox.routes import ROUTES, Call, Handler
from piggy_mcp.sandbox.state import DEFAULT_PROCESSING_DELAY

PREFIX = "/api/v3/oauth/clients"


def create_app(
    *,
    api_key: str = "sandbox",
    portal_enabled: bool = True,
    processing_delay: float = DEFAULT_PROCESSING_DELAY,
    clock: Callable[[], datetime] | None = None,
    sandbox: Sandbox | None = None,
) -> Starlette:
    """A fresh sandboxed Piggy account as an ASGI app; `sandbox_of(app)` gives its controller."""
    sandbox = sandbox or Sandbox(
        api_key=api_key, portal_enabled=portal_enabled, processing_delay=processing_delay, clock=clock
    )
    routes = [Route(PREFIX + path, _endpoint(sandbox, handler), methods=[method]) for method, path, handler in ROUTES]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(_Gate, sandbox=sandbox)],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.sandbox = sandbox
    return app


def sandbox_of(app: Starlette) -> Sandbox:
    sandbox: Sandbox = app.state.sandbox
    return sandbox


def _endpoint(sandbox: Sandbox, handler: Handler) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        call = Call(
            store=sandbox.store,
            path_params=request.path_params,
            query=dict(request.query_params),
            body=_parse_body(request.headers.get("content-type", ""), await request.body()),
            url=str(request.url.replace(query="")),
        )
        try:
            data, meta = handler(call)
        except ApiError as error:
            return JSONResponse(error.body(), status_code=400)
        return JSONResponse({"data": data, "meta": meta})

    return endpoint


async def _http_error(request: Request, exc: Exception) -> Response:
    # Laravel's answers for unknown routes and wrong methods: a bare message, no Piggy code.
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        message = f"The {request.method} method is not supported for route {request.url.path.lstrip('/')}."
    else:
        message = f"The route {request.url.path.lstrip('/')} could not be found."
    return JSONResponse({"message": message}, status_code=exc.status_code, headers=exc.headers)


def _parse_body(content_type: str, raw: bytes) -> dict[str, Any]:
    """JSON or form bodies (Piggy's PHP SDK sends forms); anything unreadable counts as no input, as in Laravel."""
    if not raw:
        return {}
    if content_type.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(raw.decode("utf-8", "replace")))
    try:
        body = json.loads(raw)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class _Gate:
    """Pure ASGI middleware: the request log, test faults, authentication and settling of queued work."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        method: str = scope["method"]
        full_path: str = scope["path"]
        path = full_path[len(PREFIX) :] if full_path.startswith(PREFIX + "/") else full_path
        query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
        authorized = self._authorized(scope)
        parsed = _parse_body(_header(scope, b"content-type"), body) if body else None
        self.sandbox.record(RecordedRequest(method, path, query, parsed, authorized))

        fault = self.sandbox.faults.take(method, path)
        if fault is not None and fault.kind == "rate_limit":
            # Decision D28: Piggy documents no rate limit; this is Laravel's throttle answer.
            headers = {"Retry-After": f"{fault.retry_after:g}"}
            await _respond(scope, send, 429, {"message": "Too Many Attempts."}, headers)
            return
        if fault is not None and fault.kind == "maintenance":
            await _respond(scope, send, 503, {"message": "Service Unavailable"})
            return
        if fault is not None and fault.kind == "slow":
            await anyio.sleep(fault.seconds)
        if fault is not None and fault.kind == "drop" and not fault.after_handling:
            await _drop(send)

        if not authorized:
            # Decision D28: the body of Piggy's 401 is not documented; Laravel answers this for a bad token.
            await _respond(scope, send, 401, {"message": "Unauthenticated."})
            return
        self.sandbox.store.settle()

        replay = _replay(body, receive)
        if fault is None or fault.kind != "drop":
            await self.app(scope, replay, send)
            return

        # The request takes effect; its answer is swallowed and the connection lost.
        async def swallow(message: Message) -> None:
            return None

        await self.app(scope, replay, swallow)
        await _drop(send)

    def _authorized(self, scope: Scope) -> bool:
        expected = f"Bearer {self.sandbox.api_key}"
        return hmac.compare_digest(_header(scope, b"authorization").encode(), expected.encode())


def _header(scope: Scope, name: bytes) -> str:
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    return next((v.decode("latin-1") for k, v in headers if k.lower() == name), "")


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, once; then the server's own receive (which reports a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _respond(
    scope: Scope, send: Send, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> None:
    await JSONResponse(dict(body), status_code=status, headers=dict(headers or {}))(scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


async def _drop(send: Send) -> None:
    """Lose the connection: start a response, then fail before any body.

    Over uvicorn the server then closes the socket mid-response; in process, httpx.ASGITransport re-raises
    the exception to the client, so it is the one httpx raises for a connection lost the same way.
    """
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    raise httpx.RemoteProtocolError("Server disconnected without sending a complete response.")
