"""Standard MCP authorization end to end: a real piggy-mcp process as an OAuth resource server, tokens signed in
the test with real keys, the issuer's metadata and keys served on loopback, tenants chosen by a claim."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from pydantic import AnyHttpUrl
from starlette.types import ASGIApp, Receive, Scope, Send

from piggy_mcp.sandbox.app import create_app
from piggy_mcp.sandbox.runner import serve_in_background
from piggy_mcp.sandbox.seed import SEED
from piggy_mcp.scopes import SCOPES
from tests.helpers import DEFAULT_TOOLS, structured
from tests.servers import SESSION_DEADLINE, HttpServer, connect_http, http_server

PIGGY_KEY = "oauth-tenant-piggy-key"
SIGNING = rsa.generate_private_key(public_exponent=65537, key_size=2048)
STRANGER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class _Issuer(ThreadingHTTPServer):
    """The identity provider's public side: RFC 8414 metadata and the JWKS."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _IssuerHandler)
        self.url = f"http://127.0.0.1:{self.server_port}"
        jwk = {**RSAAlgorithm.to_jwk(SIGNING.public_key(), as_dict=True), "kid": "k1", "use": "sig", "alg": "RS256"}
        self.documents = {
            "/.well-known/oauth-authorization-server": {"issuer": self.url, "jwks_uri": f"{self.url}/jwks"},
            "/jwks": {"keys": [jwk]},
        }


