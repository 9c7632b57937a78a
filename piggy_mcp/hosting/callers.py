"""Who a bearer token acts for: a static token of one tenant, or an OAuth access token whose tenant claim is one
of a tenant's subjects. Every caller acts for exactly one tenant, and is served by that tenant's server only."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass

from mcp.server.auth.provider import AccessToken, TokenVerifier

from piggy_mcp.config import Settings
from piggy_mcp.hosting.oauth import JwtVerifier
from piggy_mcp.hosting.tenants import DEFAULT_TENANT, Tenant
from piggy_mcp.scopes import SCOPES


@dataclass(frozen=True)
class Caller:
    tenant: str
    access: AccessToken


# The caller the HTTP front identified for the request in progress, so that the tenant's server need not verify
# the same token a second time.
_identified: ContextVar[Caller | None] = ContextVar("piggy_mcp_caller", default=None)


class Callers:
    """The static tokens and OAuth subjects of every tenant, and the OAuth issuer's verifier if there is one."""

    def __init__(self, tenants: Mapping[str, Tenant], oauth: JwtVerifier | None = None) -> None:
        self._by_digest = {digest: tenant.name for tenant in tenants.values() for digest in tenant.token_digests}
        self._by_subject = {subject: tenant.name for tenant in tenants.values() for subject in tenant.oauth_subjects}
        # With one account and no tenants file, every token the issuer signed for this server acts for it.
        self._only = DEFAULT_TENANT if list(tenants) == [DEFAULT_TENANT] else None
        self.oauth = oauth

    @property
    def required(self) -> bool:
        """Whether callers must present a token at all (with neither tokens nor OAuth, loopback is open)."""
        return bool(self._by_digest) or self.oauth is not None

    async def identify(self, token: str) -> Caller | None:
        presented = hashlib.sha256(token.encode()).digest()
        found: tuple[bytes, str] | None = None
        for digest, tenant in self._by_digest.items():  # no early exit: every entry is compared
            if hmac.compare_digest(presented, digest):
                found = digest, tenant
        if found is not None:
            # A stable id per configured token, the same on every replica: request state is bound to it.
            access = AccessToken(token=token, client_id=f"token-{found[0].hex()[:12]}", scopes=list(SCOPES))
            return Caller(found[1], access)
        if self.oauth is None:
            return None
        verified = await self.oauth.verify_token(token)
        if verified is None:
            return None
        claimed = (verified.claims or {}).get("tenant")
        acting = self._only or (self._by_subject.get(claimed) if isinstance(claimed, str) else None)
        return Caller(acting, verified) if acting is not None else None

    def verifier_for(self, tenant: str) -> TokenVerifier:
        """The verifier of `tenant`'s server: it accepts only tokens acting for that tenant."""
        return _TenantVerifier(self, tenant)


class _TenantVerifier(TokenVerifier):
    def __init__(self, callers: Callers, tenant: str) -> None:
        self._callers, self._tenant = callers, tenant

    async def verify_token(self, token: str) -> AccessToken | None:
        caller = _identified.get()
        if caller is None or caller.access.token != token:
            caller = await self._callers.identify(token)
        return caller.access if caller is not None and caller.tenant == self._tenant else None


def identified(caller: Caller) -> None:
    """Record `caller` as the one the current request comes from (the HTTP front, before it dispatches)."""
    _identified.set(caller)


def oauth_for(settings: Settings, http_url: str) -> JwtVerifier | None:
    """The verifier of PIGGY_MCP_OAUTH_ISSUER's tokens for the server at `http_url`, if an issuer is set.

    A token's audience must be this server: its MCP endpoint's URL, as the protected resource metadata names it,
    or its base URL, which identity providers often register as the API's identifier.
    """
    if settings.mcp_oauth_issuer is None:
        return None
    return JwtVerifier(
        settings.mcp_oauth_issuer,
        [f"{http_url}/mcp", http_url],
        jwks_url=settings.mcp_oauth_jwks_url,
        tenant_claim=settings.mcp_oauth_tenant_claim,
    )
