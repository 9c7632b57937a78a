"""PiggyClient (piggy/client.py): retries, write safety, the retry budget, the missing API key, secrets, what goes
to the transport, the connection pool over real sockets, the bound on concurrent requests, and a Piggy that
misbehaves: whole answers within a deadline, oversized answers abandoned while they stream, writes it accepted but
answered oddly reported as applied, and secrets it echoes never shown.

Piggy is faked with respx (see conftest). Where the model's view matters the tests go through the MCP tools
with the official client; where the HTTP mechanics are the point they call PiggyClient / PiggyAPI directly.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import traceback
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import anyio
import httpx
import pytest
import respx
from mcp import Client
from mcp.types import CallToolResult

import piggy_mcp.piggy.client as client_module
from piggy_mcp import __version__
from piggy_mcp.config import Settings
from piggy_mcp.piggy import PiggyAPI, PiggyClient
from piggy_mcp.piggy.client import API_PREFIX, MAX_ANSWER_BYTES
from piggy_mcp.piggy.deadline import call_deadline
from piggy_mcp.piggy.errors import (
    OutcomeUnknownError,
    OutOfTimeError,
    PiggyError,
    RateLimitedError,
    UpstreamError,
    WriteAppliedError,
)
from piggy_mcp.selection import select_tools
from piggy_mcp.server import build_server
from tests.conftest import API, API_KEY, BOOKING, CONTACT_A, CONTACT_B, SIGNING_KEY, make_settings
from tests.helpers import (
    AWARD,
    BALANCE_OK,
    BALANCE_PATH,
    RECEPTION,
    RECEPTION_OK,
    ClosingMockTransport,
    assert_ok_balance,
    award,
    balance,
    envelope,
    piggy_error,
    text_of,
)

# Marked while collecting, so anyio's plugin keeps the parameters of parametrized async tests (a marker added
# only after collection makes anyio rebuild those items without them). Harmless under anyio_mode = "auto".
pytestmark = pytest.mark.anyio

# What create_credit_reception tells the model to do when the outcome of an award is unknown.
CHECK_BALANCE_HINT = "Read the contact's credit balance or loyalty transactions"


@pytest.fixture
def fake_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Replaces the client's anyio.sleep (only in piggy_mcp.piggy.client) and records the delays asked for."""
    slept: list[float] = []

    async def sleep(delay: float) -> None:
        slept.append(delay)

    real = anyio
    fake = SimpleNamespace(
        sleep=sleep,
        Semaphore=real.Semaphore,
        move_on_after=real.move_on_after,
        fail_after=real.fail_after,
        WouldBlock=real.WouldBlock,
    )
    monkeypatch.setattr(client_module, "anyio", fake)
    return slept


