"""JwtVerifier with real keys, real JWTs and an issuer served over real loopback HTTP."""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import hmac
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import anyio
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from piggy_mcp.hosting.oauth import JwtVerifier
from tests.servers import free_port

ISSUER = "https://auth.example.test/"
AUDIENCE = "https://mcp.example.test/mcp"


class Issuer:
    """What the loopback server answers, per path, and how often each path was asked for."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.routes: dict[str, tuple[int, bytes, float]] = {}
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()

    def serve(self, path: str, document: object, status: int = 200, delay: float = 0.0) -> None:
        """`delay`: seconds before each 32-byte piece of the body."""
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        with self._lock:
            self.routes[path] = (status, body, delay)

    def serve_keys(self, *keys: Key, path: str = "/jwks") -> None:
        self.serve(path, {"keys": [key.jwk for key in keys]})

    def answer(self, path: str) -> tuple[int, bytes, float]:
        with self._lock:
            self.hits[path] += 1
            return self.routes.get(path, (404, b'{"error": "not found"}', 0.0))

    def reset(self) -> None:
        with self._lock:
            self.routes.clear()
            self.hits.clear()


class _Server(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.issuer = Issuer(f"http://127.0.0.1:{self.server_port}")


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, body, delay = cast(_Server, self.server).issuer.answer(self.path)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.flush()
        with contextlib.suppress(OSError):  # the verifier may have given up waiting
            for start in range(0, len(body), 32):
                time.sleep(delay)  # a slow issuer, or one that trickles its answer
                self.wfile.write(body[start : start + 32])
                self.wfile.flush()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass(frozen=True)
class Key:
    kid: str
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    alg: str
    jwk_alg: bool = False  # whether the published JWK names its algorithm

    @property
    def jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = ECAlgorithm.to_jwk(public, as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig"} | ({"alg": self.alg} if self.jwk_alg else {})

    def sign(self, claims: dict[str, Any], *, alg: str | None = None, kid: str | None = "") -> str:
        """Signed as it says, under its own kid by default, another kid if given one, or none for kid=None."""
        headers = {} if kid is None else {"kid": kid or self.kid}
        return jwt.encode(claims, self.private, algorithm=alg or self.alg, headers=headers)


@functools.cache
def rsa_key(kid: str, jwk_alg: bool = False) -> Key:
    return Key(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256", jwk_alg)


@functools.cache
def ec_key(kid: str) -> Key:
    return Key(kid, ec.generate_private_key(ec.SECP256R1()), "ES256", jwk_alg=True)


def claims(**overrides: Any) -> dict[str, Any]:
    """A good token's claims; an override of None leaves that claim out."""
    now = int(time.time())
    values = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "exp": now + 300, "iat": now, "scope": "read write"}
    values.update(overrides)
    return {name: value for name, value in values.items() if value is not None}


def forge(header: dict[str, Any], payload: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def served() -> Iterator[Issuer]:
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.issuer
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def issuer(served: Issuer) -> Issuer:
    served.reset()
    served.serve_keys(rsa_key("a"), ec_key("e"))
    return served


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def make(issuer: Issuer, clock: Clock) -> AsyncIterator[Callable[..., JwtVerifier]]:
    made: list[JwtVerifier] = []

    def make_verifier(**options: Any) -> JwtVerifier:
        options.setdefault("jwks_url", issuer.base + "/jwks")
        options.setdefault("clock", clock)
        verifier = JwtVerifier(options.pop("issuer", ISSUER), options.pop("audiences", [AUDIENCE]), **options)
        made.append(verifier)
        return verifier

    yield make_verifier
    for verifier in made:
        await verifier.aclose()


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "piggy_mcp.hosting.oauth" and r.levelno == logging.INFO]


def warned(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "piggy_mcp.hosting.oauth" and r.levelno == logging.WARNING
    ]


