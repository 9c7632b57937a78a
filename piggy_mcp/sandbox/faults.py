"""Test-only misbehaviour and a log of what arrived: never reachable over HTTP, only through `Sandbox` methods.

A fault applies to the next `times` requests that match its method and path (a glob on the path below
`/api/v3/oauth/clients`, e.g. "/contacts/*"); the oldest matching fault is used first.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any, Literal

FaultKind = Literal["rate_limit", "maintenance", "slow", "drop"]


@dataclass
class Fault:
    kind: FaultKind
    times: int = 1
    method: str | None = None
    path: str | None = None
    retry_after: float = 30.0  # rate_limit: the Retry-After header, in seconds
    seconds: float = 0.0  # slow: how long to wait before answering
    after_handling: bool = True  # drop: the request takes effect, only the answer is lost

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or fnmatch.fnmatchcase(path, self.path)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # below /api/v3/oauth/clients, e.g. "/contacts/merge" (the full path for anything else)
    query: dict[str, str]
    json: Any  # the parsed body, or None
    authorized: bool


class FaultPlan:
    """Queued faults, consumed one request at a time."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        if fault.times < 1:
            raise ValueError("a fault must apply to at least one request")
        self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.matches(method, path):
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._faults.clear()

    @property
    def pending(self) -> list[Fault]:
        return list(self._faults)
