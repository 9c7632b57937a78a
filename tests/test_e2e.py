"""End to end: the member stories and Piggy's failures, through every real layer.

The sandbox (a simulated Piggy) is served over real HTTP on a loopback port; piggy-mcp runs as a separate process
pointed at it with PIGGY_BASE_URL, as it would be pointed at Piggy; the official MCP client talks to that process
over stdio (in legacy mode, as Claude Desktop does today) and over streamable HTTP (negotiating the 2026-07-28
protocol). After every step the test checks what the model reads AND what the sandbox now holds.

The fault tests use their own sandbox and HTTP server with PIGGY_TIMEOUT=1, so that a slow answer times out.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

from piggy_mcp.sandbox import LOGIN_CODE, SEED, Sandbox, create_app, sandbox_of, serve_in_background
from piggy_mcp.sandbox.serving import SANDBOX_NOTICE
from tests.helpers import BEANS_BAG_COST, ONLINE_BALANCE, STORE_BALANCE, assert_no_stdio_server_left, text_of
from tests.servers import SESSION_DEADLINE, HttpServer, http_server

KEY = "e2e-sandbox-key-not-a-secret"
C, E = SEED.contacts, SEED.emails
BEANS_BAG_STOCK = 12
MERGE_WAIT = 5.0  # seconds a queued merge may take to show (the sandbox applies it after 0.5 s)
FAULT_TIMEOUT = "1"  # PIGGY_TIMEOUT of the fault server, in seconds


@dataclass(frozen=True)
class Piggy:
    """A sandbox served over HTTP: its base URL, and its controller for state, request log and faults."""

    url: str
    sandbox: Sandbox

    def writes_since(self, mark: int) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.sandbox.requests[mark:] if r.method != "GET"]

    def requests_to(self, path: str, mark: int = 0) -> list[str]:
        return [r.method for r in self.sandbox.requests[mark:] if r.path == path]


@contextmanager
def served_sandbox() -> Iterator[Piggy]:
    app = create_app(api_key=KEY)
    with serve_in_background(app) as url:
        yield Piggy(url, sandbox_of(app))


def piggy_env(piggy: Piggy, **settings: str) -> dict[str, str]:
    """The server's whole environment: what a desktop client's config would give it, every toolset, and a
    state directory of its own (what it sent to this sandbox must not meet what it sent to another)."""
    return {
        "PATH": os.environ["PATH"],
        "PIGGY_BASE_URL": piggy.url,
        "PIGGY_API_KEY": KEY,
        "PIGGY_TOOLSETS": "all",
        "PIGGY_MCP_STATE_DIR": tempfile.mkdtemp(prefix="piggy-mcp-e2e-"),
        **settings,
    }


# Fixtures: one sandbox per server, each started once per module --------------------------------------------


@pytest.fixture(scope="module")
def stdio_piggy() -> Iterator[Piggy]:
    with served_sandbox() as piggy:
        yield piggy


@pytest.fixture(scope="module")
def http_piggy() -> Iterator[Piggy]:
    with served_sandbox() as piggy:
        yield piggy


@pytest.fixture(scope="module")
def stories_http_server(http_piggy: Piggy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    with http_server(piggy_env(http_piggy), tmp_path_factory.mktemp("stories")) as server:
        yield server


@pytest.fixture(scope="module")
def faults_sandbox() -> Iterator[Piggy]:
    with served_sandbox() as piggy:
        yield piggy


@pytest.fixture(scope="module")
def faults_server(faults_sandbox: Piggy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    env = piggy_env(faults_sandbox, PIGGY_TIMEOUT=FAULT_TIMEOUT)
    with http_server(env, tmp_path_factory.mktemp("faults")) as server:
        yield server


@pytest.fixture
def faulty(faults_sandbox: Piggy) -> Iterator[Piggy]:
    """The fault server's sandbox; after the test, every fault it was given must have been used up."""
    yield faults_sandbox
    pending = faults_sandbox.sandbox.faults.pending
    faults_sandbox.sandbox.clear_faults()
    assert not pending, f"a fault was not used up: the server sent fewer requests than expected: {pending}"


