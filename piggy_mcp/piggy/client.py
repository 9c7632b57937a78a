"""The one HTTP client to Piggy: authentication, envelopes, errors and retries.

Everything about *how* we talk to Piggy lives here; *what* we ask for lives in `api.py`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import anyio

from piggy_mcp import __version__
from piggy_mcp.config import Settings
from piggy_mcp.piggy import errors

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

API_PREFIX = "/api/v3/oauth/clients"

# Reads are repeated on gateway trouble and maintenance.
_RETRYABLE_STATUS = frozenset({502, 503, 504})


class Envelope(NamedTuple):
    """Piggy's success body: `data` is the payload, `meta` holds pagination when there is any."""

    data: Any
    meta: Any


class PiggyClient:
    """Sends requests to Piggy's OAuth client API over one `httpx.AsyncClient`.

    Use it as an async context manager (the server's lifespan does): the HTTP client, with its connection pool,
    is created on the first request and closed when the context ends. Created then, not before: importing httpx
    and what it pulls in takes about a tenth of a second, which every desktop client would otherwise wait for at
    start-up. `transport` replaces the network, for tests and the sandbox.
    """

    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._settings = settings
        self._transport = transport
        self._entered = False
        self._http: httpx.AsyncClient | None = None
        self._slots: anyio.Semaphore | None = None

    async def __aenter__(self) -> PiggyClient:
        self._entered = True
        self._slots = anyio.Semaphore(self._settings.max_concurrent_requests)
        return self

    async def __aexit__(self, *_: object) -> None:
        self._entered = False
        if self._http is not None:
            http, self._http = self._http, None
            await http.aclose()

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET `path` and return the envelope's `data`; retried on transient failures."""
        return (await self.request("GET", path, params=params)).data

    async def send(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        how_to_check: str | None = None,
        require_data: bool = True,
    ) -> Any:
        """Send a write and return the envelope's `data`.

        A write is repeated only when it certainly never left this process. `how_to_check` tells the
        model how to check the outcome when it may have reached Piggy without an answer coming back.
        """
        envelope = await self.request(method, path, json=body, how_to_check=how_to_check, require_data=require_data)
        return envelope.data

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
        how_to_check: str | None = None,
        require_data: bool = True,
    ) -> Envelope:
        """Send one request, retrying only what cannot duplicate an effect, and unwrap the envelope."""
        import httpx  # see the class docstring; _open() loads it

        http = self._open()
        is_read = method == "GET"
        settings = self._settings
        deadline = time.monotonic() + settings.retry_budget
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            timeout = min(settings.timeout, max(deadline - started, 0.1))
            try:
                response = await self._attempt(http, method, path, _query(params), json, timeout)
            except httpx.HTTPError as exc:
                kind = type(exc).__name__
                log.info("piggy %s %s failed after %.2fs: %s", method, path, time.monotonic() - started, kind)
                timed_out = isinstance(exc, httpx.TimeoutException)
                text = "Piggy did not answer in time" if timed_out else f"network error talking to Piggy ({kind})"
                # These are raised before a single byte of the request left: repeating cannot duplicate a write.
                never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
                if not is_read and not never_sent:
                    raise errors.OutcomeUnknownError(text, next_step=how_to_check) from None
                error: errors.PiggyError = errors.UpstreamError(text)
                retryable, delay = True, _backoff(attempt)
            else:
                log.info("piggy %s %s -> %s in %.2fs", method, path, response.status_code, time.monotonic() - started)
                if response.is_success:
                    return _unwrap(response, is_read, require_data, how_to_check)
                if not is_read and response.status_code in (500, 502, 504):
                    raise errors.OutcomeUnknownError(f"HTTP {response.status_code} from Piggy", next_step=how_to_check)
                retry_after = _retry_after(response)
                error = errors.from_response(response.status_code, _json_or_none(response), retry_after)
                retryable = is_read and _may_retry(response.status_code, retry_after, settings.max_retry_after)
                delay = retry_after if retry_after is not None else _backoff(attempt)
            if not retryable or attempt >= settings.max_attempts or time.monotonic() + delay >= deadline:
                raise error
            await anyio.sleep(delay)

    def _open(self) -> httpx.AsyncClient:
        key = self._settings.api_key
        if key is None or not key.get_secret_value():
            raise errors.NotConfiguredError()
        if not self._entered:
            raise RuntimeError("PiggyClient is used outside its `async with` block")
        if self._http is None:
            import httpx

            self._http = httpx.AsyncClient(
                base_url=self._settings.base_url.rstrip("/") + API_PREFIX,
                headers={
                    "Accept": "application/json",
                    "Authorization": f"Bearer {key.get_secret_value()}",
                    "User-Agent": f"piggy-mcp/{__version__}",
                },
                timeout=self._settings.timeout,
                transport=self._transport,
            )
        return self._http

    async def _attempt(
        self,
        http: httpx.AsyncClient,
        method: str,
        path: str,
        query: Mapping[str, Any] | None,
        json: Mapping[str, Any] | None,
        seconds: float,
    ) -> httpx.Response:
        """One attempt, within the bound on requests in flight, so a burst of agents cannot hammer the account."""
        slots = self._slots
        assert slots is not None  # set with the HTTP client in __aenter__
        with anyio.move_on_after(self._settings.queue_timeout) as waiting:
            await slots.acquire()
        if waiting.cancelled_caught:
            raise errors.BusyError()
        try:
            return await http.request(method, path, params=query, json=json, timeout=seconds)
        finally:
            slots.release()


def _may_retry(status: int, retry_after: float | None, max_retry_after: float) -> bool:
    """For a read: gateway trouble and maintenance pass; a 429 only if its wait is short."""
    if status == 429:
        return retry_after is not None and retry_after <= max_retry_after
    return status in _RETRYABLE_STATUS


def _query(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not params:
        return None
    # Piggy reads booleans as 1/0 in query strings (decision D10); None means "not given".
    return {k: (int(v) if isinstance(v, bool) else v) for k, v in params.items() if v is not None}


def _unwrap(response: httpx.Response, is_read: bool, require_data: bool, how_to_check: str | None) -> Envelope:
    body = _json_or_none(response)
    if isinstance(body, Mapping) and "data" in body:
        return Envelope(body["data"], body.get("meta"))
    if not require_data:
        return Envelope(body, None)
    if is_read:
        raise errors.UpstreamError("Piggy answered without the expected data envelope")
    # A write Piggy accepted but answered oddly most likely took effect: repeating it could apply it twice.
    raise errors.OutcomeUnknownError(
        f"Piggy accepted the request (HTTP {response.status_code}) but answered in an unexpected form",
        next_step=how_to_check,
    )


def _json_or_none(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds, given as a number or as an HTTP date."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _backoff(attempt: int) -> float:
    # Exponential with full jitter: 0.25-0.5 s, then 0.5-1 s, ...
    base: float = 0.25 * 2 ** (attempt - 1)
    return base + random.uniform(0, base)
