"""Hosting over streamable HTTP, with real server processes on loopback ports: bearer tokens, the refusal to
serve publicly without them, allowed hosts and origins, several replicas behind one URL, graceful shutdown; and
the production Dockerfile and Kubernetes example.

Piggy is a small fake in this process (stdlib HTTP server on 127.0.0.1). Each server process gets its own
PIGGY_BASE_URL prefix on it (/a, /b, ...), so the fake knows which replica sent what.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from mcp.types import CallToolResult
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from starlette.requests import Request

from piggy_mcp.config import ConfigurationError
from piggy_mcp.hosting.app import check_exposure, transport_security
from tests.conftest import API_KEY, CONTACT_A, CONTACT_B, make_settings
from tests.helpers import DEFAULT_TOOLS, ERA_REQUESTS, MERGE_ARGS, MODES, Mode, User, post_mcp, structured, text_of
from tests.servers import (
    HEALTH_DEADLINE,
    SESSION_DEADLINE,
    STOP_DEADLINE,
    HttpServer,
    connect_http,
    free_port,
    stop,
    wait_until_healthy,
)

ROOT = Path(__file__).resolve().parent.parent

PLAIN_TOKEN = "tok-plain"
# Configured only as its SHA-256, the way an operator who does not want to store tokens gives it.
HASHED_TOKEN = "tok-stored-as-a-hash-5c1e"
HASHED_ENTRY = "sha256:" + hashlib.sha256(HASHED_TOKEN.encode()).hexdigest()
AUTH_TOKENS = f"{PLAIN_TOKEN},{HASHED_ENTRY}"
SHARED_KEY = "replicas-share-this-signing-key-0f3a9c"
OTHER_KEY = "another-deployment-signing-key-77d1e2"
PUBLIC_HOST = "mcp.example.com"
APP_ORIGIN = "https://app.example.com"

SLOW_CONTACT = "66666666-6666-4666-8666-666666666666"
SLOW_SECONDS = 1.0


# Piggy, faked --------------------------------------------------------------------------------------------


@dataclass
class FakePiggy:
    """Records what each replica (the first path segment) asked Piggy for."""

    server: ThreadingHTTPServer
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (replica, method, path)
    merges: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (replica, body)
    slow_started: threading.Event = field(default_factory=threading.Event)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def base_url(self, replica: str) -> str:
        return f"http://127.0.0.1:{self.port}/{replica}"

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()
            self.merges.clear()
            self.slow_started.clear()

    def merged_by(self) -> list[str]:
        with self.lock:
            return [replica for replica, _ in self.merges]

    def readers_of(self, path: str) -> list[str]:
        with self.lock:
            return [replica for replica, method, p in self.requests if method == "GET" and p == path]


CONTACTS = {CONTACT_A: "old.address@example.com", CONTACT_B: "jane.doe@example.com"}
PIGGY_PATH = re.compile(r"^/(?P<replica>[\w-]+)/api/v3/oauth/clients(?P<path>/[^?]*)")


def fake_piggy_handler(fake: FakePiggy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def answer(self, status: int, body: Any) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def route(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            match = PIGGY_PATH.match(self.path)
            if match is None:
                return self.answer(404, {"message": "no such route"})
            if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                return self.answer(401, {"message": "Unauthenticated."})
            replica, path = match["replica"], match["path"]
            with fake.lock:
                fake.requests.append((replica, method, path))
            parts = path.strip("/").split("/")
            if method == "POST" and path == "/contacts/merge":
                with fake.lock:
                    fake.merges.append((str(replica), body or {}))
                return self.answer(200, {"data": None, "meta": []})
            if method == "GET" and len(parts) == 2 and parts[0] == "contacts" and parts[1] in CONTACTS:
                contact = {
                    "uuid": parts[1],
                    "email": CONTACTS[parts[1]],
                    "credit_balance": {"balance": 10, "id": 1},
                    "current_values": {"is_anonymous": False},
                }
                return self.answer(200, {"data": contact, "meta": []})
            if method == "GET" and parts == ["contacts", SLOW_CONTACT, "credit-balance"]:
                fake.slow_started.set()
                time.sleep(SLOW_SECONDS)
                return self.answer(200, {"data": {"balance": 7}, "meta": []})
            return self.answer(400, {"message": "Contact not found", "code": 55031, "status_code": 400})

        def do_GET(self) -> None:
            self.route("GET")

        def do_POST(self) -> None:
            self.route("POST")

    return Handler


@pytest.fixture(scope="module")
def fake_piggy() -> Iterator[FakePiggy]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    fake = FakePiggy(server)
    server.RequestHandlerClass = fake_piggy_handler(fake)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# Server processes -------------------------------------------------------------------------------------


def replica_env(fake: FakePiggy, replica: str, signing_key: str = SHARED_KEY) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "PIGGY_API_KEY": API_KEY,
        "PIGGY_BASE_URL": fake.base_url(replica),
        "PIGGY_MCP_SIGNING_KEY": signing_key,
        "PIGGY_MCP_AUTH_TOKENS": AUTH_TOKENS,
        "PIGGY_MCP_ALLOWED_HOSTS": f"{PUBLIC_HOST}:*",
        "PIGGY_MCP_ALLOWED_ORIGINS": APP_ORIGIN,
    }


def spawn(workdir: Path, name: str, env: Mapping[str, str], *args: str) -> HttpServer:
    port = free_port()
    log = workdir / f"{name}-{port}.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "piggy_mcp",
                "--transport",
                "http",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                *args,
            ],
            env=dict(env),
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
            start_new_session=True,
        )
    return HttpServer(port, process, log)


def start_all(workdir: Path, envs: Mapping[str, Mapping[str, str]]) -> dict[str, HttpServer]:
    """Start one server per entry, in parallel, each on a free port (retried if the port was taken meanwhile)."""
    started: dict[str, HttpServer] = {}
    pending = dict(envs)
    try:
        for _ in range(3):
            attempt = {name: spawn(workdir, name, env) for name, env in pending.items()}
            for name, server in attempt.items():
                if wait_until_healthy(server):
                    started[name] = server
                    del pending[name]
                    continue
                stop(server.process)
                text = server.log.read_text(encoding="utf-8", errors="replace")
                if "address already in use" not in text.lower():
                    raise AssertionError(f"server {name} exited with {server.process.returncode}:\n{text}")
            if not pending:
                return started
        raise AssertionError(f"could not find free ports for {sorted(pending)}")
    except BaseException:
        for server in started.values():
            stop(server.process)
        raise


@dataclass(frozen=True)
class Replicas:
    a: HttpServer
    b: HttpServer
    other_key: HttpServer  # same configuration, another PIGGY_MCP_SIGNING_KEY


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory, fake_piggy: FakePiggy) -> Iterator[Replicas]:
    workdir = tmp_path_factory.mktemp("replicas")
    servers = start_all(
        workdir,
        {
            "a": replica_env(fake_piggy, "a"),
            "b": replica_env(fake_piggy, "b"),
            "c": replica_env(fake_piggy, "c", signing_key=OTHER_KEY),
        },
    )
    try:
        yield Replicas(servers["a"], servers["b"], servers["c"])
    finally:
        for server in servers.values():
            stop(server.process)
    for name, server in servers.items():
        log = server.log.read_text(encoding="utf-8", errors="replace")
        assert API_KEY not in log, f"replica {name} logged the API key"
        for token in (PLAIN_TOKEN, HASHED_TOKEN):
            assert token not in log, f"replica {name} logged an MCP token"


# Authentication --------------------------------------------------------------------------------------------


def test_health_check_is_open_and_reveals_nothing(replicas: Replicas) -> None:
    with httpx.Client(trust_env=False, timeout=10.0) as http:
        response = http.get(replicas.a.base + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.content == b'{"status":"ok"}'
    assert "www-authenticate" not in response.headers


@pytest.mark.parametrize("path", ["/webhooks/piggy", "/webhooks/piggy/default"])
def test_without_a_webhook_secret_no_delivery_is_taken(replicas: Replicas, path: str) -> None:
    body = b'{"type": "contact_updated", "data": {}}'
    with httpx.Client(trust_env=False, timeout=10.0) as http:
        response = http.post(replicas.a.base + path, content=body, headers={"signature": "0" * 64})
    assert response.status_code == 404


@pytest.mark.parametrize("era", ERA_REQUESTS)
def test_no_token_gets_401_with_www_authenticate(replicas: Replicas, era: str) -> None:
    response = post_mcp(replicas.a, era)
    assert response.status_code == 401, response.text
    challenge = response.headers.get("WWW-Authenticate", "")
    # No credentials, no error code (RFC 6750 3.1); static tokens come from no authorization server, so no OAuth
    # metadata is pointed to either (see test_oauth_http.py).
    assert challenge == "Bearer", challenge


@pytest.mark.parametrize("era", ERA_REQUESTS)
@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer wrong-token",
        f"Bearer {PLAIN_TOKEN.upper()}",
        f"Bearer {PLAIN_TOKEN}x",
        # The stored hash is not itself a token.
        f"Bearer {HASHED_ENTRY}",
        f"Bearer {HASHED_ENTRY.removeprefix('sha256:')}",
        f"Basic {PLAIN_TOKEN}",
        "Bearer",
    ],
    ids=["wrong", "case", "longer", "hash-entry", "hash-hex", "basic", "empty"],
)
def test_wrong_token_gets_401(replicas: Replicas, era: str, authorization: str) -> None:
    response = post_mcp(replicas.a, era, Authorization=authorization)
    assert response.status_code == 401, response.text
    assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token"], ids=["none", "wrong"])
def test_unauthenticated_bodies_are_not_examined(replicas: Replicas, authorization: str | None) -> None:
    # A malformed message from an authenticated caller is an Invalid Request; from anyone else, only a 401.
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    malformed = {"jsonrpc": "2.0", "id": {"an": "object"}, "method": "tools/list"}
    presented = {"Authorization": authorization} if authorization else {}
    with httpx.Client(trust_env=False, timeout=30.0) as http:
        refused = http.post(replicas.a.mcp_url, json=malformed, headers={**headers, **presented})
        examined = http.post(
            replicas.a.mcp_url, json=malformed, headers={**headers, "Authorization": f"Bearer {PLAIN_TOKEN}"}
        )
    assert refused.status_code == 401
    assert examined.status_code == 400 and examined.json()["error"]["code"] == -32600


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("token", [PLAIN_TOKEN, HASHED_TOKEN], ids=["plain", "hashed"])
async def test_right_token_lists_the_tools(replicas: Replicas, mode: Mode, token: str) -> None:
    with anyio.fail_after(SESSION_DEADLINE):
        async with connect_http(replicas.a.mcp_url, token, mode) as client:
            assert (client.protocol_version in MODERN_PROTOCOL_VERSIONS) == (mode == "auto")
            listing = await client.list_tools(cache_mode="bypass")
    assert [tool.name for tool in listing.tools] == DEFAULT_TOOLS


# Refusal to serve publicly without authentication ------------------------------------------------------


def test_public_bind_without_tokens_refuses_to_start(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "PIGGY_API_KEY": API_KEY}
    port = str(free_port())
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "piggy_mcp", "--transport", "http", "--host", "0.0.0.0", "--port", port],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=HEALTH_DEADLINE * 2,
    )
    assert completed.returncode == 2, completed
    assert time.monotonic() - started < HEALTH_DEADLINE * 2
    assert "PIGGY_MCP_AUTH_TOKENS" in completed.stderr
    assert "--allow-unauthenticated" in completed.stderr
    assert completed.stdout == ""
    assert API_KEY not in completed.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "mcp.example.com", "10.0.0.1"])
def test_exposure_check_refuses_non_loopback_without_tokens(host: str) -> None:
    with pytest.raises(ConfigurationError, match=r"PIGGY_MCP_AUTH_TOKENS.*--allow-unauthenticated"):
        check_exposure(make_settings(), host, allow_unauthenticated=False)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_exposure_check_allows_loopback_without_tokens(host: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        check_exposure(make_settings(), host, allow_unauthenticated=False)
    assert not caplog.records


def test_exposure_check_allows_public_with_tokens(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        check_exposure(make_settings(mcp_auth_tokens=PLAIN_TOKEN), "0.0.0.0", allow_unauthenticated=False)
    assert not caplog.records


def test_allow_unauthenticated_starts_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        check_exposure(make_settings(), "0.0.0.0", allow_unauthenticated=True)
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "WITHOUT authentication" in record.getMessage()
    assert "0.0.0.0" in record.getMessage()


# Allowed hosts and origins -------------------------------------------------------------------------------


@pytest.mark.parametrize("era", ERA_REQUESTS)
@pytest.mark.parametrize(
    "host",
    # Behind a TLS load balancer on the default port the Host header carries no port.
    [PUBLIC_HOST, f"{PUBLIC_HOST}:443", f"{PUBLIC_HOST}:8443"],
    ids=["no-port", "443", "8443"],
)
def test_allowed_host_passes_the_rebinding_check(replicas: Replicas, era: str, host: str) -> None:
    response = post_mcp(replicas.a, era, Authorization=f"Bearer {PLAIN_TOKEN}", Host=host)
    assert response.status_code == 200, (response.status_code, response.text)
    response = post_mcp(replicas.a, era, Authorization=f"Bearer {PLAIN_TOKEN}", Host=host, Origin=APP_ORIGIN)
    assert response.status_code == 200, (response.status_code, response.text)


@pytest.mark.parametrize("era", ERA_REQUESTS)
@pytest.mark.parametrize("host", ["evil.example", "evil.example:443", f"{PUBLIC_HOST}.evil.example"])
def test_foreign_host_gets_421(replicas: Replicas, era: str, host: str) -> None:
    response = post_mcp(replicas.a, era, Authorization=f"Bearer {PLAIN_TOKEN}", Host=host)
    assert response.status_code == 421, (response.status_code, response.text)


@pytest.mark.parametrize("era", ERA_REQUESTS)
@pytest.mark.parametrize("origin", ["https://evil.example", f"{APP_ORIGIN}.evil.example", "http://app.example.com"])
def test_foreign_origin_gets_403(replicas: Replicas, era: str, origin: str) -> None:
    response = post_mcp(replicas.a, era, Authorization=f"Bearer {PLAIN_TOKEN}", Origin=origin)
    assert response.status_code == 403, (response.status_code, response.text)


async def rebinding_check(security: TransportSecuritySettings, host: str, origin: str | None = None) -> int:
    """The status the SDK's DNS-rebinding check gives a POST with these headers (200: passed)."""
    headers = [(b"host", host.encode()), (b"content-type", b"application/json")]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    request = Request({"type": "http", "method": "POST", "path": "/mcp", "headers": headers})
    refusal = await TransportSecurityMiddleware(security).validate_request(request, is_post=True)
    return 200 if refusal is None else refusal.status_code


