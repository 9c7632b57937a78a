"""A deadline on HTTP request headers, which uvicorn does not have: a client that starts a request and never
finishes its headers would otherwise hold its socket, and a place under the connection limit, for ever."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, cast

log = logging.getLogger(__name__)

_END_OF_HEADERS = b"\r\n\r\n"
_INTERIM_RESPONSE = b"HTTP/1.1 1"  # "100 Continue" and the like: the request is not answered yet


def with_header_deadline(seconds: float) -> type[asyncio.Protocol]:
    """uvicorn's default HTTP protocol, closing connections whose request headers take over `seconds`.

    Pass the result as uvicorn's `http` setting. The deadline runs from the moment a connection waits for a
    request: when it opens, and on a kept-alive connection when the next request's first bytes come after an
    answer. It ends when the blank line that closes the headers arrives.
    """
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    class HeaderDeadline(asyncio.Protocol):
        def __init__(self, **options: Any) -> None:
            self._inner = AutoHTTPProtocol(**options)
            self._loop = asyncio.get_running_loop()
            self._transport: asyncio.Transport | None = None
            self._timer: asyncio.TimerHandle | None = None
            self._awaiting_headers = True
            self._answered = False
            self._tail = b""

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            self._transport = transport
            self._timer = self._loop.call_later(seconds, self._expire)
            # A stand-in that forwards everything: the protocol uses only the transport's public methods.
            self._inner.connection_made(cast(asyncio.Transport, _WatchedTransport(transport, self._wrote)))

        def data_received(self, data: bytes) -> None:
            if not self._awaiting_headers and self._answered:  # the next request on a kept-alive connection
                self._awaiting_headers, self._answered, self._tail = True, False, b""
                self._timer = self._loop.call_later(seconds, self._expire)
            if self._awaiting_headers:
                seen = self._tail + data
                if _END_OF_HEADERS in seen:
                    self._awaiting_headers = False
                    self._cancel()
                self._tail = seen[-(len(_END_OF_HEADERS) - 1) :]
            self._inner.data_received(data)

        def _wrote(self, data: bytes) -> None:
            if not self._awaiting_headers and not data.startswith(_INTERIM_RESPONSE):
                self._answered = True

        def _expire(self) -> None:
            if self._awaiting_headers and self._transport is not None:
                log.info("dropping a client that did not send its request headers within %ss", seconds)
                self._transport.close()

        def _cancel(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel()
            self._inner.connection_lost(exc)

        def eof_received(self) -> bool | None:
            return self._inner.eof_received()

        def pause_writing(self) -> None:
            self._inner.pause_writing()

        def resume_writing(self) -> None:
            self._inner.resume_writing()

    return HeaderDeadline


class _WatchedTransport:
    """The connection's transport, as the HTTP protocol sees it, telling the deadline what is written."""

    def __init__(self, transport: asyncio.Transport, on_write: Callable[[bytes], None]) -> None:
        self._transport = transport
        self._on_write = on_write

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._on_write(bytes(data[: len(_INTERIM_RESPONSE)]))
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
