"""Confirmation tokens: HMACs over a tool name, its exact arguments, what the user was shown, and an expiry.

They need no server memory to check, so every process that shares the signing key accepts them; their single
use is recorded elsewhere (`single_use.py`). A token carries:
- an id of the key that signed it, so that a token from a server with another key is refused as such;
- a digest of the preview the user was shown, so that the call can refuse when what is at stake has changed;
- a nonce, so that every token is unique and single use refuses replays, not a second preview of the same call.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

_VERSION = "c2"
_TOKEN = re.compile(
    r"c2\.(?P<expires>[0-9]{1,12})\.(?P<nonce>[A-Za-z0-9_-]{8})\.(?P<key>[A-Za-z0-9_-]{8})"
    r"\.(?P<stake>[A-Za-z0-9_-]{11})\.(?P<signature>[A-Za-z0-9_-]{43})"
)
_START_OVER = "Nothing was sent. Call again without confirmation_token for a fresh preview, and show it to the user."


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def stake_digest(preview: str) -> str:
    """A short digest of the preview text the user was shown."""
    return _b64(hashlib.sha256(preview.encode()).digest()[:8])


@dataclass(frozen=True)
class CheckedToken:
    """A token this key issued for this call, unexpired; `stake` is the digest of the preview it confirmed."""

    token: str
    stake: str
    expires_at: int


class Signer:
    """Issues and checks confirmation tokens bound to one tool call's exact arguments and preview."""

    def __init__(self, key: str | bytes, ttl_seconds: int, clock: Callable[[], float] = time.time) -> None:
        self._key = key.encode() if isinstance(key, str) else key
        self._key_id = _b64(hmac.new(self._key, b"key id", hashlib.sha256).digest()[:6])
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    def issue(self, tool: str, args: Mapping[str, Any], preview: str) -> str:
        expires = int(self._clock()) + self.ttl_seconds
        nonce = secrets.token_urlsafe(6)
        stake = stake_digest(preview)
        return f"{_VERSION}.{expires}.{nonce}.{self._key_id}.{stake}.{self._sign(tool, args, expires, nonce, stake)}"

    def check(self, token: str, tool: str, args: Mapping[str, Any]) -> CheckedToken:
        """The token's facts, or a `ToolError` unless this key issued it for `tool` with exactly `args`, unexpired."""
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise ToolError(f"confirmation_token is not a token this server issued. {_START_OVER}")
        if not hmac.compare_digest(match["key"], self._key_id):
            raise ToolError(
                "confirmation_token was signed with another key than this server's: a server without a shared "
                f"PIGGY_MCP_SIGNING_KEY issued it (another replica, or before a change of key). {_START_OVER}"
            )
        expires = int(match["expires"])
        signature = self._sign(tool, args, expires, match["nonce"], match["stake"])
        if not hmac.compare_digest(match["signature"], signature):
            raise ToolError(
                f"confirmation_token does not match these arguments (it was issued for a different call). {_START_OVER}"
            )
        if self._clock() > expires:
            raise ToolError(f"confirmation_token has expired. {_START_OVER}")
        return CheckedToken(token, match["stake"], expires)

    def _sign(self, tool: str, args: Mapping[str, Any], expires: int, nonce: str, stake: str) -> str:
        message = json.dumps(
            [tool, expires, nonce, stake, dict(args)], sort_keys=True, separators=(",", ":"), default=_plain
        )
        return _b64(hmac.new(self._key, message.encode(), hashlib.sha256).digest())


def _plain(value: Any) -> Any:
    """An argument that is a model (a list item, say) as the JSON it came in as."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"cannot sign an argument of type {type(value).__name__}")
