"""Who a bearer token acts for: a static token of one tenant, or an OAuth access token whose tenant claim is one
of a tenant's subjects. Every caller acts for exactly one tenant, and is served by that tenant's server only."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass

from mcp.server.auth.provider import AccessToken, TokenVerifier

from piggy_mcp.config import Settings
from piggy_mcp.hosting.auth import matching_digest, token_client_id
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

    def __init__(self, tenants: Mapping[str, Tenant], oauth: JwtVerifier | None = None, *, single: bool) -> None:
        """`single`: the environment's one account, no tenants file. Every token the issuer signed for this server
        then acts for it; with a tenants file only the subjects each tenant names do."""
        self._by_digest = {digest: tenant.name for tenant in tenants.values() for digest in tenant.token_digests}
        self._by_subject = {subject: tenant.name for tenant in tenants.values() for subject in tenant.oauth_subjects}
        self._only = DEFAULT_TENANT if single else None
        self.oauth = oauth

    @property
    def required(self) -> bool:
        """Whether callers must present a token at all (with neither tokens nor OAuth, loopback is open)."""
        return bool(self._by_digest) or self.oauth is not None

    async def identify(self, token: str) -> Caller | None:
        if not token:
            return None
        digest = matching_digest(token, self._by_digest)
        if digest is not None:
            access = AccessToken(token=token, client_id=token_client_id(digest), scopes=list(SCOPES))
            return Caller(self._by_digest[digest], access)
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
