"""The record of writes already sent (piggy_mcp/processed.py): the first call with a key goes, at the same instant
too; a repeat finds its result; an abandoned key may go again; two accounts sharing a store never meet."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from piggy_mcp.processed import (
    Earlier,
    Processed,
    ProcessedStore,
    RedisProcessed,
    SqliteProcessed,
    processed_for,
)
from tests.conftest import make_settings


@pytest.fixture(params=["sqlite", "redis"])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[list[ProcessedStore]]:
    """Two stores over the same place, as two processes of one deployment hold them."""
    if request.param == "sqlite":
        yield [SqliteProcessed(tmp_path / "state" / "processed.sqlite3") for _ in range(2)]
        return
    url = request.getfixturevalue("redis_url")
    pair = [RedisProcessed(url), RedisProcessed(url)]
    try:
        yield list(pair)
    finally:
        for store in pair:
            await store.aclose()


def unique_key() -> str:
    return f"order-{time.time_ns()}"


async def test_the_first_call_goes_and_a_repeat_finds_its_result(stores: list[ProcessedStore]) -> None:
    key = unique_key()
    assert await stores[0].begin(key, 60) is None
    assert await stores[1].begin(key, 60) == Earlier(None)  # pending: its outcome is not known yet
    await stores[0].finish(key, {"uuid": "o-1", "credits": 12}, 60)
    assert await stores[1].begin(key, 60) == Earlier({"uuid": "o-1", "credits": 12})


async def test_an_abandoned_key_may_go_again(stores: list[ProcessedStore]) -> None:
    key = unique_key()
    assert await stores[0].begin(key, 60) is None
    await stores[0].abandon(key)
    assert await stores[1].begin(key, 60) is None


async def test_of_many_at_the_same_instant_one_goes(stores: list[ProcessedStore]) -> None:
    key, went = unique_key(), []

    async def begin(store: ProcessedStore) -> None:
        if await store.begin(key, 60) is None:
            went.append(store)

    async with anyio.create_task_group() as tasks:
        for _ in range(10):
            for store in stores:
                tasks.start_soon(begin, store)
    assert len(went) == 1


async def test_a_record_expires(stores: list[ProcessedStore]) -> None:
    key = unique_key()
    assert await stores[0].begin(key, 1) is None
    await anyio.sleep(2.1)
    assert await stores[1].begin(key, 60) is None


async def test_two_accounts_sharing_a_store_never_meet(tmp_path: Path) -> None:
    store = SqliteProcessed(tmp_path / "processed.sqlite3")
    first, second = Processed(store, b"a" * 32), Processed(store, b"b" * 32)
    assert await first.begin("order", "WEB-1001", 60) is None
    assert await second.begin("order", "WEB-1001", 60) is None
    assert await first.begin("order", "WEB-1001", 60) == Earlier(None)
    assert await first.begin("credit-reception", "WEB-1001", 60) is None  # scopes never meet either


async def test_the_sandboxs_records_go_with_its_simulated_account(tmp_path: Path) -> None:
    # Each sandbox run starts a fresh account: an order sent to the last one must not count as sent to this one.
    settings = make_settings(sandbox=True, mcp_state_dir=tmp_path)
    for _ in range(2):
        async with processed_for(settings) as processed:
            assert await processed.begin("order", "WEB-1001", 60) is None
            assert await processed.begin("order", "WEB-1001", 60) == Earlier(None)
    assert not await anyio.Path(tmp_path / "processed.sqlite3").exists()
