"""Audit trail: one JSON line for every call of a tool that can change something in Piggy.

It runs as SDK middleware around `tools/call`, so it also sees calls that end before the tool body runs
(bad arguments, a refused confirmation token). Arguments are recorded with email addresses masked and
credentials (login codes, voucher codes, confirmation tokens) redacted. The API key is never in scope here.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from pydantic import BaseModel

# Words are matched once each (linear in the text); only those with an "@" are looked at again.
_WORD = re.compile(r"\S+")
_EMAIL = re.compile(r"([^@])[^@]*@(.+)")
REDACTED_ARGUMENTS = frozenset({"code", "confirmation_token"})
# The audit line keeps this much of a text argument: enough to recognise it, never a whole pasted document.
MAX_AUDITED_CHARS = 200


@dataclass
class Call:
    """What the tools noted about the tool call in progress: how Piggy failed it, how its confirmation went."""

    error: str | None = None
    piggy_code: int | None = None
    # In order: "asked", "confirmed", "cancelled", "refused" (a confirmation token that was not accepted).
    confirmations: list[str] = field(default_factory=list)


_current: ContextVar[Call | None] = ContextVar("piggy_mcp_audit_call", default=None)


@contextmanager
def tracked_call() -> Iterator[Call]:
    """The record of the tool call in progress; middleware nested in another that tracks it shares its record."""
    call = _current.get()
    if call is not None:
        yield call
        return
    call = Call()
    reset = _current.set(call)
    try:
        yield call
    finally:
        _current.reset(reset)


def note_piggy_error(kind: str, code: int | None) -> None:
    """Record how Piggy failed the call being tracked, if one is."""
    call = _current.get()
    if call is not None:
        call.error, call.piggy_code = kind, code


def note_confirmation(stage: str) -> None:
    """Record a step of the confirmation of the call being tracked, if one is."""
    call = _current.get()
    if call is not None:
        call.confirmations.append(stage)


class AuditTrail:
    """Middleware writing one line per audited tool call to stderr, and to `path` when given."""

    def __init__(self, audited_tools: Collection[str], path: Path | None = None, *, tenant: str = "default") -> None:
        self._audited = frozenset(audited_tools)
        self._path = path
        self._tenant = tenant

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        params = ctx.params or {}
        tool = params.get("name")
        if ctx.method != "tools/call" or tool not in self._audited:
            return await call_next(ctx)
        with tracked_call() as call:
            started = time.perf_counter()
            result_outcome = "error"
            try:
                result = await call_next(ctx)
                result_outcome = outcome(result, call)
                return result
            finally:
                self._write(
                    {
                        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                        "event": "tool_call",
                        "tenant": self._tenant,
                        "tool": tool,
                        "arguments": mask(params.get("arguments") or {}),
                        "outcome": result_outcome,
                        "error": call.error,
                        "piggy_code": call.piggy_code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    }
                )

    def _write(self, record: Mapping[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":"), default=str) + "\n"
        _emit(sys.stderr, line)
        if self._path is not None:
            with self._path.open("a", encoding="utf-8") as file:
                _emit(file, line)


def _emit(stream: TextIO, line: str) -> None:
    stream.write(line)
    stream.flush()


def outcome(result: HandlerResult, call: Call) -> str:
    """How a tool call ended, from its result and what the tools noted: the audit trail's `outcome`."""
    wire = json_form(result)
    if wire.get("resultType") == "input_required":
        return "confirmation_requested"
    if wire.get("isError"):
        return "piggy_error" if call.error is not None else "error"
    status = (wire.get("structuredContent") or {}).get("status")
    if status == "confirmation_required":
        return "confirmation_requested"
    if status == "cancelled":
        return "cancelled"
    return "ok"


def reported_outcome(result: HandlerResult, call: Call) -> str:
    """The outcome as metrics and traces name it, where `error` would be ambiguous: `tool_error`."""
    ended = outcome(result, call)
    return "tool_error" if ended == "error" else ended


def json_form(result: HandlerResult) -> Mapping[str, Any]:
    """A handler result as it goes on the wire (middleware may see a model or its serialized dict)."""
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json", by_alias=True, exclude_none=True)
    return result or {}


def mask(value: Any, key: str | None = None) -> Any:
    """`value` with credentials redacted, email addresses reduced to their first letter and domain, and long
    texts cut. The arguments are audited before they are validated, so this must be cheap for any input."""
    if key in REDACTED_ARGUMENTS and value is not None:
        return "[redacted]"
    if isinstance(value, str):
        masked = _WORD.sub(lambda word: _EMAIL.sub(r"\1***@\2", word[0]) if "@" in word[0] else word[0], value)
        if len(masked) <= MAX_AUDITED_CHARS:
            return masked
        return f"{masked[:MAX_AUDITED_CHARS]}... [{len(value):,} characters]"
    if isinstance(value, Mapping):
        return {k: mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value
