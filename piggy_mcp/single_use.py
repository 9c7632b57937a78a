"""Where the single use of confirmation tokens is recorded, so that every process of one deployment sees it.

A token is claimed, atomically, right before the write it confirms is sent: the first claim wins, any later one
(a retry, a replay on another replica, the same token sent to two replicas at once, a restarted process) loses.

- Embedded default: a SQLite file in the state directory, shared by the stdio processes of one desktop and by a
  restarted server.
- Replicas: a Redis server (`PIGGY_MCP_REDIS_URL`), with set-if-absent and the token's remaining lifetime.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Protocol

import anyio.to_thread

from piggy_mcp.config import Settings

_KEY_PREFIX = "piggy-mcp:confirmation:"


class SingleUse(Protocol):
    async def claim(self, key: str, expires_at: float) -> bool:
        """True the first time `key` is claimed; False if it was claimed before (until `expires_at`, a Unix time)."""
        ...


class SqliteSingleUse:
    """Claims in a SQLite file; several processes may share it."""

    def __init__(self, path: Path) -> None:
        self._path = path

    async def claim(self, key: str, expires_at: float) -> bool:
        return await anyio.to_thread.run_sync(self._claim, key, expires_at)

    def _claim(self, key: str, expires_at: float) -> bool:
        self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Autocommit: each statement is its own transaction, and SQLite serialises writers across processes.
        with sqlite3.connect(self._path, timeout=10, isolation_level=None) as db:
            db.execute("CREATE TABLE IF NOT EXISTS claimed (key TEXT PRIMARY KEY, expires_at REAL NOT NULL)")
            db.execute("DELETE FROM claimed WHERE expires_at < ?", (time.time(),))
            try:
                db.execute("INSERT INTO claimed (key, expires_at) VALUES (?, ?)", (key, expires_at))
            except sqlite3.IntegrityError:
                return False
            return True


class RedisSingleUse:
    """Claims in Redis, for replicas: SET NX with the token's remaining lifetime."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis  # only deployments that name a Redis server need the client

        # Bounded waits: a Redis that hangs must not hold a tool call past its deadline.
        self._redis = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)

    async def claim(self, key: str, expires_at: float) -> bool:
        lifetime_ms = max(int((expires_at - time.time()) * 1000), 1)
        return bool(await self._redis.set(_KEY_PREFIX + key, b"1", nx=True, px=lifetime_ms))

    async def aclose(self) -> None:
        await self._redis.aclose()


@asynccontextmanager
async def single_use_for(settings: Settings) -> AsyncIterator[SingleUse]:
    """The store `settings` name: Redis with PIGGY_MCP_REDIS_URL, else SQLite in the state directory."""
    if settings.mcp_redis_url is None:
        yield SqliteSingleUse(settings.state_dir / "confirmations.sqlite3")
        return
    store = RedisSingleUse(settings.mcp_redis_url.get_secret_value())
    try:
        yield store
    finally:
        await store.aclose()
