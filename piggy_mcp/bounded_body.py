"""Reading an HTTP request's body up to a bound, for the endpoints that must see it whole before answering."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import Receive, Scope


async def body_within(scope: Scope, receive: Receive, max_bytes: int) -> bytes | None:
    """The whole request body, or None once it is over `max_bytes` (declared or received); nothing is read past
    that. A client that goes away leaves what it sent, which the caller then checks (and refuses)."""
    declared = Headers(scope=scope).get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return None
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return bytes(body)
        body += message.get("body", b"")
        if len(body) > max_bytes:
            return None
        if not message.get("more_body", False):
            return bytes(body)
