"""POST /webhooks/piggy: Piggy's webhook deliveries, verified, counted once, and handed on.

Piggy signs a delivery with the `signature` header: the hex HMAC-SHA256 of the raw body under the subscription's
secret. Nothing else is signed, and there is no event id or timestamp, so:

- The bytes are verified as received, before anything reads them as JSON.
- A repeat is recognised by the SHA-256 of the exact body, claimed for the repeat window in the deployment's record
  of processed writes (processed.py: SQLite in the state directory, or Redis for replicas), which stores it as an
  HMAC under a key of the deployment. A body that differs in any byte is another event; two genuinely identical
  events within the window (Piggy sends no id that could tell them apart) count as one.
- A delivery that could not be handed on releases its claim and is answered 500, so that Piggy's retry counts.

The secret, the signature and the body are never logged: the event type and the outcome only.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from piggy_mcp.bounded_body import body_within
from piggy_mcp.config import Settings
from piggy_mcp.events.delivery import MalformedDelivery, PiggyEvent, parse_delivery
from piggy_mcp.processed import Processed, processed_for

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/piggy"
MAX_BYTES = 256 * 1024
# The scope of these claims in the record of processed writes: they never meet an order's or a money write's key.
_SCOPE = "webhook-delivery"
_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")

Deliver = Callable[[PiggyEvent], Awaitable[None]]
Endpoint = Callable[[Request], Awaitable[Response]]


@asynccontextmanager
async def repeats_for(settings: Settings) -> AsyncIterator[Processed]:
    """Where deliveries already received are claimed: with the writes this deployment sent (see processed_for)."""
    async with processed_for(settings) as processed:
        yield processed


def webhook_endpoint(
    secret: SecretStr,
    *,
    repeats: Processed,
    window_seconds: int,
    deliver: Deliver,
    max_bytes: int = MAX_BYTES,
) -> Endpoint:
    """A Starlette endpoint for `Route(WEBHOOK_PATH, endpoint, methods=["POST"])`, outside the MCP bearer token.

    `deliver` is awaited before Piggy is answered, so it should be quick (hand the event on, not act on it).
    """
    key = secret.get_secret_value().encode()
    if not key:  # an empty key is one anyone can sign with
        raise ValueError("the webhook secret must not be empty")
    if window_seconds < 1 or max_bytes < 1:
        raise ValueError("window_seconds and max_bytes must be positive")

    async def receive_delivery(request: Request) -> Response:
        if request.method != "POST":
            return _answer(405, "Deliveries are POSTed.", headers={"Allow": "POST"})
        signature = request.headers.get("signature", "").strip()
        if not _SIGNATURE.fullmatch(signature):
            log.warning("webhook refused (401): no well-formed signature header")
            return _answer(401, "The signature header is missing or is not a hex HMAC-SHA256.")
        body = await body_within(request.scope, request.receive, max_bytes)
        if body is None:
            log.warning("webhook refused (413): larger than %d bytes", max_bytes)
            return _answer(413, f"The delivery is larger than {max_bytes:,} bytes.")
        expected = hmac.new(key, body, hashlib.sha256).hexdigest()  # decision D60
        if not hmac.compare_digest(expected, signature.lower()):
            log.warning("webhook refused (401): the signature does not match the body")
            return _answer(401, "The signature does not match the body.")
        try:
            event = parse_delivery(body)
        except MalformedDelivery as exc:
            log.warning("webhook refused (400): a signed body that is not a delivery")
            return _answer(400, str(exc))
        return await _once(event, hashlib.sha256(body).hexdigest())  # decision D61: the body is the event's id

    async def _once(event: PiggyEvent, digest: str) -> Response:
        try:
            earlier = await repeats.begin(_SCOPE, digest, window_seconds)
        except Exception as exc:  # e.g. Redis unreachable: Piggy may try again later
            log.error("webhook %s: not received (503), the record of repeats failed (%s)", event.type, _origin(exc))
            return _answer(503, "Deliveries cannot be received now; send it again later.")
        if earlier is not None:
            log.info("webhook %s: a repeat, not delivered again", event.type)
            return JSONResponse({"status": "repeat"})
        try:
            await deliver(event)
        except Exception as exc:
            await _release(digest, event.type)
            # Without the exception's text or traceback, which may quote the delivery's data.
            log.error("webhook %s: delivering failed (500) with %s", event.type, _origin(exc))
            return _answer(500, "The delivery could not be handled; send it again.")
        except BaseException:  # cancelled (e.g. shutting down): Piggy gets no answer and retries, which must count
            with anyio.CancelScope(shield=True):
                await _release(digest, event.type)
            raise
        log.info("webhook %s: delivered", event.type)
        return JSONResponse({"status": "ok"})

    async def _release(digest: str, event_type: str) -> None:
        try:
            await repeats.abandon(_SCOPE, digest)
        except Exception as exc:
            log.error(
                "webhook %s: its claim was kept (%s); a retry within the window is lost", event_type, _origin(exc)
            )

    return receive_delivery


def _origin(exc: BaseException) -> str:
    """The exception's class and where it was raised: enough to find it, without its message."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return type(exc).__name__ + where


def _answer(status: int, error: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status, headers=headers)
