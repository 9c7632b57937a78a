"""The single-use stores: a key is claimed once, by one of many claimants at the same instant, until it expires."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from piggy_mcp.single_use import RedisSingleUse, SingleUse, SqliteSingleUse


@pytest.fixture(params=["sqlite", "redis"])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[list[SingleUse]]:
    """Two stores over the same place, as two processes of one deployment hold them."""
    if request.param == "sqlite":
        yield [SqliteSingleUse(tmp_path / "state" / "claims.sqlite3") for _ in range(2)]
        return
    url = request.getfixturevalue("redis_url")
    pair = [RedisSingleUse(url), RedisSingleUse(url)]
    try:
        yield list(pair)
    finally:
        for store in pair:
            await store.aclose()


def unique_key() -> str:
    return f"key-{time.time_ns()}"


async def test_a_key_is_claimed_once_across_stores(stores: list[SingleUse]) -> None:
    key, expires = unique_key(), time.time() + 60
    assert await stores[0].claim(key, expires)
    assert not await stores[0].claim(key, expires)
    assert not await stores[1].claim(key, expires)
    assert await stores[1].claim(unique_key(), expires)


async def test_many_claims_at_the_same_instant_have_one_winner(stores: list[SingleUse]) -> None:
    key, expires = unique_key(), time.time() + 60
    won: list[bool] = []

    async def claim(store: SingleUse) -> None:
        won.append(await store.claim(key, expires))

    async with anyio.create_task_group() as claimants:
        for i in range(20):
            claimants.start_soon(claim, stores[i % 2])
    assert sorted(won) == [False] * 19 + [True]


async def test_an_expired_claim_is_forgotten(stores: list[SingleUse]) -> None:
    key = unique_key()
    assert await stores[0].claim(key, time.time() + 0.2)
    await anyio.sleep(0.4)
    assert await stores[1].claim(key, time.time() + 60)
