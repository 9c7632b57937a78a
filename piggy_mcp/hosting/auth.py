"""Bearer-token authentication for the HTTP transport, with tokens from PIGGY_MCP_AUTH_TOKENS.

Each entry is a token, or `sha256:<hex digest>` of one so that operators need not store plain tokens.
Tokens are compared as SHA-256 digests in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence

from mcp.server.auth.provider import AccessToken, TokenVerifier
from pydantic import SecretStr
from starlette.datastructures import Headers
from starlette.types import Scope

from piggy_mcp.config import ConfigurationError

_PREFIX = "sha256:"


class StaticTokenVerifier(TokenVerifier):
    def __init__(self, tokens: Sequence[SecretStr]) -> None:
        self._digests = [token_digest(entry) for entry in tokens]

    async def verify_token(self, token: str) -> AccessToken | None:
        match = matching_digest(token, self._digests)
        return None if match is None else AccessToken(token=token, client_id=token_client_id(match), scopes=[])


def bearer_token(scope: Scope) -> str:
    """The bearer token a request presents, or "" for none."""
    scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def matching_digest(token: str, digests: Iterable[bytes]) -> bytes | None:
    """The digest among `digests` that `token` has, compared in constant time; None for none (or no token)."""
    presented = hashlib.sha256(token.encode()).digest()
    match: bytes | None = None
    for digest in digests:  # no early exit: every entry is compared
        if hmac.compare_digest(presented, digest):
            match = digest
    return match if token else None


def token_client_id(digest: bytes) -> str:
    """A stable id per configured token, the same on every replica: request state is bound to it."""
    return f"token-{digest.hex()[:12]}"


def token_digest(configured: SecretStr) -> bytes:
    """The SHA-256 digest a configured token entry (plain, or `sha256:<hex>`) stands for."""
    entry = configured.get_secret_value()
    if not entry.strip():
        raise ConfigurationError("a bearer token must not be empty")
    if entry.startswith(_PREFIX):
        try:
            digest = bytes.fromhex(entry.removeprefix(_PREFIX))
        except ValueError:
            digest = b""
        if len(digest) != 32:
            raise ConfigurationError("PIGGY_MCP_AUTH_TOKENS: a sha256: entry must be 64 hex characters")
        return digest
    return hashlib.sha256(entry.encode()).digest()