class FakeClock:
    """A monotonic clock for piggy_mcp.piggy.client only; tests move it forward by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(client_module, "time", fake)
    return fake


# Retries ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("connection refused"),
        httpx.ConnectTimeout("connect timed out"),
        httpx.ReadTimeout("read timed out"),
        httpx.RemoteProtocolError("server disconnected"),
        httpx.Response(502),
        httpx.Response(503),
        httpx.Response(504),
        httpx.Response(429, headers={"Retry-After": "0"}),
    ],
    ids=lambda f: type(f).__name__ if isinstance(f, Exception) else f"http-{f.status_code}",
)
async def test_get_succeeds_on_second_attempt(client: Client, piggy: respx.MockRouter, failure: Any) -> None:
    route = piggy.get(BALANCE_PATH).mock(side_effect=[failure, httpx.Response(200, json=BALANCE_OK)])
    result = await balance(client)
    assert_ok_balance(result)
    assert route.call_count == 2


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (httpx.ConnectError("connection refused"), "network error talking to Piggy (ConnectError)"),
        (httpx.ReadTimeout("read timed out"), "did not answer in time"),
        (httpx.Response(502), "could not be reached or failed to answer"),
        (httpx.Response(503), "maintenance"),
        (httpx.Response(504), "could not be reached or failed to answer"),
        (httpx.Response(429, headers={"Retry-After": "0"}), "rate limiting"),
    ],
    ids=["ConnectError", "ReadTimeout", "http-502", "http-503", "http-504", "http-429"],
)
@pytest.mark.parametrize("max_attempts", [3, 5])
async def test_get_gives_up_after_max_attempts(
    piggy: respx.MockRouter, failure: Any, expected: str, max_attempts: int
) -> None:
    route = piggy.get(BALANCE_PATH)
    if isinstance(failure, Exception):
        route.mock(side_effect=failure)
    else:
        route.mock(return_value=failure)
    async with Client(build_server(make_settings(max_attempts=max_attempts))) as client:
        result = await balance(client)
    text = text_of(result)
    assert result.is_error
    assert expected in text
    assert "Next:" in text
    assert route.call_count == max_attempts


async def test_max_attempts_one_means_no_retry(piggy: respx.MockRouter) -> None:
    route = piggy.get(BALANCE_PATH).mock(side_effect=httpx.ConnectError("refused"))
    async with PiggyClient(make_settings(max_attempts=1)) as piggy_client:
        with pytest.raises(UpstreamError):
            await piggy_client.get(BALANCE_PATH)
    assert route.call_count == 1


async def test_get_retry_honours_a_short_retry_after(piggy: respx.MockRouter, fake_sleep: list[float]) -> None:
    route = piggy.get(BALANCE_PATH).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "0.75"}), httpx.Response(200, json=BALANCE_OK)]
    )
    async with PiggyClient(make_settings(max_retry_after=1.0)) as piggy_client:
        assert await piggy_client.get(BALANCE_PATH) == {"balance": 49}
    assert route.call_count == 2
    assert fake_sleep == [0.75]


async def test_get_429_just_above_max_retry_after_is_not_retried(
    piggy: respx.MockRouter, fake_sleep: list[float]
) -> None:
    route = piggy.get(BALANCE_PATH).respond(429, headers={"Retry-After": "2"})
    async with PiggyClient(make_settings(max_retry_after=1.0)) as piggy_client:
        with pytest.raises(RateLimitedError) as caught:
            await piggy_client.get(BALANCE_PATH)
    assert route.call_count == 1
    assert fake_sleep == []
    assert caught.value.retry_after == 2
    assert "Wait 2 seconds" in str(caught.value)


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (httpx.ReadTimeout("read timed out"), "did not answer in time"),
        (httpx.WriteTimeout("write timed out"), "did not answer in time"),
        (httpx.RemoteProtocolError("server disconnected without sending a response"), "RemoteProtocolError"),
        (httpx.ReadError("connection reset"), "ReadError"),
        (httpx.Response(500, json={"message": "Server Error"}), "HTTP 500"),
        (httpx.Response(502), "HTTP 502"),
        (httpx.Response(504), "HTTP 504"),
    ],
    ids=["ReadTimeout", "WriteTimeout", "RemoteProtocolError", "ReadError", "http-500", "http-502", "http-504"],
)
async def test_post_that_may_have_reached_piggy_is_sent_once(
    client: Client, piggy: respx.MockRouter, failure: Any, expected: str
) -> None:
    route = piggy.post("/credit-receptions").mock(side_effect=[failure, httpx.Response(201, json=RECEPTION_OK)])
    result = await award(client)
    text = text_of(result)
    assert result.is_error
    assert route.call_count == 1
    assert "unknown whether it took effect" in text
    assert expected in text
    assert CHECK_BALANCE_HINT in text
    assert "before awarding them again" in text


async def test_put_that_may_have_reached_piggy_is_sent_once(piggy: respx.MockRouter) -> None:
    route = piggy.put(f"/bookings/{BOOKING}").mock(side_effect=httpx.ReadTimeout("read timed out"))
    async with PiggyClient(make_settings()) as piggy_client:
        with pytest.raises(OutcomeUnknownError) as caught:
            await PiggyAPI(piggy_client).update_booking(BOOKING, {"status": "confirmed"})
    assert route.call_count == 1
    assert "unknown whether it took effect" in str(caught.value)
    assert "safe to call again" in str(caught.value)


async def test_post_outcome_unknown_without_hint_still_says_how_to_check(piggy: respx.MockRouter) -> None:
    route = piggy.post("/anything").respond(504)
    async with PiggyClient(make_settings()) as piggy_client:
        with pytest.raises(OutcomeUnknownError) as caught:
            await piggy_client.send("POST", "/anything", {"a": 1})
    assert route.call_count == 1
    assert "Check the current state in Piggy before trying again" in str(caught.value)


async def test_post_429_is_not_retried(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.post("/credit-receptions").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "0"}, json={"message": "Too Many Attempts."}),
            httpx.Response(201, json=RECEPTION_OK),
        ]
    )
    result = await award(client)
    text = text_of(result)
    assert result.is_error
    assert route.call_count == 1
    assert "rate limiting" in text
    assert "Nothing was changed" in text


async def test_post_503_maintenance_is_not_retried(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.post("/credit-receptions").mock(
        side_effect=[httpx.Response(503), httpx.Response(201, json=RECEPTION_OK)]
    )
    result = await award(client)
    text = text_of(result)
    assert result.is_error
    assert route.call_count == 1
    assert "maintenance" in text
    assert "Nothing was changed" in text


@pytest.mark.parametrize(
    "never_sent",
    [httpx.ConnectError("connection refused"), httpx.ConnectTimeout("connect timed out")],
    ids=["ConnectError", "ConnectTimeout"],
)
async def test_post_that_never_left_is_retried(client: Client, piggy: respx.MockRouter, never_sent: Exception) -> None:
    route = piggy.post("/credit-receptions").mock(side_effect=[never_sent, httpx.Response(201, json=RECEPTION_OK)])
    result = await award(client)
    assert not result.is_error, text_of(result)
    assert result.structured_content == {"uuid": RECEPTION, "credits": 10, "balance_after": 59}
    assert route.call_count == 2
    assert json.loads(route.calls[0].request.content) == json.loads(route.calls[1].request.content)


async def test_post_that_never_left_gives_up_after_max_attempts(
    client: Client, piggy: respx.MockRouter, settings: Settings
) -> None:
    route = piggy.post("/credit-receptions").mock(side_effect=httpx.ConnectError("connection refused"))
    result = await award(client)
    text = text_of(result)
    assert result.is_error
    assert route.call_count == settings.max_attempts
    assert "ConnectError" in text
    # Nothing reached Piggy, so the model must not be told the outcome is unknown.
    assert "unknown whether" not in text


async def test_retry_budget_stops_a_retry_after_that_would_exceed_it(
    piggy: respx.MockRouter, fake_sleep: list[float]
) -> None:
    # 0.9 s is short enough to wait out (max_retry_after=1) but longer than the whole budget.
    route = piggy.get(BALANCE_PATH).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "0.9"}), httpx.Response(200, json=BALANCE_OK)]
    )
    async with PiggyClient(make_settings(retry_budget=0.5, max_retry_after=1.0)) as piggy_client:
        with pytest.raises(RateLimitedError):
            await piggy_client.get(BALANCE_PATH)
    assert route.call_count == 1
    assert fake_sleep == []


async def test_retry_budget_counts_time_spent_in_requests(
    piggy: respx.MockRouter, clock: FakeClock, fake_sleep: list[float]
) -> None:
    def slow_503(request: httpx.Request) -> httpx.Response:
        clock.now += 3.0
        return httpx.Response(503)

    route = piggy.get(BALANCE_PATH).mock(side_effect=slow_503)
    async with PiggyClient(make_settings(retry_budget=5.0, max_attempts=5)) as piggy_client:
        with pytest.raises(PiggyError):
            await piggy_client.get(BALANCE_PATH)
    # t=0..3 first attempt, t=3..6 second; the budget (5 s) is spent, so no third of the five allowed.
    assert route.call_count == 2


async def test_retry_budget_caps_each_request_timeout(piggy: respx.MockRouter, clock: FakeClock) -> None:
    timeouts: list[dict[str, Any]] = []

    def slow_timeout(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"])
        clock.now += 3.0
        raise httpx.ReadTimeout("read timed out", request=request)

    piggy.get(BALANCE_PATH).mock(side_effect=slow_timeout)
    async with PiggyClient(make_settings(retry_budget=5.0, timeout=8.0, max_attempts=5)) as piggy_client:
        with pytest.raises(UpstreamError):
            await piggy_client.get(BALANCE_PATH)
    assert len(timeouts) == 2
    # No attempt may wait longer than what is left of the budget.
    assert timeouts[0]["read"] == pytest.approx(5.0)
    assert timeouts[1]["read"] == pytest.approx(2.0)


# The server keeps serving ------------------------------------------------------------------------------


async def test_next_call_succeeds_after_get_exhausted_its_retries(
    client: Client, piggy: respx.MockRouter, settings: Settings
) -> None:
    failures: list[Any] = [httpx.ReadTimeout("read timed out")] * settings.max_attempts
    route = piggy.get(BALANCE_PATH).mock(side_effect=[*failures, httpx.Response(200, json=BALANCE_OK)])
    assert (await balance(client)).is_error
    assert_ok_balance(await balance(client))
    assert route.call_count == settings.max_attempts + 1


async def test_next_call_succeeds_after_failures_of_every_kind(client: Client, piggy: respx.MockRouter) -> None:
    piggy.get(BALANCE_PATH).mock(
        side_effect=[
            httpx.Response(401, json={"message": "Unauthenticated."}),
            httpx.Response(200, json=BALANCE_OK),
            httpx.Response(200, text="not json"),
            httpx.Response(200, json=BALANCE_OK),
        ]
    )
    piggy.post("/credit-receptions").mock(
        side_effect=[httpx.RemoteProtocolError("disconnected"), httpx.Response(201, json=RECEPTION_OK)]
    )
    assert (await balance(client)).is_error
    assert_ok_balance(await balance(client))
    assert (await balance(client)).is_error
    assert_ok_balance(await balance(client))
    assert (await award(client)).is_error
    second = await award(client)
    assert not second.is_error, text_of(second)
    assert second.structured_content is not None
    assert second.structured_content["uuid"] == RECEPTION


# Missing API key --------------------------------------------------------------------------------------


@pytest.mark.parametrize("api_key", [None, ""], ids=["unset", "empty"])
async def test_missing_api_key_lists_tools_and_explains_on_call(piggy: respx.MockRouter, api_key: str | None) -> None:
    anything = piggy.route()
    async with Client(build_server(make_settings(api_key=api_key))) as client:
        listed = await client.list_tools()
        assert {tool.name for tool in listed.tools} == {spec.name for spec in select_tools()}
        assert len(listed.tools) == len(select_tools())
        for result in (await balance(client), await award(client)):
            text = text_of(result)
            assert result.is_error
            assert "PIGGY_API_KEY" in text
            assert "no Piggy API key" in text
    assert anything.call_count == 0
    assert len(piggy.calls) == 0


# Secret hygiene ---------------------------------------------------------------------------------------


async def test_api_key_never_leaks(
    piggy: respx.MockRouter, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings()
    server = build_server(settings)
    # Every logger at DEBUG, including those that do not propagate to the root logger.
    detached: list[logging.Logger] = []
    caplog.set_level(logging.DEBUG)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            caplog.set_level(logging.DEBUG, logger=name)
            if not logger.propagate:
                logger.addHandler(caplog.handler)
                detached.append(logger)

    piggy.get(BALANCE_PATH).mock(
        side_effect=[
            httpx.Response(200, json=BALANCE_OK),
            piggy_error(55031, "Contact not found"),
            httpx.Response(401, json={"error": "invalid_token", "message": "Unauthenticated."}),
            httpx.ConnectError("connection refused"),
            httpx.ReadTimeout("read timed out"),
            httpx.Response(503),
            httpx.Response(200, json=BALANCE_OK),
            httpx.Response(200, text="<html>oops</html>"),
            httpx.Response(200, json={"data": {}}),  # the tool itself fails on the missing field
            httpx.Response(429, headers={"Retry-After": "120"}),  # the direct calls below
            httpx.Response(401, json={"message": "Unauthenticated."}),
        ]
    )
    piggy.post("/credit-receptions").mock(
        side_effect=[
            httpx.Response(201, json=RECEPTION_OK),
            piggy_error(1003, "Invalid input", errors={"credits": ["The credits must be an integer."]}),
            httpx.ReadTimeout("read timed out"),
            httpx.Response(500, json={"message": "Server Error"}),
        ]
    )
    piggy.get(f"/contact-verification/auth-token/{CONTACT_A}").respond(
        200, json={"data": {"auth_token": "contact-token"}}
    )

    results: list[CallToolResult] = []
    try:
        async with Client(server) as client:
            for _ in range(7):  # walks through the GET responses above
                results.append(await balance(client))
            for _ in range(4):
                results.append(await award(client))
            results.append(await client.call_tool("get_contact_auth_token", {"contact_uuid": CONTACT_A}))
            results.append(await client.call_tool("get_contact_credit_balance", {"contact_uuid": "../x"}))
        async with PiggyClient(settings) as piggy_client:
            for _ in range(2):
                with pytest.raises(PiggyError) as caught:
                    await piggy_client.get(BALANCE_PATH)
                exc = caught.value
                assert API_KEY not in str(exc)
                assert API_KEY not in repr(exc)
                assert API_KEY not in "".join(traceback.format_exception(exc))
            with pytest.raises(PiggyError) as caught:
                await PiggyAPI(piggy_client).get_contact("../contacts")
            assert API_KEY not in "".join(traceback.format_exception(caught.value))
    finally:
        for logger in detached:
            logger.removeHandler(caplog.handler)

    assert any(r.is_error for r in results) and any(not r.is_error for r in results)
    assert sum(1 for r in results if not r.is_error) >= 4
    assert caplog.records, "logging was not captured; the test would prove nothing"
    assert "piggy GET" in caplog.text  # the client's own request log was captured

    for result in results:
        assert API_KEY not in text_of(result)
        assert API_KEY not in json.dumps(result.model_dump(mode="json"))
        if result.structured_content is not None:
            assert API_KEY not in json.dumps(result.structured_content)
    assert API_KEY not in caplog.text
    for record in caplog.records:
        assert API_KEY not in record.getMessage()
        assert API_KEY not in repr(record.args)
        if record.exc_info:
            assert API_KEY not in "".join(traceback.format_exception(*record.exc_info))
    out, err = capfd.readouterr()
    assert API_KEY not in out
    assert API_KEY not in err


# What goes to the transport ----------------------------------------------------------------------------


async def test_request_carries_headers_query_and_body() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"data": {"ok": True}})

    async with PiggyClient(make_settings(), transport=httpx.MockTransport(handler)) as piggy_client:
        await piggy_client.get("/contacts", params={"active": True, "archived": False, "q": "ann", "page": None})
        await piggy_client.get("/contacts/find", params={"email": "ann+1 b@example.com", "price": 10.5})
        await piggy_client.send("POST", "/credit-receptions", dict(AWARD))
        await piggy_client.send("POST", f"/contacts/{CONTACT_A}/claim")

    get, find, post, empty_post = sent
    for request in sent:
        assert request.headers["Authorization"] == f"Bearer {API_KEY}"
        assert request.headers["Accept"] == "application/json"
        assert request.headers["User-Agent"] == f"piggy-mcp/{__version__}"
        assert "gzip" in request.headers["Accept-Encoding"]
        assert request.headers["Host"] == "api.piggy.test"
    assert get.method == "GET"
    # Booleans go as 1/0 and None is left out.
    assert str(get.url) == f"{API}/contacts?active=1&archived=0&q=ann"
    assert get.content == b""
    # Reserved characters are escaped, as httpx escapes `params`.
    assert str(find.url) == f"{API}/contacts/find?email=ann%2B1+b%40example.com&price=10.5"
    assert dict(find.url.params) == {"email": "ann+1 b@example.com", "price": "10.5"}
    assert post.method == "POST"
    assert str(post.url) == f"{API}/credit-receptions"
    assert post.headers["Content-Type"] == "application/json"
    assert json.loads(post.content) == AWARD
    assert post.headers["Content-Length"] == str(len(post.content))
    # As httpx marks them: a write without a body says so, a read says nothing.
    assert empty_post.headers["Content-Length"] == "0"
    assert empty_post.content == b""
    assert "content-length" not in get.headers
    # The headers httpx.AsyncClient used to send, and nothing more (no cookies).
    assert set(post.headers) == {
        "host", "accept", "accept-encoding", "connection", "user-agent", "authorization",
        "content-length", "content-type",
    }  # fmt: skip


async def test_each_attempt_hands_its_timeout_to_the_transport(clock: FakeClock) -> None:
    timeouts: list[dict[str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"])
        clock.now += 3.0
        return httpx.Response(503)

    settings = make_settings(timeout=4.0, retry_budget=9.0, max_attempts=3)
    async with PiggyClient(settings, transport=httpx.MockTransport(handler)) as piggy_client:
        with pytest.raises(PiggyError):
            await piggy_client.get(BALANCE_PATH)
    # Every phase (connect, read, write, pool) gets the attempt's limit: the setting, then what the budget leaves.
    assert timeouts == [dict.fromkeys(("connect", "read", "write", "pool"), t) for t in (4.0, 4.0, 3.0)]


async def test_leaving_the_client_closes_the_transport_and_it_sends_no_more() -> None:
    transport = ClosingMockTransport()
    piggy_client = PiggyClient(make_settings(), transport=transport)
    async with piggy_client:
        assert await piggy_client.get(BALANCE_PATH) == {"balance": 49}
        assert transport.closed == 0
    assert transport.closed == 1
    with pytest.raises(RuntimeError, match="outside its `async with` block"):
        await piggy_client.get(BALANCE_PATH)
    assert len(transport.requests) == 1


class _BrokenBody(httpx.AsyncByteStream):
    """A body that breaks off half-way, as when the connection drops mid-response."""

    def __init__(self) -> None:
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"data": {"bal'
        raise httpx.ReadError("connection reset")

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_body_broken_off_closes_the_response(method: str) -> None:
    bodies: list[_BrokenBody] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(_BrokenBody())
        return httpx.Response(200, stream=bodies[-1])

    async with PiggyClient(make_settings(max_attempts=2), transport=httpx.MockTransport(handler)) as piggy_client:
        if method == "GET":
            with pytest.raises(UpstreamError, match="ReadError"):
                await piggy_client.get(BALANCE_PATH)
        else:
            with pytest.raises(OutcomeUnknownError, match="ReadError"):
                await piggy_client.send("POST", "/credit-receptions", dict(AWARD))
    assert len(bodies) == (2 if method == "GET" else 1)  # a read is retried, a write that may have landed is not
    assert all(body.closed for body in bodies)


# Over real sockets -------------------------------------------------------------------------------------


class LocalPiggy:
    """A minimal HTTP/1.1 keep-alive server on 127.0.0.1 that answers BALANCE_OK; it counts what it sees."""

    def __init__(self) -> None:
        self.url = ""
        self.opened = 0
        self.closed = 0
        self.request_lines: list[str] = []
        self.requested = asyncio.Event()  # set once a request arrived
        self.hung_up = asyncio.Event()  # set whenever a connection ends
        self.gate = asyncio.Event()  # requests wait here while it is cleared
        self.gate.set()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.opened += 1
        body = json.dumps(BALANCE_OK).encode()
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                lines = head.split("\r\n")
                length = next((int(h.split(":", 1)[1]) for h in lines if h.lower().startswith("content-length:")), 0)
                await reader.readexactly(length)
                self.request_lines.append(lines[0])
                self.requested.set()
                await self.gate.wait()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
                )
                writer.write(body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client hung up
        finally:
            self.closed += 1
            self.hung_up.set()
            writer.close()


@pytest.fixture
async def local_piggy(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[LocalPiggy]:
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    local = LocalPiggy()
    server = await asyncio.start_server(local.serve, "127.0.0.1", 0)
    local.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    async with server:
        yield local
        local.gate.set()
        with anyio.fail_after(5):  # every connection ends before the server does
            while local.closed < local.opened:
                local.hung_up.clear()
                await local.hung_up.wait()


async def test_calls_reuse_one_connection_until_aclose(local_piggy: LocalPiggy) -> None:
    async with PiggyClient(make_settings(base_url=local_piggy.url)) as piggy_client:
        for _ in range(3):
            assert await piggy_client.get(BALANCE_PATH) == {"balance": 49}
        await piggy_client.send("POST", "/credit-receptions", dict(AWARD))
    assert local_piggy.request_lines == [f"GET {API_PREFIX}{BALANCE_PATH} HTTP/1.1"] * 3 + [
        f"POST {API_PREFIX}/credit-receptions HTTP/1.1"
    ]
    assert local_piggy.opened == 1
    with anyio.fail_after(5):
        await local_piggy.hung_up.wait()  # aclose hung up the pooled connection
    assert local_piggy.closed == 1


async def test_a_write_waiting_for_the_pool_is_never_sent_and_may_be_retried(
    local_piggy: LocalPiggy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=client_module.__name__)
    # Two clients share a transport of one connection; the first holds it while the second's write times out
    # waiting for the pool. httpx.PoolTimeout means the write never left, so it is retried, not "outcome unknown".
    transport = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=1))
    patient = PiggyClient(make_settings(base_url=local_piggy.url, timeout=10.0), transport=transport)
    hasty = PiggyClient(make_settings(base_url=local_piggy.url, timeout=0.2, max_attempts=2), transport=transport)
    local_piggy.gate.clear()
    # Both clients close the shared transport as they leave, after the task group has finished.
    async with patient, hasty, anyio.create_task_group() as tasks:
        tasks.start_soon(patient.get, BALANCE_PATH)
        with anyio.fail_after(5):
            await local_piggy.requested.wait()
        with anyio.fail_after(5), pytest.raises(UpstreamError, match="did not answer in time"):
            await hasty.send("POST", "/credit-receptions", dict(AWARD))
        local_piggy.gate.set()
    assert local_piggy.request_lines == [f"GET {API_PREFIX}{BALANCE_PATH} HTTP/1.1"]
    failures = [r.getMessage() for r in caplog.records if r.getMessage().startswith("piggy POST")]
    assert len(failures) == 2
    assert all(message.endswith(": PoolTimeout") for message in failures)


async def test_a_proxy_from_the_environment_is_used(local_piggy: LocalPiggy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", local_piggy.url)
    async with PiggyClient(make_settings(base_url="http://api.piggy.test")) as piggy_client:
        assert await piggy_client.get(BALANCE_PATH) == {"balance": 49}
    # A proxy is sent the absolute URL.
    assert local_piggy.request_lines == [f"GET http://api.piggy.test{API_PREFIX}{BALANCE_PATH} HTTP/1.1"]


# The bound on concurrent requests to Piggy --------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "arguments", "method", "path"),
    [
        ("get_contact_credit_balance", {"contact_uuid": CONTACT_B}, "GET", f"/contacts/{CONTACT_B}/credit-balance"),
        ("create_credit_reception", AWARD, "POST", "/credit-receptions"),
    ],
    ids=["read", "write"],
)
async def test_excess_calls_wait_briefly_then_fail_clearly(
    piggy: respx.MockRouter, tool: str, arguments: dict[str, Any], method: str, path: str
) -> None:
    started, release = anyio.Event(), anyio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        started.set()
        await release.wait()
        return httpx.Response(200, json=envelope({"balance": 7}))

    held = piggy.get(f"/contacts/{CONTACT_A}/credit-balance").mock(side_effect=slow)
    second = piggy.request(method, path).respond(200, json=envelope({**RECEPTION_OK["data"], "balance": 1}))
    server = build_server(make_settings(max_concurrent_requests=1, queue_timeout=0.2))
    first: CallToolResult | None = None

    async def call_first(client: Client) -> None:
        nonlocal first
        first = await client.call_tool("get_contact_credit_balance", {"contact_uuid": CONTACT_A})

    with anyio.fail_after(20):
        async with Client(server) as client:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(call_first, client)
                await started.wait()
                began = anyio.current_time()
                busy = await client.call_tool(tool, arguments)
                waited = anyio.current_time() - began
                sent_while_busy = second.call_count
                release.set()
            # The slot is free again: the same call now goes through.
            later = await client.call_tool(tool, arguments)

    assert busy.is_error
    assert "busy" in text_of(busy)
    assert "Nothing was sent" in text_of(busy)
    assert sent_while_busy == 0
    # It waited for a slot (queue_timeout), briefly.
    assert 0.15 <= waited < 5, waited
    assert first is not None
    assert not first.is_error, text_of(first)
    assert first.structured_content == {"contact_uuid": CONTACT_A, "balance": 7}
    assert held.call_count == 1
    assert not later.is_error, text_of(later)
    assert second.call_count == 1


# Piggy misbehaving ---------------------------------------------------------------------------------------


class Trickle:
    """An HTTP server on 127.0.0.1 that sends its headers at once, then its body one byte every `pause` seconds."""

    def __init__(self, pause: float) -> None:
        self.pause = pause
        self.url = ""
        self.requests = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                ),
                0,
            )
            await reader.readexactly(length)
            self.requests += 1
            body = json.dumps(envelope({"balance": 49})).encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
            for byte in body:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(self.pause)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def trickle(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Trickle]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    server = Trickle(pause=0.5)
    listening = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    server.url = f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}"
    async with listening:
        yield server
        listening.close()


async def test_a_read_trickling_its_body_gives_up_at_the_deadline(trickle: Trickle) -> None:
    settings = make_settings(base_url=trickle.url, timeout=1.0, max_attempts=1)
    started = time.monotonic()
    async with PiggyClient(settings) as piggy_client:
        with pytest.raises(UpstreamError, match="did not answer in time"):
            await piggy_client.get(BALANCE_PATH)
    # Each byte came well within httpx's read timeout; only the whole-answer deadline ends it.
    assert time.monotonic() - started < 3


async def test_a_write_trickling_its_answer_is_an_unknown_outcome_at_the_deadline(trickle: Trickle) -> None:
    settings = make_settings(base_url=trickle.url, timeout=1.0)
    started = time.monotonic()
    async with PiggyClient(settings) as piggy_client:
        with pytest.raises(OutcomeUnknownError, match="did not answer in time"):
            await piggy_client.send("POST", "/credit-receptions", AWARD, how_to_check="Read the balance first.")
    assert time.monotonic() - started < 3
    assert trickle.requests == 1  # not repeated


async def test_the_deadline_leaves_the_client_usable(trickle: Trickle) -> None:
    settings = make_settings(base_url=trickle.url, timeout=0.5, max_attempts=1)
    async with PiggyClient(settings) as piggy_client:
        for _ in range(2):
            with anyio.fail_after(5), pytest.raises(UpstreamError):
                await piggy_client.get(BALANCE_PATH)
    assert trickle.requests == 2


class _Endless(httpx.AsyncByteStream):
    """A body of 1 MiB chunks that would go on for 100 MiB; counts what was read of it."""

    def __init__(self) -> None:
        self.chunks_read = 0
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(100):
            self.chunks_read += 1
            yield b" " * (1024 * 1024)

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.parametrize(
    ("method", "error", "says"),
    [
        ("GET", UpstreamError, "larger than 4 MB"),
        ("POST", WriteAppliedError, "most likely took effect"),
    ],
)
async def test_an_oversized_answer_is_abandoned_while_it_streams(
    method: str, error: type[Exception], says: str
) -> None:
    bodies: list[_Endless] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(_Endless())
        return httpx.Response(200, stream=bodies[-1])

    async with PiggyClient(make_settings(), transport=httpx.MockTransport(handler)) as piggy_client:
        with pytest.raises(error, match=says):
            if method == "GET":
                await piggy_client.get(BALANCE_PATH)
            else:
                await piggy_client.send("POST", "/credit-receptions", AWARD)
    (body,) = bodies  # neither is repeated
    assert body.chunks_read <= MAX_ANSWER_BYTES // (1024 * 1024) + 1
    assert body.closed


@pytest.mark.parametrize(
    "answer",
    [
        {"uuid": "r-1"},  # no credits
        {"id": 7, "result": "ok"},
        ["unexpected"],
    ],
    ids=["missing-field", "other-fields", "a-list"],
)
async def test_an_award_piggy_accepted_but_answered_oddly_says_it_was_applied(
    client: Client, piggy: respx.MockRouter, answer: object
) -> None:
    route = piggy.post("/credit-receptions").respond(200, json=envelope(answer))
    result = await client.call_tool("create_credit_reception", AWARD)
    text = text_of(result)
    assert result.is_error
    assert "most likely took effect" in text
    assert "Read the contact's credit balance" in text  # how to check
    assert text != "Error executing tool create_credit_reception"
    assert route.call_count == 1


async def test_a_read_answered_oddly_is_a_clear_error(client: Client, piggy: respx.MockRouter) -> None:
    piggy.get(BALANCE_PATH).respond(200, json=envelope({"credits": "many"}))
    result = await client.call_tool("get_contact_credit_balance", {"contact_uuid": CONTACT_A})
    assert result.is_error
    assert "unexpected form" in text_of(result)


AUTH_TOKEN = "fake-mcp-client-token-not-a-secret"


@pytest.mark.parametrize(
    "echo",
    [
        f"Invalid request, headers: Authorization: Bearer {API_KEY}",
        f"token {API_KEY} is not allowed",
        "Authorization: bearer some-other-token-Piggy-saw",
        f"signed with {SIGNING_KEY} and {AUTH_TOKEN}",
    ],
)
async def test_secrets_piggy_echoes_never_reach_the_model(piggy: respx.MockRouter, echo: str) -> None:
    piggy.get(BALANCE_PATH).respond(
        400, json={"message": echo, "code": 1003, "status_code": 400, "errors": {"contact_uuid": [echo]}}
    )
    server = build_server(make_settings(mcp_auth_tokens=AUTH_TOKEN))
    async with Client(server) as client:
        result = await client.call_tool("get_contact_credit_balance", {"contact_uuid": CONTACT_A})
    text = text_of(result)
    assert result.is_error
    assert "1003" in text
    for secret in (API_KEY, SIGNING_KEY, AUTH_TOKEN, "some-other-token-Piggy-saw"):
        assert secret not in text
    assert "[redacted]" in text


async def test_no_request_starts_once_the_tool_call_is_out_of_time(piggy: respx.MockRouter) -> None:
    route = piggy.post("/credit-receptions").respond(200, json=RECEPTION_OK)
    async with PiggyClient(make_settings()) as client:
        with call_deadline(30) as deadline:
            deadline.at = time.monotonic()  # its 30 seconds are used up
            with pytest.raises(OutOfTimeError, match="was not sent") as refused:
                await client.send("POST", "/credit-receptions", {"credits": 1})
    assert not route.called
    assert "a tool call may take 30 seconds" in str(refused.value)
