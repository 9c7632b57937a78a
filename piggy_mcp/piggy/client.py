"""The one HTTP client to Piggy: authentication, envelopes, errors and retries.

Everything about *how* we talk to Piggy lives here; *what* we ask for lives in `api.py`.
"""

from __future__ import annotations

import json as json_module
import logging
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, overload

import anyio
from pydantic import ValidationError

from piggy_mcp import __version__
from piggy_mcp.config import Settings
from piggy_mcp.piggy import errors
from piggy_mcp.piggy.deadline import current_deadline
from piggy_mcp.piggy.observe import Attempt, PiggyObserver, endpoint_template

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

API_PREFIX = "/api/v3/oauth/clients"

# Reads are repeated on gateway trouble and maintenance.
_RETRYABLE_STATUS = frozenset({502, 503, 504})
# An answer larger than this is abandoned while it streams: no answer piggy-mcp asks for comes near it.
MAX_ANSWER_BYTES = 4 * 1024 * 1024
_DEADLINE_GRACE = 0.25
# Less time than this left in the call, and the next request is not even started.
_SHORTEST_ATTEMPT = 0.1
# Invisible and direction-changing characters: they can hide text from the person who reads a result.
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\U000e0000-\U000e007f]")
_BEARER = re.compile(r"(?i)\bbearer\s+[^\s\"',;]+")
# What a write's answer is shaped with may fail on an answer of an unexpected form.
_SHAPING_ERRORS = (ValidationError, KeyError, TypeError, ValueError, AttributeError)

T = TypeVar("T")


def _unshaped(data: Any) -> Any:
    return data


@dataclass(frozen=True)
class _Answer:
    """Piggy's answer, read whole within the attempt's deadline."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300


class _AnswerTooLarge(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


class Envelope(NamedTuple):
    """Piggy's success body: `data` is the payload, `meta` holds pagination when there is any."""

    data: Any
    meta: Any


