"""Confirmation tokens: HMACs over a tool name, its exact arguments and an expiry.

They need no server memory, so every replica that shares the signing key accepts them.
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
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError

_VERSION = "c1"
_TOKEN = re.compile(r"c1\.(?P<expires>[0-9]{1,12})\.(?P<nonce>[A-Za-z0-9_-]{8})\.(?P<signature>[A-Za-z0-9_-]{43})")


class Signer:
    """Issues and checks confirmation tokens bound to one tool call's exact arguments."""

    def __init__(self, key: str | bytes, ttl_seconds: int, clock: Callable[[], float] = time.time) -> None:
        self._key = key.encode() if isinstance(key, str) else key
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._spent: dict[str, int] = {}  # token -> expiry, for tokens used in this process

    def issue(self, tool: str, args: Mapping[str, Any]) -> str:
        expires = int(self._clock()) + self.ttl_seconds
        # A nonce makes every token unique, so single use refuses replays, not a second preview of the same call.
        nonce = secrets.token_urlsafe(6)
        return f"{_VERSION}.{expires}.{nonce}.{self._sign(tool, args, expires, nonce)}"

    def check(self, token: str, tool: str, args: Mapping[str, Any]) -> None:
        """Raise a `ToolError` unless `token` was issued by this key for `tool` with exactly `args`."""
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise ToolError(
                "confirmation_token is not a token this server issued. Nothing was sent. "
                "Call again without confirmation_token to get a fresh preview and token."
            )
        expires = int(match["expires"])
        if not hmac.compare_digest(match["signature"], self._sign(tool, args, expires, match["nonce"])):
            raise ToolError(
                "confirmation_token does not match these arguments (it was issued for a different call). "
                "Nothing was sent. Call again without confirmation_token to get a preview for these arguments."
            )
        if self._clock() > expires:
            raise ToolError(
                "confirmation_token has expired. Nothing was sent. Call again without confirmation_token "
                "for a fresh preview, and show it to the user again."
            )

    def redeem(self, token: str, tool: str, args: Mapping[str, Any]) -> None:
        """`check`, then refuse the token from now on in this process: presenting a token twice (a retry, a
        repeated message) must not repeat an irreversible action. Replicas do not share this memory; the
        token's expiry bounds what a replay on another replica could do."""
        self.check(token, tool, args)
        now = self._clock()
        self._spent = {spent: expires for spent, expires in self._spent.items() if expires >= now}
        if token in self._spent:
            raise ToolError(
                "confirmation_token was already used: the action it confirmed was sent once. Nothing was sent now. "
                "If it must happen again, call without confirmation_token for a fresh preview."
            )
        self._spent[token] = int(_TOKEN.fullmatch(token)["expires"])  # type: ignore[index]

    def _sign(self, tool: str, args: Mapping[str, Any], expires: int, nonce: str) -> str:
        message = json.dumps([tool, expires, nonce, dict(args)], sort_keys=True, separators=(",", ":")).encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
