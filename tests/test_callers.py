"""Who a token acts for: static tokens and OAuth subjects, each of exactly one tenant."""

from __future__ import annotations

from typing import Any, cast

import pytest
from mcp.server.auth.provider import AccessToken
from pydantic import SecretStr

from piggy_mcp.config import ConfigurationError
from piggy_mcp.hosting.auth import token_digest
from piggy_mcp.hosting.callers import Callers
from piggy_mcp.hosting.oauth import JwtVerifier
from piggy_mcp.hosting.tenants import DEFAULT_TENANT, Tenant, single_tenant
from piggy_mcp.scopes import SCOPES
from tests.conftest import make_settings


class StubIssuer:
    """Stands in for JwtVerifier: the token's text is the tenant claim it carries; "bad" fails verification."""

    async def verify_token(self, token: str) -> AccessToken | None:
        if token == "bad":
            return None
        return AccessToken(token=token, client_id=f"oauth-{token}", scopes=["piggy:read"], claims={"tenant": token})


def oauth() -> JwtVerifier:
    return cast(JwtVerifier, StubIssuer())


def tenants() -> dict[str, Tenant]:
    settings = make_settings()
    return {
        "alpha": Tenant("alpha", settings, frozenset({token_digest(SecretStr("token-a"))}), frozenset({"org-a"})),
        "beta": Tenant("beta", settings, frozenset({token_digest(SecretStr("token-b"))}), frozenset({"org-b"})),
    }


@pytest.mark.anyio
async def test_a_static_token_acts_for_its_tenant_with_every_scope() -> None:
    caller = await Callers(tenants(), single=False).identify("token-b")
    assert caller is not None and caller.tenant == "beta"
    assert caller.access.scopes == list(SCOPES)
    assert await Callers(tenants(), single=False).identify("token-c") is None


@pytest.mark.anyio
@pytest.mark.parametrize(("token", "tenant"), [("org-a", "alpha"), ("org-b", "beta"), ("org-c", None), ("bad", None)])
async def test_an_oauth_token_acts_for_the_tenant_its_claim_names(token: str, tenant: str | None) -> None:
    caller = await Callers(tenants(), oauth(), single=False).identify(token)
    assert (caller.tenant if caller else None) == tenant


@pytest.mark.anyio
async def test_with_one_account_every_verified_token_acts_for_it() -> None:
    callers = Callers(single_tenant(make_settings()), oauth(), single=True)
    caller = await callers.identify("any-subject")
    assert caller is not None and caller.tenant == DEFAULT_TENANT
    assert await callers.identify("bad") is None
    assert callers.required and not Callers(single_tenant(make_settings()), single=True).required


@pytest.mark.anyio
async def test_a_tenants_server_accepts_only_its_own_callers() -> None:
    callers = Callers(tenants(), oauth(), single=False)
    alpha: Any = callers.verifier_for("alpha")
    assert (await alpha.verify_token("token-a")) is not None
    assert (await alpha.verify_token("org-a")) is not None
    assert (await alpha.verify_token("token-b")) is None
    assert (await alpha.verify_token("org-b")) is None


@pytest.mark.anyio
async def test_a_tenant_of_a_file_named_default_takes_only_its_own_subjects() -> None:
    settings = make_settings()
    named_default = {DEFAULT_TENANT: Tenant(DEFAULT_TENANT, settings, frozenset(), frozenset({"org-a"}))}
    callers = Callers(named_default, oauth(), single=False)
    assert (await callers.identify("org-a")) is not None
    assert (await callers.identify("org-evil")) is None


@pytest.mark.anyio
async def test_no_token_is_nobody_and_an_empty_token_cannot_be_configured() -> None:
    assert await Callers(tenants(), oauth(), single=False).identify("") is None
    with pytest.raises(ConfigurationError, match="must not be empty"):
        token_digest(SecretStr(" "))
