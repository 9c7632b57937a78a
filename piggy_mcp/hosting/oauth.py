"""JWT access tokens from one OAuth issuer, for the HTTP transport: the server as an OAuth 2.1 resource server.

PyJWT checks the signature and the claims; this module finds the key. The issuer's JWKS is fetched with httpx
(its URL configured, or read from the issuer's RFC 8414 / OpenID metadata), cached for `cache_ttl` seconds and
refetched early when a token names an unknown key, at most once per `min_refetch_interval` seconds.
Call `aclose()` when done: it closes the httpx client the verifier made (never one passed in).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import jwt
from jwt.exceptions import InvalidSubjectError
from mcp.server.auth.provider import AccessToken, TokenVerifier

log = logging.getLogger(__name__)

# Asymmetric only: an HS* token could be signed with the public key as its secret, and `none` with nothing.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
_KEY_TYPES = ("RSA", "EC", "OKP")
_MAX_BODY = 256 * 1024  # a JWKS or metadata document is a few KB
_MAX_LEEWAY = 30.0

# Why a token was refused, by PyJWT error; subclasses first. Our own words: PyJWT's messages are not logged.
_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.InvalidAudienceError, "wrong audience"),
    (jwt.InvalidIssuerError, "wrong issuer"),
    (jwt.ImmatureSignatureError, "not valid yet (nbf or iat in the future)"),
    (jwt.InvalidIssuedAtError, "invalid iat"),
    (jwt.MissingRequiredClaimError, "a required claim (exp, iss, aud, sub) is missing"),
    (jwt.InvalidSignatureError, "bad signature"),
    (jwt.InvalidAlgorithmError, "algorithm does not match the key"),
    (InvalidSubjectError, "sub is not a string"),
    (jwt.DecodeError, "malformed"),
    (jwt.InvalidKeyError, "the key does not fit the algorithm, or is too short"),
    (jwt.PyJWTError, "invalid"),
)


class _FetchError(Exception):
    pass


class JwtVerifier(TokenVerifier):
    def __init__(
        self,
        issuer: str,
        audiences: Sequence[str],
        *,
        jwks_url: str | None = None,
        tenant_claim: str = "sub",
        http: httpx.AsyncClient | None = None,
        leeway: float = _MAX_LEEWAY,
        min_refetch_interval: float = 10.0,
        cache_ttl: float = 300.0,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not issuer or not audiences:
            raise ValueError("JwtVerifier needs an issuer and at least one audience")
        if not 0 <= leeway <= _MAX_LEEWAY:
            raise ValueError(f"leeway must be between 0 and {_MAX_LEEWAY:g} seconds")
        if cache_ttl < min_refetch_interval:
            raise ValueError("cache_ttl must be at least min_refetch_interval")
        self._issuer = issuer
        self._audiences = list(audiences)
        self._jwks_url = jwks_url
        self._tenant_claim = tenant_claim
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient()
        self._leeway = leeway
        self._min_interval = min_refetch_interval
        self._ttl = cache_ttl
        self._timeout = timeout
        self._clock = clock
        self._keys: list[dict[str, Any]] = []
        self._fetched_at = -float("inf")  # last successful fetch
        self._attempted_at = -float("inf")  # last fetch, successful or not: the throttle
        self._lock = anyio.Lock()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def verify_token(self, token: str) -> AccessToken | None:
        verified = await self._verify(token)
        if isinstance(verified, str):
            # Only our own words: never the token, nor anything read from it (its kid is the caller's text too).
            log.info("OAuth: token refused: %s", verified)
            return None
        return verified

    async def _verify(self, token: str) -> AccessToken | str:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return "malformed header"
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALGORITHMS:
            return "algorithm not allowed"
        if kid is not None and not isinstance(kid, str):
            return "malformed kid"
        jwk = await self._key_for(kid)
        if jwk is None:
            return "no key for its kid (unknown, or the keys are unavailable)"
        try:
            # A JWK without `alg` fits any algorithm of its type; PyJWK then checks the key against the token's.
            key = jwt.PyJWK(jwk, None if "alg" in jwk else alg)
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self._audiences,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iss", "aud", "sub"], "enforce_minimum_key_length": True},
            )
        except jwt.PyJWTError as error:
            return next(reason for kind, reason in _REASONS if isinstance(error, kind))
        return self._access_token(token, claims)

    def _access_token(self, token: str, claims: dict[str, Any]) -> AccessToken:
        subject: str = claims["sub"]
        aud = claims["aud"]
        presented = [aud] if isinstance(aud, str) else aud
        scopes = claims.get("scope", claims.get("scp"))  # RFC 9068 `scope`; `scp` is Microsoft's and Okta's
        if isinstance(scopes, str):
            scopes = scopes.split()
        extra: dict[str, Any] = {"iss": self._issuer}
        tenant = claims.get(self._tenant_claim)
        if isinstance(tenant, str | int | float) and not isinstance(tenant, bool):
            extra["tenant"] = str(tenant)
        # Request state is bound to client_id across replicas: derived from (issuer, subject) alone.
        digest = hashlib.sha256(f"{self._issuer}\n{subject}".encode()).hexdigest()[:16]
        return AccessToken(
            token=token,
            client_id=f"oauth-{digest}",
            scopes=[s for s in scopes if isinstance(s, str)] if isinstance(scopes, list) else [],
            expires_at=int(claims["exp"]),
            resource=next(a for a in self._audiences if a in presented),
            subject=subject,
            claims=extra,
        )

    async def _key_for(self, kid: str | None) -> dict[str, Any] | None:
        if self._clock() - self._fetched_at < self._ttl and (jwk := _select(self._keys, kid)) is not None:
            return jwk
        async with self._lock:  # concurrent misses wait for one fetch instead of each making their own
            if self._clock() - self._attempted_at >= self._min_interval:
                self._attempted_at = self._clock()
                try:
                    self._keys = await self._fetch_keys()
                    self._fetched_at = self._attempted_at
                except _FetchError as error:
                    log.warning("OAuth: could not fetch the issuer's keys (%s); refusing tokens until it works", error)
                    return None
        if self._clock() - self._fetched_at >= self._ttl:
            return None  # keys too old to trust, and fetching again is throttled
        return _select(self._keys, kid)

    async def _fetch_keys(self) -> list[dict[str, Any]]:
        if self._jwks_url is None:
            self._jwks_url = await self._discover()
        document = await self._get_json(self._jwks_url)
        entries = document.get("keys")
        keys = [entry for entry in entries if _usable(entry)] if isinstance(entries, list) else []
        if not keys:
            raise _FetchError(f"no usable keys at {self._jwks_url}")
        return keys

    async def _discover(self) -> str:
        # RFC 8414 §3.1 puts the well-known segment between host and path; OpenID appends it (MCP tries both).
        parts = urlsplit(self._issuer)
        origin, path = f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")
        urls = [f"{origin}/.well-known/oauth-authorization-server{path}"]
        urls += [f"{origin}/.well-known/openid-configuration{path}"] if path else []
        urls.append(f"{origin}{path}/.well-known/openid-configuration")
        failures = []
        for url in urls:
            try:
                metadata = await self._get_json(url)
            except _FetchError as error:
                failures.append(str(error))
                continue
            jwks_uri = metadata.get("jwks_uri")
            if metadata.get("issuer") != self._issuer:  # RFC 8414 §3.3: metadata of another issuer is not used
                failures.append(f"{url} is another issuer's metadata")
            elif isinstance(jwks_uri, str) and jwks_uri:
                return jwks_uri
            else:
                failures.append(f"{url} has no jwks_uri")
        raise _FetchError("; ".join(failures))

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            with anyio.fail_after(self._timeout):  # overall: httpx's timeouts are per read, a trickle evades them
                async with self._http.stream("GET", url, timeout=self._timeout) as response:
                    if response.status_code != 200:
                        raise _FetchError(f"{url} answered HTTP {response.status_code}")
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > _MAX_BODY:
                            raise _FetchError(f"{url} sent more than {_MAX_BODY} bytes")
            document = json.loads(body)
        except (httpx.HTTPError, httpx.InvalidURL, TimeoutError, OSError) as error:
            raise _FetchError(f"{url}: {type(error).__name__}") from error
        except (ValueError, RecursionError) as error:  # RecursionError: JSON nested too deep
            raise _FetchError(f"{url} did not send JSON") from error
        if not isinstance(document, dict):
            raise _FetchError(f"{url} did not send a JSON object")
        return document


def _usable(entry: object) -> bool:
    if not isinstance(entry, dict) or entry.get("kty") not in _KEY_TYPES or entry.get("use", "sig") != "sig":
        return False
    if ("alg" in entry and entry["alg"] not in ALGORITHMS) or not isinstance(entry.get("kid", ""), str):
        return False
    try:
        jwt.PyJWK(entry)
    except jwt.PyJWTError:
        return False
    return True


def _select(keys: list[dict[str, Any]], kid: str | None) -> dict[str, Any] | None:
    if kid is None:  # without a kid only a lone key is unambiguous
        return keys[0] if len(keys) == 1 else None
    return next((key for key in keys if key.get("kid") == kid), None)