class PiggyClient:
    """Sends requests to Piggy's OAuth client API over one `httpx.AsyncClient`.

    Use it as an async context manager (the server's lifespan does): the HTTP client, with its connection pool,
    is created on the first request and closed when the context ends. Created then, not before: importing httpx
    and what it pulls in takes about a tenth of a second, which every desktop client would otherwise wait for at
    start-up. `transport` replaces the network, for tests and the sandbox. `observers` hear of every attempt.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        observers: Sequence[PiggyObserver] = (),
    ) -> None:
        self._settings = settings
        self._transport = transport
        self._observers = tuple(observers)
        self._redact = _redactor(settings)
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

    @overload
    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any: ...
    @overload
    async def get(self, path: str, params: Mapping[str, Any] | None = None, *, shape: Callable[[Any], T]) -> T: ...
    async def get(
        self, path: str, params: Mapping[str, Any] | None = None, *, shape: Callable[[Any], Any] = _unshaped
    ) -> Any:
        """GET `path` and return the envelope's `data` as `shape` makes it; retried on transient failures.

        Parameters always travel in the query string, even where the docs list them as a body (decision D11).
        """
        return await self.read(path, params, shape=lambda envelope: shape(envelope.data))

    async def read(self, path: str, params: Mapping[str, Any] | None, *, shape: Callable[[Envelope], T]) -> T:
        """GET `path` and return the whole envelope (`data` and `meta`) as `shape` makes it."""
        envelope = await self.request("GET", path, params=params)
        try:
            return shape(envelope)
        except _SHAPING_ERRORS as exc:
            raise errors.UpstreamError(f"Piggy answered in an unexpected form ({type(exc).__name__})") from None

    @overload
    async def send(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        how_to_check: str | None = None,
        require_data: bool = True,
    ) -> Any: ...
    @overload
    async def send(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        how_to_check: str | None = None,
        require_data: bool = True,
        shape: Callable[[Any], T],
    ) -> T: ...
    async def send(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        how_to_check: str | None = None,
        require_data: bool = True,
        shape: Callable[[Any], Any] = _unshaped,
    ) -> Any:
        """Send a write, its body as JSON (decision D22), and return the envelope's `data` as `shape` makes it.

        A write is repeated only when it certainly never left this process. `how_to_check` tells the
        model how to check the outcome when it may have reached Piggy without an answer coming back, or
        when Piggy accepted the write but its answer cannot be shaped.
        """
        envelope = await self.request(method, path, json=body, how_to_check=how_to_check, require_data=require_data)
        try:
            return shape(envelope.data)
        except _SHAPING_ERRORS as exc:
            raise errors.WriteAppliedError(
                f"its answer had an unexpected form ({type(exc).__name__})", next_step=how_to_check
            ) from None

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
        """Send one request, retrying only what cannot duplicate an effect (decision D17), and unwrap the envelope."""
        import httpx  # see the class docstring; _open() loads it

        http = self._open()
        is_read = method == "GET"
        settings = self._settings
        deadline = time.monotonic() + settings.retry_budget
        call = current_deadline()
        if call is not None:
            if call.at - time.monotonic() < _SHORTEST_ATTEMPT:
                raise errors.OutOfTimeError(f"a tool call may take {call.seconds:g} seconds")
            deadline = min(deadline, call.at)
        attempt = 0
        endpoint = endpoint_template(path)
        while True:
            attempt += 1
            started = time.monotonic()
            seen = Attempt(method, endpoint, attempt)
            try:
                response = await self._attempt(http, method, path, _query(params), json, deadline)
            except _AnswerTooLarge as exc:
                seen.status, seen.failure = exc.status, "AnswerTooLarge"
                log.info(
                    "piggy %s %s -> %s, answer over %d bytes abandoned", method, path, exc.status, MAX_ANSWER_BYTES
                )
                text = f"Piggy's answer was larger than {MAX_ANSWER_BYTES // (1024 * 1024)} MB and was abandoned"
                if is_read:
                    raise errors.UpstreamError(text) from None
                if 200 <= exc.status < 300:
                    raise errors.WriteAppliedError(text, next_step=how_to_check) from None
                raise errors.OutcomeUnknownError(text, next_step=how_to_check) from None
            except (httpx.HTTPError, TimeoutError) as exc:
                kind = "deadline" if isinstance(exc, TimeoutError) else type(exc).__name__
                seen.failure = kind
                log.info("piggy %s %s failed after %.2fs: %s", method, path, time.monotonic() - started, kind)
                timed_out = isinstance(exc, httpx.TimeoutException | TimeoutError)
                text = "Piggy did not answer in time" if timed_out else f"network error talking to Piggy ({kind})"
                # These are raised before a single byte of the request left: repeating cannot duplicate a write.
                never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
                if not is_read and not never_sent:
                    raise errors.OutcomeUnknownError(text, next_step=how_to_check) from None
                error: errors.PiggyError = errors.UpstreamError(text)
                retryable, delay = True, _backoff(attempt)
            else:
                log.info("piggy %s %s -> %s in %.2fs", method, path, response.status, time.monotonic() - started)
                seen.status = response.status
                if response.is_success:
                    return _unwrap(
                        response.status, self._redact(_json_or_none(response)), is_read, require_data, how_to_check
                    )
                if not is_read and response.status in (500, 502, 504):
                    raise errors.OutcomeUnknownError(f"HTTP {response.status} from Piggy", next_step=how_to_check)
                retry_after = _retry_after(response)
                error = errors.from_response(response.status, self._redact(_json_or_none(response)), retry_after)
                seen.piggy_code = error.code
                retryable = is_read and _may_retry(response.status, retry_after, settings.max_retry_after)
                delay = retry_after if retry_after is not None else _backoff(attempt)
            finally:
                self._observe(seen, started)
            if not retryable or attempt >= settings.max_attempts or time.monotonic() + delay >= deadline:
                raise error
            await anyio.sleep(delay)

    def _observe(self, seen: Attempt, started: float) -> None:
        # An attempt that never got to send (no free slot, the call cancelled) is not a request to Piggy.
        if seen.status is None and seen.failure is None:
            return
        seen.seconds = time.monotonic() - started
        for observer in self._observers:
            observer.attempted(seen)

    def _slots_changed(self, slots: anyio.Semaphore) -> None:
        for observer in self._observers:
            observer.slots_in_use(self._settings.max_concurrent_requests - slots.value)

    def _open(self) -> httpx.AsyncClient:
        # The API key is a Personal Access Token, sent as a bearer token (decision D25).
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
        deadline: float,
    ) -> _Answer:
        """One attempt, within the bound on requests in flight, so a burst of agents cannot hammer the account.

        The whole answer, from connecting to the body's last byte, must come within PIGGY_TIMEOUT and before
        `deadline` (with a short grace): httpx's own timeouts bound each phase (waiting for the pool, connecting,
        each read), which a slow trickle of bytes would never trip. The grace lets theirs fire first where they
        apply, since they tell whether the request ever left.
        """
        slots = self._slots
        assert slots is not None  # set with the HTTP client in __aenter__
        with anyio.move_on_after(min(self._settings.queue_timeout, deadline - time.monotonic())) as waiting:
            await slots.acquire()
        if waiting.cancelled_caught:
            raise errors.BusyError()
        self._slots_changed(slots)
        seconds = min(self._settings.timeout, max(deadline - time.monotonic(), _SHORTEST_ATTEMPT))
        try:
            with anyio.fail_after(seconds + _DEADLINE_GRACE):
                async with http.stream(method, path, params=query, json=json, timeout=seconds) as response:
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > MAX_ANSWER_BYTES:
                            raise _AnswerTooLarge(response.status_code)
            return _Answer(response.status_code, response.headers, bytes(body))
        finally:
            slots.release()
            self._slots_changed(slots)


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


def _unwrap(status: int, body: Any, is_read: bool, require_data: bool, how_to_check: str | None) -> Envelope:
    if isinstance(body, Mapping) and "data" in body:
        return Envelope(body["data"], body.get("meta"))
    if not require_data:
        return Envelope(body, None)
    if is_read:
        raise errors.UpstreamError("Piggy answered without the expected data envelope")
    # A write Piggy accepted but answered oddly most likely took effect: repeating it could apply it twice.
    raise errors.WriteAppliedError(f"it answered in an unexpected form (HTTP {status})", next_step=how_to_check)


def _json_or_none(answer: _Answer) -> Any:
    if not answer.body:
        return None
    try:
        return json_module.loads(answer.body)
    except ValueError:
        return None


def _redactor(settings: Settings) -> Callable[[Any], Any]:
    """Removes this deployment's secrets from what Piggy says, in case it echoes them (a message quoting the
    request's Authorization header, say): they must never reach a model, a log or a tool result. Invisible and
    direction-changing characters go too, from text that shoppers and staff wrote as from any other."""
    candidates = [settings.api_key, settings.mcp_signing_key, settings.webhook_secret, *settings.mcp_auth_tokens]
    secrets = sorted(
        {value for secret in candidates if secret is not None and len(value := secret.get_secret_value()) >= 8},
        key=len,
        reverse=True,
    )

    def redact(value: Any) -> Any:
        if isinstance(value, str):
            for secret in secrets:
                value = value.replace(secret, "[redacted]")
            return _INVISIBLE.sub("", _BEARER.sub("Bearer [redacted]", value))
        if isinstance(value, Mapping):
            return {key: redact(item) for key, item in value.items()}
        if isinstance(value, list):
            return [redact(item) for item in value]
        return value

    return redact


def _retry_after(response: _Answer) -> float | None:
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