@pytest.mark.anyio
async def test_a_good_token_is_accepted(make: Callable[..., JwtVerifier], issuer: Issuer) -> None:
    verifier = make(tenant_claim="org")
    good = claims(org="acme")
    token = rsa_key("a").sign(good)
    access = await verifier.verify_token(token)
    assert access is not None
    assert access.token == token
    assert access.scopes == ["read", "write"]
    assert access.subject == "user-1"
    assert access.resource == AUDIENCE
    assert access.claims == {"iss": ISSUER, "tenant": "acme"}
    assert access.expires_at == good["exp"]
    expected = "oauth-" + hashlib.sha256(f"{ISSUER}\nuser-1".encode()).hexdigest()[:16]
    assert access.client_id == expected
    # Another replica derives the same id; another subject gets another one.
    again = await make().verify_token(ec_key("e").sign(claims()))
    assert again is not None and again.client_id == expected
    other = await verifier.verify_token(rsa_key("a").sign(claims(sub="user-2")))
    assert other is not None and other.client_id not in (expected, "")
    assert issuer.hits["/jwks"] == 2  # once per verifier: the keys are cached


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("extra", "scopes", "tenant"),
    [
        ({"scope": None, "scp": ["a", "b", 3]}, ["a", "b"], None),
        ({"scp": ["ignored"]}, ["read", "write"], None),  # `scope` wins
        ({"scope": None, "scp": "x y"}, ["x", "y"], None),
        ({"scope": None, "tid": 42}, [], "42"),
        ({"tid": True}, ["read", "write"], None),
        ({"tid": {"nested": 1}}, ["read", "write"], None),
    ],
)
async def test_scopes_and_tenant_claims(
    make: Callable[..., JwtVerifier], extra: dict[str, Any], scopes: list[str], tenant: str | None
) -> None:
    access = await make(tenant_claim="tid").verify_token(ec_key("e").sign(claims(**extra)))
    assert access is not None
    assert access.scopes == scopes
    assert (access.claims or {}).get("tenant") == tenant


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": int(time.time()) - 120}, "expired"),
        ({"exp": int(time.time()) - 45}, "expired"),  # the leeway is small
        ({"aud": "https://elsewhere.test/mcp"}, "wrong audience"),
        ({"aud": ["https://elsewhere.test/mcp", "https://other.test"]}, "wrong audience"),
        ({"iss": "https://evil.example.test/"}, "wrong issuer"),
        ({"exp": None}, "missing"),
        ({"aud": None}, "missing"),
        ({"sub": None}, "missing"),
        ({"nbf": int(time.time()) + 600}, "not valid yet"),
    ],
)
async def test_bad_claims_are_refused(
    make: Callable[..., JwtVerifier], caplog: pytest.LogCaptureFixture, overrides: dict[str, Any], reason: str
) -> None:
    caplog.set_level(logging.INFO, logger="piggy_mcp.hosting.oauth")
    assert await make().verify_token(rsa_key("a").sign(claims(**overrides))) is None
    assert len(refusals(caplog)) == 1 and reason in refusals(caplog)[0]


@pytest.mark.anyio
async def test_within_the_leeway_and_audience_lists(make: Callable[..., JwtVerifier]) -> None:
    verifier = make(audiences=["https://first.test", AUDIENCE])
    assert await verifier.verify_token(rsa_key("a").sign(claims(exp=int(time.time()) - 5))) is not None
    access = await verifier.verify_token(rsa_key("a").sign(claims(aud=["https://elsewhere.test", AUDIENCE])))
    assert access is not None and access.resource == AUDIENCE


@pytest.mark.anyio
async def test_unknown_keys_and_bad_signatures_are_refused(
    make: Callable[..., JwtVerifier], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="piggy_mcp.hosting.oauth")
    verifier = make()
    rogue = rsa_key("rogue")
    assert await verifier.verify_token(rogue.sign(claims())) is None  # its kid is not in the JWKS
    assert await verifier.verify_token(rogue.sign(claims(), kid="a")) is None  # a known kid, the wrong key
    # The EC key's kid on an RSA-signed token: the key does not fit the algorithm.
    assert await verifier.verify_token(rogue.sign(claims(), kid="e")) is None
    assert ["no key for its kid" in m for m in refusals(caplog)] == [True, False, False]
    assert "bad signature" in refusals(caplog)[1]
    assert "does not" in refusals(caplog)[2]