class _IssuerHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        assert isinstance(self.server, _Issuer)
        document = self.server.documents.get(self.path)
        body = json.dumps(document or {"error": "not found"}).encode()
        self.send_response(200 if document is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class RecordAuthorization:
    """The sandboxed Piggy, noting the Authorization header of every request piggy-mcp sends it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app, self.seen, self.requests = app, set[str](), 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.requests += 1
            self.seen.update(v.decode() for k, v in scope["headers"] if k == b"authorization")
        await self.app(scope, receive, send)


@dataclass(frozen=True)
class Resource:
    server: HttpServer
    issuer: str
    piggy: RecordAuthorization

    def token(self, *, key: rsa.RSAPrivateKey = SIGNING, kid: str = "k1", **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.server.mcp_url,
            "sub": "agent-7",
            "org": "alpha",
            "scope": " ".join(SCOPES),
            "iat": now,
            "exp": now + 300,
        } | overrides
        return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, "RS256", headers={"kid": kid})


@pytest.fixture(scope="module")
def resource(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Resource]:
    workdir = tmp_path_factory.mktemp("oauth")
    issuer = _Issuer()
    threading.Thread(target=issuer.serve_forever, args=(0.05,), daemon=True).start()
    piggy = RecordAuthorization(create_app(api_key=PIGGY_KEY, processing_delay=0))
    try:
        with serve_in_background(piggy) as piggy_url:  # type: ignore[arg-type]
            tenants = workdir / "tenants.toml"
            tenants.write_text(
                f'[tenants.alpha]\napi_key = "{PIGGY_KEY}"\nbase_url = "{piggy_url}"\noauth_subjects = ["alpha"]\n'
            )
            env = {
                "PATH": os.environ["PATH"],
                "PIGGY_MCP_TENANTS_FILE": str(tenants),
                "PIGGY_MCP_OAUTH_ISSUER": issuer.url,
                "PIGGY_MCP_OAUTH_TENANT_CLAIM": "org",
                "PIGGY_MCP_STATE_DIR": str(workdir / "state"),
            }
            with http_server(env, workdir) as server:
                yield Resource(server, issuer.url, piggy)
    finally:
        issuer.shutdown()


def post(resource: Resource, token: str | None, message: dict[str, Any]) -> httpx.Response:
    headers = {"Accept": "application/json, text/event-stream", "Mcp-Method": str(message["method"])}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = {"jsonrpc": "2.0", "id": 1, **message}
    return httpx.post(resource.server.mcp_url, json=body, headers=headers, timeout=30)


def call_tool(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"method": "tools/call", "params": {"name": name, "arguments": arguments}}


def test_protected_resource_metadata_names_the_issuer_and_the_scopes(resource: Resource) -> None:
    metadata = httpx.get(f"{resource.server.base}/.well-known/oauth-protected-resource/mcp").json()
    assert metadata["resource"] == resource.server.mcp_url
    assert metadata["authorization_servers"] == [str(AnyHttpUrl(resource.issuer))]
    assert metadata["scopes_supported"] == ["piggy:read", "piggy:write", "piggy:destructive"]


def test_no_token_gets_401_pointing_to_the_metadata(resource: Resource) -> None:
    response = post(resource, None, {"method": "tools/list", "params": {}})
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge == f'Bearer resource_metadata="{resource.server.base}/.well-known/oauth-protected-resource/mcp"'
    assert response.json()["error"] == "invalid_request"


async def test_the_right_token_serves_its_tenant_and_never_reaches_piggy(resource: Resource) -> None:
    token = resource.token()
    with anyio.fail_after(SESSION_DEADLINE):
        async with connect_http(resource.server.mcp_url, token) as client:
            assert {tool.name for tool in (await client.list_tools()).tools} == set(DEFAULT_TOOLS)
            result = await client.call_tool("get_contact_credit_balance", {"contact_uuid": SEED.contacts.daan})
    assert not result.is_error
    assert structured(result)["contact_uuid"] == SEED.contacts.daan
    assert resource.piggy.seen == {f"Bearer {PIGGY_KEY}"}


def refusals() -> list[tuple[str, dict[str, Any]]]:
    now = int(time.time())
    return [
        ("expired", {"exp": now - 120, "iat": now - 600}),
        ("wrong audience", {"aud": "https://another.example/mcp"}),
        ("wrong issuer", {"iss": "https://evil.example"}),
        ("unknown key", {"kid": "k-unknown"}),
        ("forged signature", {"key": STRANGER}),
        ("subject of no tenant", {"org": "beta"}),
        ("no tenant claim", {"org": None}),
    ]


@pytest.mark.parametrize(("case", "overrides"), refusals(), ids=[case for case, _ in refusals()])
def test_a_bad_token_gets_401(resource: Resource, case: str, overrides: dict[str, Any]) -> None:
    response = post(resource, resource.token(**overrides), {"method": "tools/list", "params": {}})
    assert response.status_code == 401, case
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_a_read_scope_lists_and_calls_only_reads(resource: Resource) -> None:
    token = resource.token(scope="piggy:read")
    with anyio.fail_after(SESSION_DEADLINE):
        async with connect_http(resource.server.mcp_url, token) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            balance = await client.call_tool("get_contact_credit_balance", {"contact_uuid": SEED.contacts.daan})
    assert names and {"find_contact", "get_contact_credit_balance"} <= names
    assert not names & {"create_credit_reception", "update_contact", "merge_contacts"}
    assert not balance.is_error


@pytest.mark.parametrize(
    ("scope", "tool", "arguments", "needed"),
    [
        ("piggy:read", "create_credit_reception", {"contact_uuid": SEED.contacts.daan, "credits": 1}, "piggy:write"),
        ("piggy:write", "merge_contacts", {"source_contact_uuid": SEED.contacts.daan}, "piggy:destructive"),
        ("", "find_contact", {"email": "daan@example.com"}, "piggy:read"),
    ],
)
def test_a_call_beyond_the_scopes_gets_403_naming_the_scope(
    resource: Resource, scope: str, tool: str, arguments: dict[str, Any], needed: str
) -> None:
    before = resource.piggy.requests
    response = post(resource, resource.token(scope=scope), call_tool(tool, arguments))
    assert response.status_code == 403
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge and f'scope="{needed}"' in challenge
    assert "resource_metadata=" in challenge
    assert resource.piggy.requests == before


def test_a_write_scope_may_write(resource: Resource) -> None:
    arguments = {"contact_uuid": SEED.contacts.daan, "shop_uuid": SEED.shops.store, "credits": 1}
    response = post(resource, resource.token(scope="piggy:write"), call_tool("create_credit_reception", arguments))
    assert response.status_code == 200
    assert '"isError":true' not in response.text.replace(" ", "")


def test_the_log_holds_no_token(resource: Resource) -> None:
    token = resource.token()
    post(resource, token, {"method": "tools/list", "params": {}})
    assert token not in resource.server.log.read_text(encoding="utf-8", errors="replace")


@pytest.mark.parametrize("with_token", [False, True])
def test_metrics_are_not_for_oauth_callers(resource: Resource, with_token: bool) -> None:
    headers = {"Authorization": f"Bearer {resource.token()}"} if with_token else {}
    assert httpx.get(f"{resource.server.base}/metrics", headers=headers).status_code == 401


@pytest.mark.parametrize(
    "message",
    [
        {"method": "resources/read", "params": {"uri": f"piggy://contacts/{SEED.contacts.daan}"}},
        {"method": "subscriptions/listen", "params": {"notifications": {"resourceSubscriptions": []}}},
    ],
    ids=["read", "listen"],
)
def test_reading_what_piggy_holds_needs_the_read_scope(resource: Resource, message: dict[str, Any]) -> None:
    before = resource.piggy.requests
    response = post(resource, resource.token(scope="openid email"), message)
    assert response.status_code == 403
    assert 'scope="piggy:read"' in response.headers["www-authenticate"]
    assert resource.piggy.requests == before


def test_the_read_scope_reads_a_member_card(resource: Resource) -> None:
    message = {"method": "resources/read", "params": {"uri": f"piggy://contacts/{SEED.contacts.daan}"}}
    response = post(resource, resource.token(scope="piggy:read"), message)
    assert response.status_code == 200
    assert SEED.contacts.daan in response.text and '"error"' not in response.text
