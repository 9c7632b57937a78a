"""Many shops in one deployment: a tenants file, each tenant with its own Piggy account, selection and callers.

The end-to-end tests run one real piggy-mcp process serving two tenants against two simulated Piggy accounts
(each with its own API key) and check that nothing crosses between them."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp.server.subscriptions import ResourceUpdated

from piggy_mcp.config import ConfigurationError
from piggy_mcp.hosting.tenants import load_tenants
from piggy_mcp.resource_uris import contact_uri
from piggy_mcp.sandbox.app import create_app
from piggy_mcp.sandbox.runner import serve_in_background
from piggy_mcp.sandbox.seed import SEED
from tests.conftest import make_settings
from tests.helpers import DEFAULT_TOOLS, structured, text_of
from tests.servers import SESSION_DEADLINE, HttpServer, connect_http, http_server

KEY_ALPHA = "alpha-piggy-key-do-not-leak"
KEY_BETA = "beta-piggy-key-do-not-leak"
TOKEN_ALPHA = "alpha-caller-token-0001"
TOKEN_BETA = "beta-caller-token-0002"
OPERATOR = "operator-metrics-token-0003"
HOOKS_ALPHA = "alpha-webhook-secret-0004"
HOOKS_BETA = "beta-webhook-secret-0005"
BETA_TOOLSETS = ["contacts", "loyalty"]
BETA_TOOLS = {
    "find_contact",
    "get_contact",
    "update_contact",
    "send_contact_verification_email",
    "verify_login_code",
    "get_contact_auth_token",
    "merge_contacts",
    "claim_anonymous_contact",
    "create_contact",
    "create_anonymous_contact",
    "list_contacts",
    "delete_contact",
    "get_contact_credit_balance",
    "create_credit_reception",
    "reverse_credit_reception",
    "list_loyalty_transactions",
    "list_shops",
    "get_loyalty_program",
    "list_tiers",
    "get_contact_tier",
}


def sha256(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def tenants_toml(alpha_url: str, beta_url: str, workdir: Path, beta_toolsets: list[str]) -> str:
    return f"""
[tenants.alpha]
api_key = "{KEY_ALPHA}"
base_url = "{alpha_url}"
tokens = ["{TOKEN_ALPHA}"]
audit_log = "{workdir / "alpha-audit.jsonl"}"
webhook_secret_env = "PIGGY_HOOKS_ALPHA"

