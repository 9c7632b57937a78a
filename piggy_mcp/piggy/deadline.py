"""How long the tool call being served may still spend on Piggy.

A tool call may make several requests (a preview, a check, the write), each with its own timeout and retries;
the call's deadline bounds them all, so the model hears back in time whatever Piggy does. Time spent waiting for
the user's answer to a confirmation question is not the server's and does not count.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class CallDeadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self._paused_at: float | None = None

    def pause(self) -> None:
        """The clock stops: the call waits for the user, not for Piggy."""
        if self._paused_at is None:
            self._paused_at = time.monotonic()

    def resume(self) -> None:
        if self._paused_at is not None:
            self.at += time.monotonic() - self._paused_at
            self._paused_at = None


_current: ContextVar[CallDeadline | None] = ContextVar("piggy_call_deadline", default=None)


@contextmanager
def call_deadline(seconds: float) -> Iterator[CallDeadline]:
    """Bound the Piggy requests made inside this block to `seconds` in all."""
    deadline = CallDeadline(seconds)
    reset = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(reset)


def current_deadline() -> CallDeadline | None:
    return _current.get()
