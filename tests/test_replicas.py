"""A confirmation confirms one action, once, anywhere: across replicas (a real Redis), restarts (the SQLite file),
processes started per call (a key stable for the account), and a state that changed since the user confirmed.

The replicas and restarts are real `python -m piggy_mcp` processes in front of one simulated Piggy served over
HTTP on loopback, so that every process sees the same account and the sandbox counts what reached it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from piggy_mcp.sandbox import SEED, Sandbox, create_app, serve_in_background
from tests.helpers import structured, text_of
from tests.servers import http_server

C, R, S = SEED.contacts, SEED.rewards, SEED.shops
REDEEM = {"contact_uuid": C.sanne_store, "reward_uuid": R.espresso, "shop_uuid": S.store}
SIGNING_KEY = "a-key-the-replicas-share-0123456789"


@pytest.fixture
def simulated() -> Iterator[tuple[Sandbox, str]]:
    """One simulated Piggy account over HTTP: its controller and base URL."""
    sandbox = Sandbox()
    with serve_in_background(create_app(sandbox=sandbox)) as url:
        yield sandbox, url


def redemptions(sandbox: Sandbox) -> int:
    return sum(1 for r in sandbox.requests if r.method == "POST" and r.path == "/reward-receptions")


def env(url: str, state_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "PIGGY_BASE_URL": url,
        "PIGGY_API_KEY": "sandbox",
        "PIGGY_MCP_STATE_DIR": str(state_dir),
        **extra,
    }


async def token_from(url: str) -> str:
    async with Client(url, mode="legacy") as client:  # an older client without elicitation: the token path
        pending = structured(await client.call_tool("redeem_reward", REDEEM))
    assert pending["status"] == "confirmation_required"
    token: str = pending["confirmation_token"]
    return token


async def redeem_with(url: str, token: str) -> tuple[bool, str]:
    """Whether the call was done, and what it said."""
    async with Client(url, mode="legacy") as client:
        result = await client.call_tool("redeem_reward", {**REDEEM, "confirmation_token": token})
    data: dict[str, Any] = result.structured_content or {}
    return (not result.is_error and data.get("status") == "done"), text_of(result)


async def test_two_replicas_sharing_redis_redeem_a_token_once_even_at_the_same_instant(
    simulated: tuple[Sandbox, str], redis_url: str, tmp_path: Path
) -> None:
    sandbox, url = simulated
    shared = env(url, tmp_path / "unused", PIGGY_MCP_SIGNING_KEY=SIGNING_KEY, PIGGY_MCP_REDIS_URL=redis_url)
    with (
        http_server({**shared, "PIGGY_MCP_STATE_DIR": str(tmp_path / "a")}, tmp_path) as a,
        http_server({**shared, "PIGGY_MCP_STATE_DIR": str(tmp_path / "b")}, tmp_path) as b,
    ):
        token = await token_from(a.mcp_url)
        outcomes: list[tuple[bool, str]] = []

        async def present(to: str) -> None:
            outcomes.append(await redeem_with(to, token))

        async with anyio.create_task_group() as both:
            both.start_soon(present, a.mcp_url)
            both.start_soon(present, b.mcp_url)
        # And later, on the other replica than the one that won.
        later = await redeem_with(b.mcp_url, token)

    assert sorted(done for done, _ in outcomes) == [False, True], outcomes
    refused = next(text for done, text in outcomes if not done)
    assert "already used" in refused
    assert not later[0] and "already used" in later[1]
    assert redemptions(sandbox) == 1


async def test_a_restarted_server_refuses_a_used_token(simulated: tuple[Sandbox, str], tmp_path: Path) -> None:
    sandbox, url = simulated
    same = env(url, tmp_path / "state")  # no signing key, no Redis: the embedded default
    with http_server(same, tmp_path) as first:
        token = await token_from(first.mcp_url)
        done, said = await redeem_with(first.mcp_url, token)
        assert done, said
    with http_server(same, tmp_path) as restarted:
        again, said = await redeem_with(restarted.mcp_url, token)
    assert not again
    assert "already used" in said
    assert redemptions(sandbox) == 1


async def test_a_token_is_refused_when_the_balance_changed_since_the_user_confirmed(
    simulated: tuple[Sandbox, str], tmp_path: Path
) -> None:
    sandbox, url = simulated
    with http_server(env(url, tmp_path / "state"), tmp_path) as server:
        token = await token_from(server.mcp_url)
        async with Client(server.mcp_url, mode="legacy") as client:
            award = {"contact_uuid": C.sanne_store, "shop_uuid": S.store, "credits": 5}
            structured(await client.call_tool("create_credit_reception", award))
        done, said = await redeem_with(server.mcp_url, token)
    assert not done
    assert "changed since the user confirmed" in said
    assert "Nothing was sent" in said
    assert redemptions(sandbox) == 0


async def test_a_client_that_starts_a_process_per_call_completes_the_token_path(
    simulated: tuple[Sandbox, str], tmp_path: Path
) -> None:
    sandbox, url = simulated
    # No PIGGY_MCP_SIGNING_KEY: each process derives the same key from the account's API key.
    params = StdioServerParameters(command=sys.executable, args=["-m", "piggy_mcp"], env=env(url, tmp_path / "s"))
    async with Client(params, mode="legacy") as first:
        token = structured(await first.call_tool("redeem_reward", REDEEM))["confirmation_token"]
    async with Client(params, mode="legacy") as second:
        done = await second.call_tool("redeem_reward", {**REDEEM, "confirmation_token": token})
    assert structured(done)["status"] == "done"
    async with Client(params, mode="legacy") as third:
        again = await third.call_tool("redeem_reward", {**REDEEM, "confirmation_token": token})
    assert again.is_error and "already used" in text_of(again)
    assert redemptions(sandbox) == 1


# Never twice: an order sent to two replicas at once ------------------------------------------------------------

ORDER = {
    "external_identifier": "BB-WEB-2001",
    "contact_uuid": C.sanne_online,
    "shop_uuid": S.web,
    "total_order_amount": 2500,
    "line_items": [{"external_identifier": "beans-1kg", "name": "Beans, 1 kg", "quantity": 2, "price": 1250}],
}


async def test_an_order_sent_to_two_replicas_at_once_reaches_piggy_once(
    simulated: tuple[Sandbox, str], redis_url: str, tmp_path: Path
) -> None:
    sandbox, url = simulated
    shared = env(url, tmp_path / "unused", PIGGY_MCP_REDIS_URL=redis_url, PIGGY_TOOLSETS="all")
    with (
        http_server({**shared, "PIGGY_MCP_STATE_DIR": str(tmp_path / "a")}, tmp_path) as a,
        http_server({**shared, "PIGGY_MCP_STATE_DIR": str(tmp_path / "b")}, tmp_path) as b,
    ):
        answers: list[dict[str, Any] | str] = []

        async def send(to: str) -> None:
            async with Client(to, mode="legacy") as client:
                result = await client.call_tool("create_order", ORDER)
            answers.append(text_of(result) if result.is_error else structured(result))

        async with anyio.create_task_group() as both:
            both.start_soon(send, a.mcp_url)
            both.start_soon(send, b.mcp_url)
        await send(b.mcp_url)  # and later, again
    orders = [r for r in sandbox.requests if r.method == "POST" and r.path == "/orders/create-and-process"]
    assert len(orders) == 1, answers
    processed = [answer for answer in answers if isinstance(answer, dict) and answer["status"] == "processed"]
    assert len(processed) == 1, answers
    # The other at the same instant found it in flight (refused, nothing sent) or done (answered from it).
    assert answers[-1] == {**processed[0], "status": "already_processed"}
