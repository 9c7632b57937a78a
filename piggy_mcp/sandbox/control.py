"""The handle tests and demos hold: the store, plus the test-only faults and the log of requests received."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from piggy_mcp.sandbox.faults import Fault, FaultPlan, RecordedRequest
from piggy_mcp.sandbox.state import DEFAULT_PROCESSING_DELAY, Store


class Sandbox:
    """One simulated Piggy account. Create the ASGI app for it with `create_app(sandbox=...)`."""

    def __init__(
        self,
        *,
        api_key: str = "sandbox",
        portal_enabled: bool = True,
        processing_delay: float = DEFAULT_PROCESSING_DELAY,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = Store(
            api_key=api_key, portal_enabled=portal_enabled, processing_delay=processing_delay, clock=clock
        )
        self.faults = FaultPlan()
        self._requests: list[RecordedRequest] = []

    @property
    def api_key(self) -> str:
        return self.store.api_key

    @property
    def portal_enabled(self) -> bool:
        return self.store.portal_enabled

    @portal_enabled.setter
    def portal_enabled(self, value: bool) -> None:
        self.store.portal_enabled = value

    # Queued work --------------------------------------------------------------------------------

    def run_pending(self) -> None:
        """Apply queued merges and voucher batches now instead of after the processing delay."""
        self.store.run_pending()

    # Request log --------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, oldest first, including refused and faulted ones."""
        return list(self._requests)

    def record(self, request: RecordedRequest) -> None:
        self._requests.append(request)

    def clear_requests(self) -> None:
        self._requests.clear()

    # Faults (tests only) --------------------------------------------------------------------------

    def rate_limit(
        self, times: int = 1, *, retry_after: float = 30.0, method: str | None = None, path: str | None = None
    ) -> Fault:
        """Answer 429 Too Many Requests with `Retry-After: <retry_after>`."""
        return self.faults.add(Fault("rate_limit", times, method, path, retry_after=retry_after))

    def maintenance(self, times: int = 1, *, method: str | None = None, path: str | None = None) -> Fault:
        """Answer 503, as Piggy does in maintenance mode."""
        return self.faults.add(Fault("maintenance", times, method, path))

    def slow(self, seconds: float, times: int = 1, *, method: str | None = None, path: str | None = None) -> Fault:
        """Wait `seconds` before handling the request normally (set it past the client's timeout).

        Only a real HTTP server lets the client time out: httpx.ASGITransport does not apply timeouts.
        """
        return self.faults.add(Fault("slow", times, method, path, seconds=seconds))

    def drop(
        self, times: int = 1, *, method: str | None = None, path: str | None = None, after_handling: bool = True
    ) -> Fault:
        """Lose the connection instead of answering; by default after the request took effect.

        In process the client sees httpx.RemoteProtocolError; over uvicorn the connection is cut mid-response.
        """
        return self.faults.add(Fault("drop", times, method, path, after_handling=after_handling))

    def clear_faults(self) -> None:
        self.faults.clear()