@pytest.mark.parametrize("bind", ["0.0.0.0", "::", "127.0.0.1", "10.0.0.5"])
async def test_rebinding_protection_stays_on_for_every_bind_address(bind: str) -> None:
    settings = make_settings(mcp_allowed_hosts=[PUBLIC_HOST, "piggy-mcp:*"], mcp_allowed_origins=[APP_ORIGIN])
    security = transport_security(settings, bind)
    assert security.enable_dns_rebinding_protection is True
    # Exactly as configured: a bare name for the default port, name:* for any explicit port.
    assert await rebinding_check(security, PUBLIC_HOST) == 200
    assert await rebinding_check(security, "piggy-mcp:8000") == 200
    assert await rebinding_check(security, "127.0.0.1:8000") == 200
    assert await rebinding_check(security, PUBLIC_HOST, APP_ORIGIN) == 200
    assert await rebinding_check(security, "evil.example") == 421
    assert await rebinding_check(security, f"{PUBLIC_HOST}.evil.example") == 421
    assert await rebinding_check(security, PUBLIC_HOST, "https://evil.example") == 403


# Replicas behind one URL ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_confirmation_token_from_one_replica_is_honoured_by_another(
    replicas: Replicas, fake_piggy: FakePiggy, mode: Mode
) -> None:
    fake_piggy.clear()
    with anyio.fail_after(SESSION_DEADLINE):
        async with connect_http(replicas.a.mcp_url, PLAIN_TOKEN, mode) as client:
            first = structured(await client.call_tool("merge_contacts", MERGE_ARGS))
        assert first["status"] == "confirmation_required"
        token = first["confirmation_token"]
        assert isinstance(token, str)
        assert fake_piggy.merged_by() == []

        # The next request lands on another replica (and may come from another client connection).
        async with connect_http(replicas.b.mcp_url, HASHED_TOKEN, mode) as client:
            second = structured(await client.call_tool("merge_contacts", {**MERGE_ARGS, "confirmation_token": token}))
    assert second["status"] == "done"
    assert fake_piggy.merged_by() == ["b"]
    assert fake_piggy.merges[0][1] == MERGE_ARGS