[tenants.beta]
api_key_env = "PIGGY_KEY_BETA"
base_url = "{beta_url}"
toolsets = {json.dumps(beta_toolsets)}
tokens = ["{sha256(TOKEN_BETA)}"]
audit_log = "{workdir / "beta-audit.jsonl"}"
webhook_secret_env = "PIGGY_HOOKS_BETA"
"""


def process_env(tenants_file: Path, workdir: Path, **extra: str) -> dict[str, str]:
    """The environment of a piggy-mcp process serving `tenants_file`: the variables it names, its own state."""
    return {
        "PATH": os.environ["PATH"],
        "PIGGY_MCP_TENANTS_FILE": str(tenants_file),
        "PIGGY_KEY_BETA": KEY_BETA,
        "PIGGY_HOOKS_ALPHA": HOOKS_ALPHA,
        "PIGGY_HOOKS_BETA": HOOKS_BETA,
        "PIGGY_MCP_STATE_DIR": str(workdir / "state"),
        **extra,
    }


@dataclass(frozen=True)
class Deployment:
    server: HttpServer
    workdir: Path
    tenants_file: Path
    alpha_url: str
    beta_url: str


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    workdir = tmp_path_factory.mktemp("tenants")
    with (
        serve_in_background(create_app(api_key=KEY_ALPHA, processing_delay=0)) as alpha_url,
        serve_in_background(create_app(api_key=KEY_BETA, processing_delay=0)) as beta_url,
    ):
        tenants_file = workdir / "tenants.toml"
        tenants_file.write_text(tenants_toml(alpha_url, beta_url, workdir, BETA_TOOLSETS))
        env = process_env(
            tenants_file,
            workdir,
            PIGGY_MCP_SIGNING_KEY="one-signing-key-for-the-deployment",
            PIGGY_MCP_AUTH_TOKENS=OPERATOR,
        )
        with http_server(env, workdir) as server:
            yield Deployment(server, workdir, tenants_file, alpha_url, beta_url)
            log = server.log.read_text(encoding="utf-8", errors="replace")
    for secret in (KEY_ALPHA, KEY_BETA, TOKEN_ALPHA, TOKEN_BETA, OPERATOR, HOOKS_ALPHA, HOOKS_BETA):
        assert secret not in log


async def tool_names(url: str, token: str) -> set[str]:
    async with connect_http(url, token) as client:
        return {tool.name for tool in (await client.list_tools()).tools}


async def call(url: str, token: str, tool: str, arguments: dict[str, Any]) -> Any:
    async with connect_http(url, token) as client:
        return await client.call_tool(tool, arguments)


async def balance(url: str, token: str) -> int:
    result = await call(url, token, "get_contact_credit_balance", {"contact_uuid": SEED.contacts.sanne_store})
    credits: int = structured(result)["balance"]
    return credits


# The file ---------------------------------------------------------------------------------------------------


def test_a_tenant_gets_its_own_account_selection_and_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIGGY_KEY_BETA", KEY_BETA)
    monkeypatch.setenv("PIGGY_HOOKS_ALPHA", HOOKS_ALPHA)
    monkeypatch.setenv("PIGGY_HOOKS_BETA", HOOKS_BETA)
    path = tmp_path / "tenants.toml"
    path.write_text(tenants_toml("https://a.example", "https://b.example", tmp_path, ["contacts"]))
    base = make_settings(read_only=False, exclude_tools=["delete_contact"])
    tenants = load_tenants(path, base)
    alpha, beta = tenants["alpha"].settings, tenants["beta"].settings
    assert alpha.api_key is not None and alpha.api_key.get_secret_value() == KEY_ALPHA
    assert beta.api_key is not None and beta.api_key.get_secret_value() == KEY_BETA
    assert (alpha.base_url, beta.base_url) == ("https://a.example", "https://b.example")
    assert beta.toolsets == ["contacts"] and beta.exclude_tools == ["delete_contact"]
    assert alpha.derived_key("confirmation") != beta.derived_key("confirmation") != base.derived_key("confirmation")
    assert tenants["beta"].token_digests == {hashlib.sha256(TOKEN_BETA.encode()).digest()}


def test_a_tenant_never_takes_the_environments_webhook_secret_and_has_an_audit_file_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "tenants.toml"
    path.write_text('[tenants.one]\napi_key = "k1"\ntokens = ["t1"]\n')
    base = make_settings(webhook_secret="the-environments-secret", audit_log=tmp_path / "audit.jsonl")
    one = load_tenants(path, base)["one"].settings
    assert one.webhook_secret is None
    assert one.audit_log == tmp_path / "audit.one.jsonl"


def test_tenants_on_one_account_still_sign_apart(tmp_path: Path) -> None:
    path = tmp_path / "tenants.json"
    entry = {"api_key": KEY_ALPHA, "base_url": "https://a.example"}
    path.write_text(json.dumps({"tenants": {"one": {**entry, "tokens": ["t1"]}, "two": {**entry, "tokens": ["t2"]}}}))
    tenants = load_tenants(path, make_settings(mcp_signing_key=None))
    assert tenants["one"].settings.derived_key("processed") != tenants["two"].settings.derived_key("processed")


BAD_FILES = [
    ("[tenants.alpha\n", "not valid TOML"),
    ('[tenants.alpha]\napi_key = "k"\ntokens = ["t"]\ncolour = "red"\n', "tenants.alpha.colour: Extra inputs"),
    ('[tenants.alpha]\ntokens = ["t"]\n', "exactly one of api_key and api_key_env"),
    ('[tenants.alpha]\napi_key = "k"\n', "name the tokens or oauth_subjects"),
    ('[tenants.alpha]\napi_key_env = "PIGGY_NOT_SET"\ntokens = ["t"]\n', "PIGGY_NOT_SET is not set"),
    ('[tenants.Alpha]\napi_key = "k"\ntokens = ["t"]\n', "lowercase letters"),
    ('[tenants.alpha]\napi_key = "k"\ntokens = ["t"]\ntoolsets = ["nope"]\n', "unknown toolset 'nope'"),
    ('[tenants.a]\napi_key = "k"\ntokens = ["t"]\n[tenants.b]\napi_key = "k"\ntokens = ["t"]\n', "share a token"),
    ('[tenants.a]\napi_key = "k"\ntokens = ["t"]\nshop_uuid = "x"\n', "PIGGY_SHOP_UUID must be a shop's uuid"),
    ("tenants = {}\n", "tenants: Dictionary should have at least 1 item"),
    ('[tenants.a]\napi_key = "k"\noauth_subjects = ["o"]\n', "PIGGY_MCP_OAUTH_ISSUER is not set"),
    ('[tenants.a]\napi_key = "k"\ntokens = [""]\n', "a bearer token must not be empty"),
    ('[tenants.a]\napi_key = "k"\ntokens = ["t"]\noauth_subjects = [" "]\n', "an oauth subject must not be empty"),
    (
        '[tenants.a]\napi_key = "k"\ntokens = ["t1"]\nwebhook_secret_env = "PIGGY_HOOKS_ALPHA"\n'
        '[tenants.b]\napi_key = "k"\ntokens = ["t2"]\nwebhook_secret_env = "PIGGY_HOOKS_ALPHA"\n',
        "share a token, subject or webhook secret",
    ),
]


@pytest.mark.parametrize(("text", "reason"), BAD_FILES)
def test_a_malformed_file_is_refused_in_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, reason: str
) -> None:
    monkeypatch.setenv("PIGGY_HOOKS_ALPHA", HOOKS_ALPHA)
    path = tmp_path / "tenants.toml"
    path.write_text(text.replace('"k"', '"secret-key-value-1"'))
    with pytest.raises(ConfigurationError) as refused:
        load_tenants(path, make_settings())
    message = str(refused.value)
    assert reason in message
    assert message.startswith(f"PIGGY_MCP_TENANTS_FILE {path}:")
    assert "secret-key-value-1" not in message and "\n" not in message


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_tenants(tmp_path / "absent.toml", make_settings())


# One process, two tenants -----------------------------------------------------------------------------------


async def test_each_caller_sees_its_tenants_tools(deployment: Deployment) -> None:
    with anyio.fail_after(SESSION_DEADLINE):
        assert await tool_names(deployment.server.mcp_url, TOKEN_ALPHA) == set(DEFAULT_TOOLS)
        assert await tool_names(deployment.server.mcp_url, TOKEN_BETA) == BETA_TOOLS


@pytest.mark.parametrize("token", [None, "nobody", OPERATOR])
def test_a_token_of_no_tenant_gets_401(deployment: Deployment, token: str | None) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    response = httpx.post(deployment.server.mcp_url, json=body, headers=headers)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge == "Bearer" if token is None else challenge.startswith('Bearer error="invalid_token"')


async def test_each_tenant_writes_to_its_own_account(deployment: Deployment) -> None:
    url = deployment.server.mcp_url
    with anyio.fail_after(SESSION_DEADLINE):
        alpha_before, beta_before = await balance(url, TOKEN_ALPHA), await balance(url, TOKEN_BETA)
        award = {"contact_uuid": SEED.contacts.sanne_store, "shop_uuid": SEED.shops.store, "credits": 7}
        result = await call(url, TOKEN_ALPHA, "create_credit_reception", award)
        assert not result.is_error, text_of(result)
        assert await balance(url, TOKEN_ALPHA) == alpha_before + 7
        assert await balance(url, TOKEN_BETA) == beta_before


async def test_an_idempotency_key_of_one_tenant_means_nothing_to_another(deployment: Deployment) -> None:
    url = deployment.server.mcp_url
    award = {
        "contact_uuid": SEED.contacts.sanne_store,
        "shop_uuid": SEED.shops.store,
        "credits": 3,
        "idempotency_key": "order-4711",
    }
    with anyio.fail_after(SESSION_DEADLINE):
        beta_before = await balance(url, TOKEN_BETA)
        first = structured(await call(url, TOKEN_ALPHA, "create_credit_reception", award))
        repeat = structured(await call(url, TOKEN_ALPHA, "create_credit_reception", award))
        other = structured(await call(url, TOKEN_BETA, "create_credit_reception", award))
    assert repeat.get("already_processed") is True and first.get("already_processed") is not True
    assert other.get("already_processed") is not True
    assert await balance(url, TOKEN_BETA) == beta_before + 3


async def test_a_confirmation_token_of_one_tenant_is_refused_by_another(deployment: Deployment) -> None:
    url = deployment.server.mcp_url
    merge = {"source_contact_uuid": SEED.contacts.sanne_online, "destination_contact_uuid": SEED.contacts.sanne_store}
    with anyio.fail_after(SESSION_DEADLINE):
        asked = structured(await call(url, TOKEN_ALPHA, "merge_contacts", merge))
        assert asked["status"] == "confirmation_required"
        token = asked["confirmation_token"]
        taken = await call(url, TOKEN_BETA, "merge_contacts", {**merge, "confirmation_token": token})
    assert taken.is_error or structured(taken)["status"] != "done"
    assert "done" not in text_of(taken)


async def test_audit_lines_go_to_their_tenants_trail_only(deployment: Deployment) -> None:
    url = deployment.server.mcp_url
    profile = {"contact_uuid": SEED.contacts.noah, "attributes": [{"name": "firstname", "value": "Noah"}]}
    with anyio.fail_after(SESSION_DEADLINE):
        await call(url, TOKEN_ALPHA, "update_contact", profile)
        await call(url, TOKEN_BETA, "update_contact", profile)
    for tenant in ("alpha", "beta"):
        lines = (deployment.workdir / f"{tenant}-audit.jsonl").read_text().splitlines()
        assert lines and {json.loads(line)["tenant"] for line in lines} == {tenant}


async def test_metrics_tell_tenants_apart_and_need_the_operators_token(deployment: Deployment) -> None:
    base = deployment.server.base
    with anyio.fail_after(SESSION_DEADLINE):
        await call(deployment.server.mcp_url, TOKEN_ALPHA, "list_shops", {})
        await call(deployment.server.mcp_url, TOKEN_BETA, "list_shops", {})
        await call(deployment.server.mcp_url, TOKEN_BETA, "list_shops", {})
    async with httpx.AsyncClient() as http:
        refused = await http.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN_ALPHA}"})
        text = (await http.get(f"{base}/metrics", headers={"Authorization": f"Bearer {OPERATOR}"})).text
    assert refused.status_code == 401
    calls = re.findall(r'piggy_mcp_tool_calls_total\{outcome="ok",tenant="(\w+)",tool="list_shops"\} (\S+)', text)
    assert dict(calls) == {"alpha": "1.0", "beta": "2.0"}
    assert 'tenant="default"' not in text


async def test_a_tenants_events_reach_only_its_own_subscribers(deployment: Deployment) -> None:
    card = contact_uri(SEED.contacts.sanne_store)
    body = json.dumps({"type": "contact_updated", "data": {"contact": {"uuid": SEED.contacts.sanne_store}}}).encode()
    signature = {"signature": hmac.new(HOOKS_ALPHA.encode(), body, hashlib.sha256).hexdigest()}
    hooks = f"{deployment.server.base}/webhooks/piggy"
    with anyio.fail_after(SESSION_DEADLINE):
        async with (
            connect_http(deployment.server.mcp_url, TOKEN_ALPHA) as alpha,
            alpha.listen(resource_subscriptions=[card]) as alpha_hears,
            connect_http(deployment.server.mcp_url, TOKEN_BETA) as beta,
            beta.listen(resource_subscriptions=[card]) as beta_hears,
            httpx.AsyncClient() as http,
        ):
            # Signed with alpha's secret: beta's endpoint refuses it; there is no endpoint without a tenant.
            assert (await http.post(f"{hooks}/beta", content=body, headers=signature)).status_code == 401
            assert (await http.post(hooks, content=body, headers=signature)).status_code == 404
            assert (await http.post(f"{hooks}/alpha", content=body, headers=signature)).status_code == 200
            with anyio.fail_after(5):
                assert await anext(alpha_hears) == ResourceUpdated(uri=card)
            with anyio.move_on_after(1) as waited:
                await anext(beta_hears)
            assert waited.cancelled_caught, "beta heard alpha's event"


# Reloading ---------------------------------------------------------------------------------------------------


def wait_for_log(server: HttpServer, text: str, deadline: float = 15.0) -> str:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        log = server.log.read_text(encoding="utf-8", errors="replace")
        if text in log:
            return log
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not logged:\n{server.log.read_text(errors='replace')}")


async def test_sighup_reloads_the_tenants_and_a_malformed_file_keeps_the_old_ones(
    deployment: Deployment, tmp_path: Path
) -> None:
    # A process of its own: this one's tenants change.
    tenants_file = tmp_path / "tenants.toml"
    tenants_file.write_text(tenants_toml(deployment.alpha_url, deployment.beta_url, tmp_path, BETA_TOOLSETS))
    with http_server(process_env(tenants_file, tmp_path), tmp_path) as server, anyio.fail_after(SESSION_DEADLINE):
        assert await tool_names(server.mcp_url, TOKEN_BETA) == BETA_TOOLS

        tenants_file.write_text(tenants_toml(deployment.alpha_url, deployment.beta_url, tmp_path, ["contacts"]))
        os.kill(server.process.pid, signal.SIGHUP)
        wait_for_log(server, "tenants reloaded")
        assert await tool_names(server.mcp_url, TOKEN_BETA) == {n for n in BETA_TOOLS if "credit" not in n} - {
            "list_loyalty_transactions",
            "list_shops",
            "get_loyalty_program",
            "list_tiers",
            "get_contact_tier",
        }

        tenants_file.write_text("[tenants.beta\n")
        os.kill(server.process.pid, signal.SIGHUP)
        log = wait_for_log(server, "tenants not reloaded")
        assert "not valid TOML" in log
        assert await tool_names(server.mcp_url, TOKEN_ALPHA) == set(DEFAULT_TOOLS)
        assert server.process.poll() is None
