"""Guards in front of the MCP endpoint, for what the SDK's HTTP transport would let through or answer badly."""

from __future__ import annotations

import json
from typing import Any

from mcp.server.auth.provider import TokenVerifier
from mcp_types import INVALID_REQUEST, jsonrpc_message_adapter
from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MCP_PATH = "/mcp"


def _is_mcp(scope: Scope, method: str) -> bool:
    return bool(scope["type"] == "http" and scope["method"] == method and scope["path"].rstrip("/") == MCP_PATH)


class RefuseStandaloneStreams:
    """ASGI middleware: a GET on /mcp (an older client's stream for server-initiated messages) is refused with 405.

    HTTP is stateless here, so such a stream could never carry anything, yet it would hold a connection open for
    as long as the client likes. The protocol lets a server answer 405 instead, and clients carry on without it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _is_mcp(scope, "GET"):
            await Response(status_code=405, headers={"Allow": "POST"})(scope, receive, send)
            return
        await self._app(scope, receive, send)


class CheckJsonRpc:
    """ASGI middleware: a POST to /mcp carries one JSON-RPC 2.0 message of a bounded size, or is refused.

    Left to the SDK, a malformed message is answered with code -32602 and pydantic's whole report, and a request
    whose id is neither a string nor an integer is taken for a notification: answered 202 with no result, so the
    client waits for ever. Here both get -32600 (Invalid Request) and one sentence. Only authenticated callers'
    bodies are read: the SDK refuses the others before reading anything, and so this does not either.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, verifier: TokenVerifier | None) -> None:
        self._app = app
        self._max_bytes = max_bytes
        self._verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_mcp(scope, "POST") or not await self._authenticated(scope):
            await self._app(scope, receive, send)
            return
        body = await _body_within(scope, receive, self._max_bytes)
        if body is None:
            refusal = f"the request is larger than {self._max_bytes:,} bytes"
            await _invalid_request(refusal, status=413)(scope, receive, send)
            return
        problem = _problem(body)
        if problem is not None:
            await _invalid_request(problem, status=400)(scope, receive, send)
            return
        await self._app(scope, _replaying(body, receive), send)

    async def _authenticated(self, scope: Scope) -> bool:
        if self._verifier is None:
            return True
        scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and await self._verifier.verify_token(token.strip()) is not None


async def _body_within(scope: Scope, receive: Receive, max_bytes: int) -> bytes | None:
    """The whole request body, or None once it is over `max_bytes` (declared or received)."""
    declared = Headers(scope=scope).get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return None
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away; the SDK sees the same
            return bytes(body)
        body += message.get("body", b"")
        if len(body) > max_bytes:
            return None
        if not message.get("more_body", False):
            return bytes(body)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the SDK the body already read, then whatever the client sends next."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


def _problem(body: bytes) -> str | None:
    """Why `body` is not one JSON-RPC message, or None. Text that is not JSON is left to the SDK (-32700)."""
    try:
        message: Any = json.loads(body)
    except ValueError:
        return None
    if not isinstance(message, dict):
        return "the body must be one JSON-RPC message, a JSON object (batches are not supported)"
    if message.get("jsonrpc") != "2.0":
        return 'a JSON-RPC message must have "jsonrpc": "2.0"'
    if "id" in message and not _is_request_id(message["id"]):
        return "a request id must be a string or an integer"
    if "method" in message and not isinstance(message["method"], str):
        return "method must be a string"
    if "params" in message and not isinstance(message["params"], dict):
        return "params must be an object"
    try:
        jsonrpc_message_adapter.validate_python(message, by_name=False)
    except ValidationError:
        return "the message is neither a request, a notification nor a response"
    return None


def _is_request_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _invalid_request(problem: str, *, status: int) -> Response:
    error = {"code": INVALID_REQUEST, "message": f"Invalid Request: {problem}."}
    return JSONResponse({"jsonrpc": "2.0", "id": None, "error": error}, status_code=status)