@pytest.mark.anyio
async def test_alg_none_and_hmac_with_the_public_key_are_refused(
    make: Callable[..., JwtVerifier], issuer: Issuer
) -> None:
    public_pem = (
        rsa_key("a")
        .private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    confused = forge({"alg": "HS256", "kid": "a"}, claims(), lambda m: hmac.new(public_pem, m, "sha256").digest())
    unsigned = forge({"alg": "none", "kid": "a"}, claims(), lambda m: b"")
    lowercase = forge({"alg": "None"}, claims(), lambda m: b"")
    verifier = make()
    for token in (confused, unsigned, lowercase, "not-a-jwt", ""):
        assert await verifier.verify_token(token) is None
    assert issuer.hits["/jwks"] == 0  # refused on their header alone
    assert await verifier.verify_token(rsa_key("a").sign(claims())) is not None


@pytest.mark.anyio
async def test_jwk_algorithms(make: Callable[..., JwtVerifier], issuer: Issuer) -> None:
    # A JWK without `alg` serves every algorithm of its key type ...
    verifier = make()
    for alg in ("RS256", "RS512", "PS256"):
        assert await verifier.verify_token(rsa_key("a").sign(claims(), alg=alg)) is not None
    # ... and one with `alg` only that one.
    issuer.serve_keys(rsa_key("pinned", jwk_alg=True))
    pinned = make()
    assert await pinned.verify_token(rsa_key("pinned", jwk_alg=True).sign(claims())) is not None
    assert await pinned.verify_token(rsa_key("pinned", jwk_alg=True).sign(claims(), alg="PS256")) is None


@pytest.mark.anyio
async def test_a_short_rsa_key_is_refused(make: Callable[..., JwtVerifier], issuer: Issuer) -> None:
    short = Key("short", rsa.generate_private_key(public_exponent=65537, key_size=1024), "RS256")
    issuer.serve_keys(short, rsa_key("a"))
    verifier = make()
    with pytest.warns(jwt.InsecureKeyLengthWarning):  # PyJWT's warning when signing; verifying refuses
        token = short.sign(claims())
    assert await verifier.verify_token(token) is None
    assert await verifier.verify_token(rsa_key("a").sign(claims())) is not None


@pytest.mark.anyio
async def test_a_token_without_kid_needs_a_lone_key(make: Callable[..., JwtVerifier], issuer: Issuer) -> None:
    token = rsa_key("a").sign(claims(), kid=None)
    assert "kid" not in jwt.get_unverified_header(token)
    assert await make().verify_token(token) is None  # two keys published: which one?
    issuer.serve_keys(rsa_key("a"))
    assert await make().verify_token(token) is not None


@pytest.mark.anyio
async def test_key_rotation(make: Callable[..., JwtVerifier], issuer: Issuer, clock: Clock) -> None:
    old, new = rsa_key("a"), rsa_key("b")
    issuer.serve_keys(old)
    verifier = make(min_refetch_interval=10, cache_ttl=100)
    assert await verifier.verify_token(old.sign(claims())) is not None
    issuer.serve_keys(old, new)
    clock.now += 10
    assert await verifier.verify_token(new.sign(claims())) is not None  # its unknown kid made it refetch
    assert issuer.hits["/jwks"] == 2
    issuer.serve_keys(new)
    assert await verifier.verify_token(old.sign(claims())) is not None  # cached, until the cache expires
    clock.now += 100
    assert await verifier.verify_token(old.sign(claims())) is None
    assert await verifier.verify_token(new.sign(claims())) is not None
    assert issuer.hits["/jwks"] == 3


@pytest.mark.anyio
async def test_refetches_are_throttled(make: Callable[..., JwtVerifier], issuer: Issuer, clock: Clock) -> None:
    verifier = make(min_refetch_interval=10)
    results: list[object] = []

    async def verify(token: str) -> None:
        results.append(await verifier.verify_token(token))

    async with anyio.create_task_group() as group:  # a cold start under load: one fetch
        for _ in range(20):
            group.start_soon(verify, rsa_key("a").sign(claims()))
    assert None not in results and issuer.hits["/jwks"] == 1
    clock.now += 10
    flood = [rsa_key("rogue").sign(claims(), kid=f"k{n}") for n in range(50)]
    async with anyio.create_task_group() as group:
        for token in flood:
            group.start_soon(verify, token)
    for token in flood:
        assert await verifier.verify_token(token) is None
    assert issuer.hits["/jwks"] == 2  # one refetch for the whole flood
    clock.now += 10
    assert await verifier.verify_token(flood[0]) is None
    assert issuer.hits["/jwks"] == 3


@pytest.mark.anyio
async def test_discovery_through_authorization_server_metadata(
    make: Callable[..., JwtVerifier], issuer: Issuer
) -> None:
    realm = issuer.base + "/realms/piggy"
    issuer.serve(
        "/.well-known/oauth-authorization-server/realms/piggy", {"issuer": realm, "jwks_uri": issuer.base + "/jwks"}
    )
    verifier = make(issuer=realm, jwks_url=None)
    assert await verifier.verify_token(rsa_key("a").sign(claims(iss=realm))) is not None
    assert await verifier.verify_token(ec_key("e").sign(claims(iss=realm))) is not None
    assert issuer.hits["/.well-known/oauth-authorization-server/realms/piggy"] == 1
    assert issuer.hits["/jwks"] == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "metadata"),
    [
        ("", "/.well-known/openid-configuration"),
        ("/tenant", "/.well-known/openid-configuration/tenant"),
        ("/tenant", "/tenant/.well-known/openid-configuration"),
    ],
)
async def test_discovery_falls_back_to_openid_configuration(
    make: Callable[..., JwtVerifier], issuer: Issuer, path: str, metadata: str
) -> None:
    name = issuer.base + path
    issuer.serve(metadata, {"issuer": name, "jwks_uri": issuer.base + "/jwks"})
    assert await make(issuer=name, jwks_url=None).verify_token(rsa_key("a").sign(claims(iss=name))) is not None
    assert issuer.hits["/.well-known/oauth-authorization-server" + path] == 1  # tried first, absent


