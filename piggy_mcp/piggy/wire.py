"""The httpx layer under `client.py`: one connection pool, the fixed headers, and sending one attempt.

Only `PiggyClient` imports this module, on its first request: httpx is not needed before then, and
importing it would slow every server start. Network failures leave here as `errors.NetworkError`, so
the client's retry loop never needs httpx's exception types.
"""

from __future__ import annotations

import json as jsonlib
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

import httpx

from piggy_mcp import __version__
from piggy_mcp.piggy.errors import NetworkError

# Raised before a single byte of the request left this process: repeating cannot duplicate a write.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

_WRITES_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


class Pool:
    """A connection pool to Piggy (an httpx transport) and the headers every request carries."""

    def __init__(self, api_key: str, api_url: str, transport: httpx.AsyncBaseTransport | None) -> None:
        # What httpx.AsyncClient would send, Host first as httpx puts it, built once instead of per request: all
        # URLs share api_url's host.
        self._headers = httpx.Headers(
            {
                "Host": httpx.URL(api_url).netloc.decode("ascii"),
                "Authorization": f"Bearer {api_key}",
                "Accept": "application/json",
                "Accept-Encoding": "gzip, deflate",
                "Connection": "keep-alive",
                "User-Agent": f"piggy-mcp/{__version__}",
            }
        )
        # httpx marks a write without a body as empty.
        self._empty_write_headers = httpx.Headers([*self._headers.raw, (b"Content-Length", b"0")])
        if transport is None:
            transport = httpx.AsyncHTTPTransport(proxy=_environment_proxy(api_url))
        self.transport = transport

    async def aclose(self) -> None:
        # An injected transport is closed too, as httpx.AsyncClient closes the one it is given.
        await self.transport.aclose()

    async def send(
        self,
        method: str,
        url: str,
        query: Mapping[str, Any] | None,
        json: Mapping[str, Any] | None,
        seconds: float,
    ) -> httpx.Response:
        """One attempt, straight to the transport: none of httpx.AsyncClient's cookies, auth, redirects or hooks."""
        body = b"" if json is None else _json_body(json)
        if query:
            url = f"{url}?{urllib.parse.urlencode(query)}"
        try:
            # Headers and body are complete here, so httpx is handed a stream and adds nothing: half the cost of
            # a Request it prepares itself.
            request = httpx.Request(
                method,
                url,
                headers=self._request_headers(method, body),
                stream=httpx.ByteStream(body),
                # The per-attempt timeout, in the form httpx.AsyncClient hands it to a transport.
                extensions={"timeout": httpx.Timeout(seconds).as_dict()},
            )
            response = await self.transport.handle_async_request(request)
            try:
                await response.aread()
            except BaseException:
                await response.aclose()  # hands the connection back to the pool (or drops it)
                raise
        except httpx.HTTPError as exc:
            raise NetworkError(
                _network_text(exc), kind=type(exc).__name__, sent=not isinstance(exc, _NOT_SENT)
            ) from exc
        return response

    def _request_headers(self, method: str, body: bytes) -> httpx.Headers:
        if body:
            length = str(len(body)).encode("ascii")
            return httpx.Headers(
                [*self._headers.raw, (b"Content-Length", length), (b"Content-Type", b"application/json")]
            )
        return self._empty_write_headers if method in _WRITES_WITH_BODY else self._headers


def _json_body(data: Mapping[str, Any]) -> bytes:
    # As httpx encodes `json=`: compact and UTF-8; NaN and infinities are refused, as JSON has none.
    return jsonlib.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _network_text(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "Piggy did not answer in time"
    return f"network error talking to Piggy ({type(exc).__name__})"


def _environment_proxy(url: str) -> str | None:
    """The proxy httpx.AsyncClient would take for `url` from HTTP(S)_PROXY, ALL_PROXY and NO_PROXY."""
    parts = urllib.parse.urlsplit(url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.netloc):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"
