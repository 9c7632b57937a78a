"""What PiggyClient tells observers (metrics, traces) about the requests it sends, without knowing who listens.

Observers see a request's endpoint as a template (`/contacts/{uuid}`), never its path: a path carries uuids, and
query parameters (emails, codes) are never part of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# The fixed segments of Piggy's paths are lowercase words joined by hyphens; anything else is a value.
_WORDS = re.compile(r"[a-z]+(?:-[a-z]+)*")


@dataclass
class Attempt:
    """One attempt at a request to Piggy: what was asked and what came back."""

    method: str
    endpoint: str  # the path's template, see `endpoint_template`
    number: int  # 1, then 2 for the first retry, ...
    seconds: float = 0.0  # from sending to the answer's last byte, or to the failure
    status: int | None = None  # None: no answer came (a network error, the deadline)
    piggy_code: int | None = None  # the error code in Piggy's answer, if it gave one
    failure: str | None = None  # why the attempt failed without a usable answer (an exception's type name)


class PiggyObserver(Protocol):
    def attempted(self, attempt: Attempt) -> None:
        """Called as soon as an attempt got its answer or failed, in the context of the tool call that made it."""

    def slots_in_use(self, count: int) -> None:
        """Called whenever the number of requests in flight to Piggy changes."""


def endpoint_template(path: str) -> str:
    """`path` with each segment that is a value replaced: `{uuid}` for a uuid, `{id}` for anything else."""
    segments = path.split("?", 1)[0].split("/")
    return "/".join(
        segment if not segment or _WORDS.fullmatch(segment) else "{uuid}" if _UUID.fullmatch(segment) else "{id}"
        for segment in segments
    )