@pytest.mark.anyio
async def test_metadata_of_another_issuer_is_not_used(
    make: Callable[..., JwtVerifier], issuer: Issuer, caplog: pytest.LogCaptureFixture
) -> None:
    issuer.serve("/.well-known/oauth-authorization-server", {"issuer": ISSUER, "jwks_uri": issuer.base + "/jwks"})
    verifier = make(issuer=issuer.base, jwks_url=None)
    assert await verifier.verify_token(rsa_key("a").sign(claims(iss=issuer.base))) is None
    assert issuer.hits["/jwks"] == 0
    assert len(warned(caplog)) == 1 and "another issuer" in warned(caplog)[0]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "body", "delay"),
    [
        (503, lambda: {"keys": [rsa_key("a").jwk]}, 0.0),
        (200, lambda: b"<html>not json</html>", 0.0),
        (200, lambda: [rsa_key("a").jwk], 0.0),
        (200, lambda: {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "a"}]}, 0.0),  # no usable (asymmetric) keys
        (200, lambda: {"keys": [rsa_key("a").jwk], "padding": "x" * 300_000}, 0.0),  # too large
        (200, lambda: {"keys": [rsa_key("a").jwk]}, 1.0),  # too slow
        (200, lambda: {"keys": [rsa_key("a").jwk]}, 0.05),  # each piece in time, the whole too slow
    ],
)
async def test_a_failing_jwks_endpoint_refuses_and_is_retried_later(
    make: Callable[..., JwtVerifier],
    issuer: Issuer,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
    status: int,
    body: Callable[[], object],
    delay: float,
) -> None:
    issuer.serve("/jwks", body(), status, delay)
    verifier = make(timeout=0.2, min_refetch_interval=10)
    token = rsa_key("a").sign(claims())
    assert await verifier.verify_token(token) is None
    assert len(warned(caplog)) == 1
    assert await verifier.verify_token(token) is None
    assert issuer.hits["/jwks"] == 1  # not asked again right away
    issuer.serve_keys(rsa_key("a"))
    clock.now += 10
    assert await verifier.verify_token(token) is not None
    assert len(warned(caplog)) == 1


@pytest.mark.anyio
async def test_an_unreachable_issuer_refuses(
    make: Callable[..., JwtVerifier], caplog: pytest.LogCaptureFixture
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    assert await make(jwks_url=closed + "/jwks").verify_token(rsa_key("a").sign(claims())) is None
    assert await make(issuer=closed, jwks_url=None).verify_token(rsa_key("a").sign(claims(iss=closed))) is None
    assert len(warned(caplog)) == 2 and all("ConnectError" in m for m in warned(caplog))


@pytest.mark.anyio
async def test_tokens_never_reach_the_logs(make: Callable[..., JwtVerifier], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    marker = "kid-SECRETISH-0042"
    tokens = [
        rsa_key("a").sign(claims(sub="secret-subject-77")),
        rsa_key("a").sign(claims(exp=int(time.time()) - 600)),
        rsa_key("a").sign(claims(aud="https://elsewhere.test")),
        rsa_key("rogue").sign(claims(), kid=marker),
        rsa_key("rogue").sign(claims(), kid="a"),
        forge({"alg": "none", "kid": marker}, claims(), lambda m: b""),
        "garbage." + marker,
    ]
    verifier = make()
    for token in tokens:
        await verifier.verify_token(token)
    assert len(refusals(caplog)) == len(tokens) - 1
    text = caplog.text
    for token in tokens:
        for part in filter(None, token.split(".")):
            assert part not in text
    assert marker not in text and "secret-subject-77" not in text
    assert all(record.exc_info is None for record in caplog.records)


@pytest.mark.anyio
async def test_aclose_leaves_a_client_it_was_given_open(issuer: Issuer) -> None:
    async with httpx.AsyncClient() as client:
        verifier = JwtVerifier(ISSUER, [AUDIENCE], jwks_url=issuer.base + "/jwks", http=client)
        assert await verifier.verify_token(rsa_key("a").sign(claims())) is not None
        await verifier.aclose()
        assert not client.is_closed


@pytest.mark.parametrize(
    "options", [{"audiences": []}, {"issuer": ""}, {"leeway": 120}, {"cache_ttl": 5, "min_refetch_interval": 10}]
)
def test_bad_settings_are_refused(options: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {"issuer": ISSUER, "audiences": [AUDIENCE], "jwks_url": "https://x.test/jwks"}
    with pytest.raises(ValueError):
        JwtVerifier(**(arguments | options))
