"""Bearer-token authentication for the HTTP transport, with tokens from PIGGY_MCP_AUTH_TOKENS.

Each entry is a token, or `sha256:<hex digest>` of one so that operators need not store plain tokens.
Tokens are compared as SHA-256 digests in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from mcp.server.auth.provider import AccessToken, TokenVerifier
from pydantic import SecretStr

from piggy_mcp.config import ConfigurationError

_PREFIX = "sha256:"


class StaticTokenVerifier(TokenVerifier):
    def __init__(self, tokens: Sequence[SecretStr]) -> None:
        self._digests = [token_digest(entry) for entry in tokens]

    async def verify_token(self, token: str) -> AccessToken | None:
        presented = hashlib.sha256(token.encode()).digest()
        match: bytes | None = None
        for digest in self._digests:  # no early exit: every entry is compared
            if hmac.compare_digest(presented, digest):
                match = digest
        if match is None:
            return None
        # A stable id per configured token, the same on every replica: request state is bound to it.
        return AccessToken(token=token, client_id=f"token-{match.hex()[:12]}", scopes=[])


def token_digest(configured: SecretStr) -> bytes:
    """The SHA-256 digest a configured token entry (plain, or `sha256:<hex>`) stands for."""
    entry = configured.get_secret_value()
    if entry.startswith(_PREFIX):
        try:
            digest = bytes.fromhex(entry.removeprefix(_PREFIX))
        except ValueError:
            digest = b""
        if len(digest) != 32:
            raise ConfigurationError("PIGGY_MCP_AUTH_TOKENS: a sha256: entry must be 64 hex characters")
        return digest
    return hashlib.sha256(entry.encode()).digest()