@pytest.mark.parametrize("mode", MODES)
async def test_replica_with_another_signing_key_refuses_the_token(
    replicas: Replicas, fake_piggy: FakePiggy, mode: Mode
) -> None:
    fake_piggy.clear()
    with anyio.fail_after(SESSION_DEADLINE):
        async with connect_http(replicas.a.mcp_url, PLAIN_TOKEN, mode) as client:
            token = structured(await client.call_tool("merge_contacts", MERGE_ARGS))["confirmation_token"]
        async with connect_http(replicas.other_key.mcp_url, PLAIN_TOKEN, mode) as client:
            result = await client.call_tool("merge_contacts", {**MERGE_ARGS, "confirmation_token": token})
    assert result.is_error
    assert "signed with another key" in text_of(result)
    assert fake_piggy.merged_by() == []


Choose = Callable[[dict[str, Any]], HttpServer]


class LoadBalancer:
    """A load balancer on a loopback port in front of several replicas: `choose` picks the replica for each
    JSON-RPC message posted to /mcp. It records where each message went."""

    HOP_BY_HOP = frozenset({"host", "content-length", "connection", "transfer-encoding", "keep-alive"})

    def __init__(self, choose: Choose) -> None:
        self.routed: list[tuple[str, str, bool]] = []  # (method, replica's base URL, carries request state)
        self.lock = threading.Lock()
        balancer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                message = json.loads(body)
                params = message.get("params") or {}
                resumed = "requestState" in params or "inputResponses" in params
                with balancer.lock:
                    backend = choose(message)
                    balancer.routed.append((str(message.get("method")), backend.base, resumed))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in balancer.HOP_BY_HOP}
                with httpx.Client(trust_env=False, timeout=60.0) as http:
                    answer = http.post(backend.mcp_url, content=body, headers=headers)
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in balancer.HOP_BY_HOP | {"content-encoding"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def do_GET(self) -> None:  # no standalone event stream behind this balancer
                self.send_response(405)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/mcp"

    def __enter__(self) -> LoadBalancer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def tool_calls(self) -> list[tuple[str, bool]]:
        with self.lock:
            return [(base, resumed) for method, base, resumed in self.routed if method == "tools/call"]

    def replicas_used(self) -> set[str]:
        with self.lock:
            return {base for _, base, _ in self.routed}


def retry_elsewhere(first: HttpServer, retry: HttpServer) -> Choose:
    """A tools/call that resumes an earlier round (it carries the user's answer and the sealed request state)
    goes to `retry`; everything else to `first`."""

    def choose(message: dict[str, Any]) -> HttpServer:
        params = message.get("params") or {}
        resumed = "requestState" in params or "inputResponses" in params
        return retry if message.get("method") == "tools/call" and resumed else first

    return choose


def alternate(*replicas: HttpServer) -> Choose:
    """Strict round robin over every message, the worst case for anything kept in one process's memory."""
    turns = itertools.cycle(replicas)
    return lambda _: next(turns)


async def test_modern_elicitation_starts_on_one_replica_and_finishes_on_another(
    replicas: Replicas, fake_piggy: FakePiggy
) -> None:
    """2026-07-28: the question comes back as an input-required result with sealed request state; the client's
    retry carrying the answer reaches the other replica, which must unseal the state and perform the merge."""
    fake_piggy.clear()
    user = User("accept", {"confirm": True})
    with LoadBalancer(retry_elsewhere(replicas.a, replicas.b)) as proxy, anyio.fail_after(SESSION_DEADLINE):
        async with connect_http(proxy.url, PLAIN_TOKEN, "auto", elicitation_callback=user) as client:
            assert client.protocol_version in MODERN_PROTOCOL_VERSIONS
            result = await client.call_tool("merge_contacts", MERGE_ARGS)
    assert structured(result)["status"] == "done"
    assert len(user.messages) == 1
    assert CONTACTS[CONTACT_A] in user.messages[0]
    # The question came from A, the answer went to B.
    assert proxy.tool_calls() == [(replicas.a.base, False), (replicas.b.base, True)]
    assert "a" in fake_piggy.readers_of(f"/contacts/{CONTACT_A}")
    assert fake_piggy.merged_by() == ["b"]
    assert fake_piggy.merges[0][1] == MERGE_ARGS


async def test_modern_elicitation_retry_on_a_replica_with_another_key_is_refused(
    replicas: Replicas, fake_piggy: FakePiggy
) -> None:
    """The control: request state sealed by A cannot be opened without the shared key."""
    fake_piggy.clear()
    user = User("accept", {"confirm": True})
    with LoadBalancer(retry_elsewhere(replicas.a, replicas.other_key)) as proxy, anyio.fail_after(SESSION_DEADLINE):
        async with connect_http(proxy.url, PLAIN_TOKEN, "auto", elicitation_callback=user) as client:
            with pytest.raises(Exception, match="requestState"):
                await client.call_tool("merge_contacts", MERGE_ARGS)
    assert proxy.tool_calls() == [(replicas.a.base, False), (replicas.other_key.base, True)]
    assert fake_piggy.merged_by() == []


@pytest.mark.parametrize("mode", MODES)
async def test_one_client_session_served_by_alternating_replicas(
    replicas: Replicas, fake_piggy: FakePiggy, mode: Mode
) -> None:
    """Every message of one session goes to the other replica than the one before: the older protocol's
    initialize, tools/list and both rounds of a confirmed merge. Works only if no replica keeps session state."""
    fake_piggy.clear()
    with LoadBalancer(alternate(replicas.a, replicas.b)) as balancer, anyio.fail_after(SESSION_DEADLINE):
        async with connect_http(balancer.url, PLAIN_TOKEN, mode) as client:
            assert [tool.name for tool in (await client.list_tools(cache_mode="bypass")).tools] == DEFAULT_TOOLS
            first = structured(await client.call_tool("merge_contacts", MERGE_ARGS))
            token = first["confirmation_token"]
            second = structured(await client.call_tool("merge_contacts", {**MERGE_ARGS, "confirmation_token": token}))
    assert first["status"] == "confirmation_required"
    assert second["status"] == "done"
    assert balancer.replicas_used() == {replicas.a.base, replicas.b.base}
    assert len(fake_piggy.merges) == 1
    assert fake_piggy.merges[0][1] == MERGE_ARGS


# Graceful shutdown ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_sigterm_lets_the_call_in_flight_finish(tmp_path: Path, fake_piggy: FakePiggy, mode: Mode) -> None:
    fake_piggy.clear()
    replica = f"shutdown-{mode}"
    server = start_all(tmp_path, {replica: replica_env(fake_piggy, replica)})[replica]
    result: CallToolResult | None = None
    try:
        with anyio.fail_after(SESSION_DEADLINE):
            async with connect_http(server.mcp_url, PLAIN_TOKEN, mode) as client:
                # The client checks results against the tools' output schemas: list them now, while it can.
                await client.list_tools()

                async def call() -> None:
                    nonlocal result
                    result = await client.call_tool("get_contact_credit_balance", {"contact_uuid": SLOW_CONTACT})

                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(call)
                    # The call reached Piggy, which answers after SLOW_SECONDS.
                    assert await anyio.to_thread.run_sync(fake_piggy.slow_started.wait, HEALTH_DEADLINE)
                    server.process.send_signal(signal.SIGTERM)
            returncode = await anyio.to_thread.run_sync(server.process.wait, STOP_DEADLINE)
    finally:
        stop(server.process)
    log = server.log.read_text(encoding="utf-8", errors="replace")
    assert result is not None
    assert structured(result) == {"contact_uuid": SLOW_CONTACT, "balance": 7}
    assert "Traceback" not in log, log
    assert returncode == 0, (returncode, log)


# The container and the Kubernetes example ---------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)
    instructions = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def exec_form(value: str) -> list[str]:
    return json.loads(value) if value.startswith("[") else shlex.split(value)


def test_dockerfile_is_production_ready() -> None:
    instructions = dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]
    base = dict(instructions)["FROM"]
    assert re.match(r"python:3\.1[1-9][\w.-]*-slim", base), base

    # Runs as a non-root user from the moment the image starts.
    users = [value for keyword, value in instructions if keyword == "USER"]
    assert users, "no USER instruction"
    assert users[-1].split(":")[0] not in ("root", "0")
    assert keywords.index("USER") < keywords.index("CMD")

    assert any(keyword == "EXPOSE" and "8000" in value.split() for keyword, value in instructions)

    [healthcheck] = [value for keyword, value in instructions if keyword == "HEALTHCHECK"]
    assert "http://127.0.0.1:8000/healthz" in healthcheck
    assert "urllib" in healthcheck
    assert "curl" not in healthcheck and "wget" not in healthcheck

    [command] = [exec_form(value) for keyword, value in instructions if keyword == "CMD"]
    entrypoints = [exec_form(value) for keyword, value in instructions if keyword == "ENTRYPOINT"]
    argv = [*(entrypoints[-1] if entrypoints else []), *command]
    assert "piggy-mcp" in argv[0] or argv[:3] == ["python", "-m", "piggy_mcp"], argv
    assert argv[argv.index("--transport") + 1] == "http"
    assert argv[argv.index("--host") + 1] == "0.0.0.0"
    assert "--port" not in argv or argv[argv.index("--port") + 1] == "8000"
    # Authentication stays required: the image never switches it off, and ships no token.
    assert "--allow-unauthenticated" not in argv
    env_lines = " ".join(value for keyword, value in instructions if keyword in ("ENV", "ARG"))
    assert "PIGGY_MCP_AUTH_TOKENS" not in env_lines
    assert "PIGGY_API_KEY" not in env_lines


