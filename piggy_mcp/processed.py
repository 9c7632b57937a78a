"""Where the writes this deployment already sent are recorded, so that a repeat is answered, not sent again.

Piggy has no idempotency keys. An order's `external_identifier`, or the `idempotency_key` a caller gives a money
write, names the write; the first call records it as pending before it is sent and as done with its result after,
and every process of the deployment sees the record:

- Embedded default: a SQLite file in the state directory, beside the single use of confirmation tokens.
- Replicas: the Redis server of `PIGGY_MCP_REDIS_URL` (set-if-absent, with the record's lifetime).

Keys are stored as an HMAC under a key derived from the deployment's signing key, so that two Piggy accounts
sharing one Redis never see each other's records, and the store holds no order numbers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import anyio.to_thread

from piggy_mcp.config import Settings

_KEY_PREFIX = "piggy-mcp:processed:"
# What a record holds before its write has been answered (or when its outcome stayed unknown).
_PENDING = "pending"


@dataclass(frozen=True)
class Earlier:
    """What an earlier call with the same key left: its result, or None while it is pending or unknown."""

    result: dict[str, Any] | None


class ProcessedStore(Protocol):
    async def begin(self, key: str, ttl_seconds: int) -> Earlier | None:
        """Record `key` as pending and return None, atomically, if no record of it exists; else what exists."""
        ...

    async def finish(self, key: str, result: dict[str, Any], ttl_seconds: int) -> None:
        """Record the result of the write `key` names."""
        ...

    async def abandon(self, key: str) -> None:
        """Forget `key`: its write certainly did not take effect, so it may be sent again."""
        ...


def _earlier(stored: str) -> Earlier:
    return Earlier(None if stored == _PENDING else json.loads(stored))


class SqliteProcessed:
    """Records in a SQLite file; several processes may share it."""

    def __init__(self, path: Path) -> None:
        self._path = path

    async def begin(self, key: str, ttl_seconds: int) -> Earlier | None:
        return await anyio.to_thread.run_sync(self._begin, key, ttl_seconds)

    async def finish(self, key: str, result: dict[str, Any], ttl_seconds: int) -> None:
        await anyio.to_thread.run_sync(self._write, key, json.dumps(result), ttl_seconds)

    async def abandon(self, key: str) -> None:
        await anyio.to_thread.run_sync(self._delete, key)

    def _connect(self) -> sqlite3.Connection:
        self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Autocommit: each statement is its own transaction, and SQLite serialises writers across processes.
        db = sqlite3.connect(self._path, timeout=10, isolation_level=None)
        db.execute("CREATE TABLE IF NOT EXISTS processed (key TEXT PRIMARY KEY, value TEXT, expires_at REAL)")
        return db

    def _begin(self, key: str, ttl_seconds: int) -> Earlier | None:
        with self._connect() as db:
            db.execute("DELETE FROM processed WHERE expires_at < ?", (time.time(),))
            try:
                db.execute("INSERT INTO processed VALUES (?, ?, ?)", (key, _PENDING, time.time() + ttl_seconds))
            except sqlite3.IntegrityError:
                (stored,) = db.execute("SELECT value FROM processed WHERE key = ?", (key,)).fetchone()
                return _earlier(stored)
            return None

    def _write(self, key: str, value: str, ttl_seconds: int) -> None:
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO processed VALUES (?, ?, ?)", (key, value, time.time() + ttl_seconds))

    def _delete(self, key: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM processed WHERE key = ?", (key,))


class MemoryProcessed:
    """Records in this process only: for the sandbox, whose simulated account lives as long as the process."""

    def __init__(self) -> None:
        self._records: dict[str, tuple[str, float]] = {}

    async def begin(self, key: str, ttl_seconds: int) -> Earlier | None:
        stored = self._records.get(key)
        if stored is not None and stored[1] > time.time():
            return _earlier(stored[0])
        self._records[key] = (_PENDING, time.time() + ttl_seconds)
        return None

    async def finish(self, key: str, result: dict[str, Any], ttl_seconds: int) -> None:
        self._records[key] = (json.dumps(result), time.time() + ttl_seconds)

    async def abandon(self, key: str) -> None:
        self._records.pop(key, None)


class RedisProcessed:
    """Records in Redis, for replicas."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis  # only deployments that name a Redis server need the client

        # Bounded waits: a Redis that hangs must not hold a tool call past its deadline.
        self._redis = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5, decode_responses=True)

    async def begin(self, key: str, ttl_seconds: int) -> Earlier | None:
        if await self._redis.set(_KEY_PREFIX + key, _PENDING, nx=True, ex=ttl_seconds):
            return None
        stored = await self._redis.get(_KEY_PREFIX + key)
        if stored is None:  # expired between the two commands: treated as pending, the careful side
            return Earlier(None)
        return _earlier(stored if isinstance(stored, str) else stored.decode())

    async def finish(self, key: str, result: dict[str, Any], ttl_seconds: int) -> None:
        await self._redis.set(_KEY_PREFIX + key, json.dumps(result), ex=ttl_seconds)

    async def abandon(self, key: str) -> None:
        await self._redis.delete(_KEY_PREFIX + key)

    async def aclose(self) -> None:
        await self._redis.aclose()


class Processed:
    """The records of one deployment, keyed by what names a write within its scope (e.g. "order", an id)."""

    def __init__(self, store: ProcessedStore, secret: bytes) -> None:
        self._store = store
        self._secret = secret

    def _key(self, scope: str, key: str) -> str:
        return hmac.new(self._secret, f"{scope}\0{key}".encode(), hashlib.sha256).hexdigest()

    async def begin(self, scope: str, key: str, ttl_seconds: int) -> Earlier | None:
        return await self._store.begin(self._key(scope, key), ttl_seconds)

    async def finish(self, scope: str, key: str, result: dict[str, Any], ttl_seconds: int) -> None:
        await self._store.finish(self._key(scope, key), result, ttl_seconds)

    async def abandon(self, scope: str, key: str) -> None:
        await self._store.abandon(self._key(scope, key))


@asynccontextmanager
async def processed_for(settings: Settings) -> AsyncIterator[Processed]:
    """The records `settings` name: in Redis with PIGGY_MCP_REDIS_URL, else in SQLite in the state directory."""
    secret = settings.derived_key("processed")
    if settings.sandbox:  # a fresh simulated account each run: what was sent to the last one is gone with it
        yield Processed(MemoryProcessed(), secret)
        return
    if settings.mcp_redis_url is None:
        yield Processed(SqliteProcessed(settings.state_dir / "processed.sqlite3"), secret)
        return
    store = RedisProcessed(settings.mcp_redis_url.get_secret_value())
    try:
        yield Processed(store, secret)
    finally:
        await store.aclose()
