"""A Piggy that misbehaves breaks no promise: whole answers within a deadline, oversized answers abandoned while
they stream, writes it accepted but answered oddly reported as applied, and secrets it echoes never shown."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest
import respx
from mcp import Client

from piggy_mcp.piggy import PiggyClient
from piggy_mcp.piggy.client import MAX_ANSWER_BYTES
from piggy_mcp.piggy.errors import OutcomeUnknownError, UpstreamError, WriteAppliedError
from piggy_mcp.server import build_server
from tests.conftest import API_KEY, CONTACT_A, SHOP, SIGNING_KEY, make_settings
from tests.helpers import envelope, text_of

BALANCE_PATH = f"/contacts/{CONTACT_A}/credit-balance"
AWARD = {"contact_uuid": CONTACT_A, "shop_uuid": SHOP, "credits": 10}


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


AUTH_TOKEN = "bearer-token-of-a-client-0123456789"


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


async def test_the_deadline_leaves_the_client_usable(trickle: Trickle) -> None:
    settings = make_settings(base_url=trickle.url, timeout=0.5, max_attempts=1)
    async with PiggyClient(settings) as piggy_client:
        for _ in range(2):
            with anyio.fail_after(5), pytest.raises(UpstreamError):
                await piggy_client.get(BALANCE_PATH)
    assert trickle.requests == 2