KUBERNETES = ROOT / "deploy" / "kubernetes.yaml"
SECRET_VARIABLES = ("PIGGY_API_KEY", "PIGGY_MCP_AUTH_TOKENS", "PIGGY_MCP_SIGNING_KEY")


def test_kubernetes_example_names_its_secrets_and_health_checks() -> None:
    text = KUBERNETES.read_text(encoding="utf-8")
    for name in SECRET_VARIABLES:
        assert name in text
    assert "/healthz" in text
    assert "kind: Deployment" in text and "kind: Service" in text
    assert (ROOT / "deploy" / "README.md").exists()


def test_kubernetes_example_is_a_working_manifest() -> None:
    yaml = pytest.importorskip("yaml")
    documents = [doc for doc in yaml.safe_load_all(KUBERNETES.read_text(encoding="utf-8")) if doc]
    by_kind = {doc["kind"]: doc for doc in documents}
    deployment, service = by_kind["Deployment"], by_kind["Service"]

    spec = deployment["spec"]
    assert spec["replicas"] >= 2
    pod = spec["template"]["spec"]
    assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    assert service["spec"]["selector"].items() <= spec["template"]["metadata"]["labels"].items()
    [container] = pod["containers"]
    security = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
    assert security["runAsNonRoot"] is True
    assert container["resources"]["limits"] and container["resources"]["requests"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/healthz"
    env = {item["name"]: item for item in container["env"]}
    for name in SECRET_VARIABLES:
        assert "secretKeyRef" in env[name]["valueFrom"], name
    ports = [port["containerPort"] for port in container["ports"]]
    assert 8000 in ports
