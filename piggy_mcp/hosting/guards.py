"""Guards in front of the MCP endpoint, for what the SDK's HTTP transport would let through or answer badly."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mcp_types import INVALID_REQUEST, jsonrpc_message_adapter
from pydantic import ValidationError
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


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the SDK the body already read, then whatever the client sends next."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


def read_message(body: bytes) -> tuple[Mapping[str, Any] | None, str | None]:
    """The JSON-RPC message `body` holds, or why it is not one. Text that is not JSON is left to the SDK (-32700),
    which answers it better than anything here could: (None, None)."""
    try:
        message: Any = json.loads(body)
    except ValueError:
        return None, None
    problem = _problem(message)
    return (message, None) if problem is None else (None, problem)


def _problem(message: Any) -> str | None:
    """Why `message` is not one JSON-RPC 2.0 message, or None.

    Left to the SDK, a malformed message is answered with code -32602 and pydantic's whole report, and a request
    whose id is neither a string nor an integer is taken for a notification: answered 202 with no result, so the
    client waits for ever. Here both get -32600 (Invalid Request) and one sentence.
    """
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


def invalid_request(problem: str, *, status: int) -> Response:
    error = {"code": INVALID_REQUEST, "message": f"Invalid Request: {problem}."}
    return JSONResponse({"jsonrpc": "2.0", "id": None, "error": error}, status_code=status)