# A client session with the model's view of results ---------------------------------------------------------


class Session:
    """The official client, with the two ways a step can end: a result the model reads, or a tool error."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def call(self, tool: str, args: dict[str, Any]) -> CallToolResult:
        result = await self.client.call_tool(tool, args)
        # The server was only given a URL: it cannot tell this Piggy is simulated, and says nothing about it.
        assert SANDBOX_NOTICE not in text_of(result)
        return result

    async def ok(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        result = await self.call(tool, args)
        assert not result.is_error, f"{tool} failed: {text_of(result)}"
        data: dict[str, Any] | None = result.structured_content
        assert data is not None
        return data

    async def error(self, tool: str, args: dict[str, Any]) -> str:
        result = await self.call(tool, args)
        assert result.is_error, f"{tool} should have failed: {result.structured_content}"
        return text_of(result)

    async def balance(self, contact_uuid: str) -> int:
        data = await self.ok("get_contact_credit_balance", {"contact_uuid": contact_uuid})
        assert data["contact_uuid"] == contact_uuid
        value: int = data["balance"]
        return value

    async def balance_reaches(self, contact_uuid: str, expected: int, *, within: float) -> None:
        """Read the balance, as a model would, until it shows `expected` (Piggy applies some writes later)."""
        with anyio.fail_after(within):
            while True:
                if await self.balance(contact_uuid) == expected:
                    return
                await anyio.sleep(0.1)


@asynccontextmanager
async def session(target: Any, mode: str = "auto") -> AsyncIterator[Session]:
    with anyio.fail_after(SESSION_DEADLINE):
        async with Client(target, mode=mode) as client:
            yield Session(client)


def stdio_target(piggy: Piggy, workdir: Path, errlog: Any) -> Any:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "piggy_mcp"], env=piggy_env(piggy), cwd=str(workdir)
    )
    return stdio_client(params, errlog=errlog)


# The stories -----------------------------------------------------------------------------------------------


async def verify(s: Session, piggy: Piggy, email: str, contact_uuid: str) -> None:
    """send_contact_verification_email then verify_login_code: the sandbox holds the code until it is used."""
    await s.ok("send_contact_verification_email", {"email": email})
    assert piggy.sandbox.store.login_codes[contact_uuid] == LOGIN_CODE
    verified = await s.ok("verify_login_code", {"email": email, "code": LOGIN_CODE})
    assert verified == {"uuid": contact_uuid}
    assert contact_uuid not in piggy.sandbox.store.login_codes  # a code works once


async def story_points(s: Session, piggy: Piggy) -> None:
    """A member asks about their points: find by email, verify, auth token, balance."""
    store = piggy.sandbox.store
    mark = len(piggy.sandbox.requests)
    found = await s.ok("find_contact", {"email": E.sanne_store})
    assert (found["uuid"], found["email"], found["credit_balance"]) == (C.sanne_store, E.sanne_store, STORE_BALANCE)
    await verify(s, piggy, E.sanne_store, C.sanne_store)
    token = await s.ok("get_contact_auth_token", {"contact_uuid": C.sanne_store})
    assert token == {"auth_token": store.auth_token(C.sanne_store)}
    assert await s.balance(C.sanne_store) == STORE_BALANCE == store.contacts[C.sanne_store].balance
    # Only the verification wrote anything.
    assert piggy.writes_since(mark) == [
        ("POST", "/contact-verification/send"),
        ("POST", "/contact-verification/verify"),
    ]


async def story_merge(s: Session, piggy: Piggy) -> None:
    """The in-store and online profiles merge into one, confirmed first; the unified balance is the sum."""
    store = piggy.sandbox.store
    await verify(s, piggy, E.sanne_online, C.sanne_online)
    args = {"source_contact_uuid": C.sanne_online, "destination_contact_uuid": C.sanne_store}
    mark = len(piggy.sandbox.requests)

    asked = await s.ok("merge_contacts", args)
    assert asked["status"] == "confirmation_required"
    source, destination = asked["preview"].split(" INTO ")
    assert f"{ONLINE_BALANCE} credits" in source and f"{STORE_BALANCE} credits" in destination
    assert piggy.writes_since(mark) == []  # only the preview was read
    assert C.sanne_online in store.contacts

    done = await s.ok("merge_contacts", {**args, "confirmation_token": asked["confirmation_token"]})
    assert done["status"] == "done"
    assert piggy.writes_since(mark) == [("POST", "/contacts/merge")]
    [merge_request] = [r for r in piggy.sandbox.requests[mark:] if r.method == "POST"]
    assert merge_request.json == args

    # Piggy merges asynchronously: the balance shows it after a while.
    merged = STORE_BALANCE + ONLINE_BALANCE
    await s.balance_reaches(C.sanne_store, merged, within=MERGE_WAIT)
    assert C.sanne_online not in store.contacts
    assert store.contacts[C.sanne_store].balance == merged
    assert len(store.transactions_of(C.sanne_store)) == 3 + 2  # the online history moved along
    missing = await s.error("find_contact", {"email": E.sanne_online})
    assert f"No contact has the email {E.sanne_online}" in missing
    assert piggy.writes_since(mark) == [("POST", "/contacts/merge")]  # sent once, never repeated


PREFERRED_CATEGORY = [
    {"label": "Electronics", "value": "electronics"},
    {"label": "Clothing", "value": "clothing"},
    {"label": "Home goods", "value": "home_goods"},
]


async def story_attribute(s: Session, piggy: Piggy) -> None:
    """Marketing adds a "preferred category" select attribute with three options."""
    args = {
        "name": "preferred_category",
        "label": "Preferred category",
        "data_type": "select",
        "options": PREFERRED_CATEGORY,
    }
    created = await s.ok("create_contact_attribute", args)
    assert created == {"name": "preferred_category", "type": "select"}
    stored = piggy.sandbox.store.attribute("preferred_category")
    assert stored is not None and stored.type == "select"
    assert [(o["label"], o["value"]) for o in stored.options] == [(o["label"], o["value"]) for o in PREFERRED_CATEGORY]
    # A second time Piggy refuses the name: the model reads why, and nothing is added.
    refused = await s.error("create_contact_attribute", args)
    assert "60009" in refused and "already exists" in refused
    assert [a.name for a in piggy.sandbox.store.attributes].count("preferred_category") == 1


async def story_reward(s: Session, piggy: Piggy) -> None:
    """A member redeems points: verify, list rewards for the contact, redeem with confirmation, balance after."""
    store = piggy.sandbox.store
    balance = STORE_BALANCE + ONLINE_BALANCE  # after the merge
    await verify(s, piggy, E.sanne_store, C.sanne_store)
    offer = await s.ok("list_rewards", {"contact_uuid": C.sanne_store, "shop_uuid": SEED.shops.store})
    affordable = {r["uuid"]: r["required_credits"] for r in offer["rewards"]}
    assert affordable[SEED.rewards.beans_bag] == BEANS_BAG_COST
    assert all(cost <= balance for cost in affordable.values())

    args = {"contact_uuid": C.sanne_store, "reward_uuid": SEED.rewards.beans_bag, "shop_uuid": SEED.shops.store}
    mark = len(piggy.sandbox.requests)
    asked = await s.ok("redeem_reward", args)
    assert asked["status"] == "confirmation_required"
    assert f"who has {balance} credits. Balance after: {balance - BEANS_BAG_COST} credits." in asked["preview"]
    assert piggy.writes_since(mark) == []
    assert store.contacts[C.sanne_store].balance == balance

    done = await s.ok("redeem_reward", {**args, "confirmation_token": asked["confirmation_token"]})
    assert done["status"] == "done"
    assert done["reception"]["credits"] == -BEANS_BAG_COST
    assert done["reception"]["balance_after"] == balance - BEANS_BAG_COST
    assert piggy.writes_since(mark) == [("POST", "/reward-receptions")]
    assert store.contacts[C.sanne_store].balance == balance - BEANS_BAG_COST
    assert store.rewards[SEED.rewards.beans_bag].stock == BEANS_BAG_STOCK - 1
    assert await s.balance(C.sanne_store) == balance - BEANS_BAG_COST


async def story_purchase(s: Session, piggy: Piggy) -> None:
    """A web-shop order earns points once though it is sent twice; returning one line takes back its points."""
    balance = STORE_BALANCE + ONLINE_BALANCE - BEANS_BAG_COST  # after the merge and the redemption
    lines = [
        {"external_identifier": "beans-1kg", "name": "Beans, 1 kg", "quantity": 2, "price": 1250},
        {"external_identifier": "grinder", "name": "Hand grinder", "quantity": 1, "price": 3650},
    ]
    order = {
        "external_identifier": "BB-WEB-1001",
        "contact_uuid": C.sanne_store,
        "shop_uuid": SEED.shops.web,
        "total_order_amount": 6150,
        "line_items": lines,
    }
    mark = len(piggy.sandbox.requests)
    placed = await s.ok("create_order", order)
    assert placed["status"] == "processed" and placed["order"]["points"] == 61
    again = await s.ok("create_order", order)
    assert again == {**placed, "status": "already_processed"}
    assert piggy.writes_since(mark) == [("POST", "/orders/create-and-process")]  # sent once
    assert await s.balance(C.sanne_store) == balance + 61

    back = {
        "external_identifier": "BB-WEB-1001-R1",
        "order_external_identifier": "BB-WEB-1001",
        "line_items": [{"external_identifier": "beans-1kg", "quantity": 1}],
    }
    asked = await s.ok("create_order_return", back)
    assert asked["status"] == "confirmation_required"
    done = await s.ok("create_order_return", {**back, "confirmation_token": asked["confirmation_token"]})
    assert done["order_return"]["points"] == -12
    assert await s.balance(C.sanne_store) == balance + 61 - 12
    assert piggy.writes_since(mark) == [
        ("POST", "/orders/create-and-process"),
        ("POST", "/order-returns/create-and-process"),
    ]


STORIES: Sequence[Callable[[Session, Piggy], Any]] = (
    story_points,
    story_merge,
    story_attribute,
    story_reward,
    story_purchase,
)


async def walk_the_stories(s: Session, piggy: Piggy) -> None:
    for story in STORIES:
        await story(s, piggy)
    assert piggy.sandbox.requests and all(r.authorized for r in piggy.sandbox.requests)


async def test_stories_over_stdio_as_claude_desktop(stdio_piggy: Piggy, tmp_path: Path) -> None:
    with (tmp_path / "stderr.log").open("w", encoding="utf-8") as errlog:
        async with session(stdio_target(stdio_piggy, tmp_path, errlog), mode="legacy") as s:
            assert s.client.protocol_version in HANDSHAKE_PROTOCOL_VERSIONS
            await walk_the_stories(s, stdio_piggy)
    assert_no_stdio_server_left()
    stderr = (tmp_path / "stderr.log").read_text(encoding="utf-8")
    assert KEY not in stderr
    assert '"tool":"merge_contacts"' in stderr  # the audit trail saw the writes


async def test_stories_over_streamable_http(http_piggy: Piggy, stories_http_server: HttpServer) -> None:
    async with session(stories_http_server.mcp_url) as s:
        assert s.client.protocol_version in MODERN_PROTOCOL_VERSIONS
        await walk_the_stories(s, http_piggy)
    assert stories_http_server.process.poll() is None


# Piggy misbehaving: a clear tool error each time, no write sent twice, and the next call served ----------


async def test_rate_limit_with_a_long_wait_is_reported_at_once(faulty: Piggy, faults_server: HttpServer) -> None:
    path = f"/contacts/{C.emma}/credit-balance"
    async with session(faults_server.mcp_url) as s:
        before = await s.balance(C.emma)
        faulty.sandbox.rate_limit(retry_after=30, path=path)
        mark = len(faulty.sandbox.requests)
        text = await s.error("get_contact_credit_balance", {"contact_uuid": C.emma})
        assert "rate limiting" in text and "Wait 30 seconds" in text, text
        assert faulty.requests_to(path, mark) == ["GET"]  # a 30 s wait is not waited out
        assert await s.balance(C.emma) == before


async def test_maintenance_is_reported_for_reads_and_writes(faulty: Piggy, faults_server: HttpServer) -> None:
    path = f"/contacts/{C.emma}/credit-balance"
    async with session(faults_server.mcp_url) as s:
        before = await s.balance(C.emma)
        faulty.sandbox.maintenance(times=3, path=path)  # every attempt of a read
        faulty.sandbox.maintenance(method="POST", path="/credit-receptions")
        mark = len(faulty.sandbox.requests)
        text = await s.error("get_contact_credit_balance", {"contact_uuid": C.emma})
        assert "maintenance mode" in text, text
        assert faulty.requests_to(path, mark) == ["GET"] * 3  # a read is retried

        award = {"contact_uuid": C.emma, "shop_uuid": SEED.shops.web, "credits": 5}
        text = await s.error("create_credit_reception", award)
        assert "maintenance mode" in text and "Nothing was changed" in text, text
        assert faulty.requests_to("/credit-receptions", mark) == ["POST"]  # a write is not
        assert await s.balance(C.emma) == before


async def test_a_slow_answer_times_out_clearly(faulty: Piggy, faults_server: HttpServer) -> None:
    path = f"/contacts/{C.emma}/credit-balance"
    async with session(faults_server.mcp_url) as s:
        before = await s.balance(C.emma)
        faulty.sandbox.slow(float(FAULT_TIMEOUT) + 1.5, times=3, path=path)
        mark = len(faulty.sandbox.requests)
        with anyio.fail_after(10):  # three attempts of 1 s and two short pauses: well within a chat's patience
            text = await s.error("get_contact_credit_balance", {"contact_uuid": C.emma})
        assert "did not answer in time" in text, text
        assert faulty.requests_to(path, mark) == ["GET"] * 3
        assert await s.balance(C.emma) == before


async def test_a_write_that_times_out_is_not_sent_again(faulty: Piggy, faults_server: HttpServer) -> None:
    async with session(faults_server.mcp_url) as s:
        before = await s.balance(C.emma)
        faulty.sandbox.slow(float(FAULT_TIMEOUT) + 0.5, method="POST", path="/credit-receptions")
        mark = len(faulty.sandbox.requests)
        award = {"contact_uuid": C.emma, "shop_uuid": SEED.shops.web, "credits": 2}
        text = await s.error("create_credit_reception", award)
        assert "unknown whether it took effect" in text and "did not answer in time" in text, text
        # The sandbox handles it once its delay is over: the outcome really was unknown.
        await s.balance_reaches(C.emma, before + 2, within=5)
        assert faulty.requests_to("/credit-receptions", mark) == ["POST"]


async def test_a_dropped_write_has_an_unknown_outcome_and_is_sent_once(
    faulty: Piggy, faults_server: HttpServer
) -> None:
    async with session(faults_server.mcp_url) as s:
        before = await s.balance(C.emma)
        faulty.sandbox.drop(method="POST", path="/credit-receptions")
        mark = len(faulty.sandbox.requests)
        award = {"contact_uuid": C.emma, "shop_uuid": SEED.shops.web, "credits": 3}
        text = await s.error("create_credit_reception", award)
        assert "no answer came back" in text and "unknown whether it took effect" in text, text
        assert faulty.requests_to("/credit-receptions", mark) == ["POST"]
        # The request took effect; only its answer was lost. The next call is served as usual.
        assert await s.balance(C.emma) == before + 3
    assert faults_server.process.poll() is None
