"""Prometheus metrics at /metrics on the HTTP transport: tool calls, confirmations and the requests sent to Piggy.

Served when prometheus-client is installed (the `metrics` extra), which is imported only then, so stdio start-up
never loads it. Labels carry only names from fixed sets: tool names the server serves, endpoint templates,
statuses, Piggy's error codes. Never an argument, an email, a uuid or a secret.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

from piggy_mcp.audit import reported_outcome, tracked_call
from piggy_mcp.piggy.observe import Attempt

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

METRICS_PATH = "/metrics"
_TOOL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0)
_PIGGY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


def available() -> bool:
    """Whether prometheus-client is installed, without importing it."""
    return importlib.util.find_spec("prometheus_client") is not None


@dataclass(frozen=True)
class _Metrics:
    registry: CollectorRegistry
    tool_calls: Counter
    tool_seconds: Histogram
    confirmations: Counter
    piggy_requests: Counter
    piggy_seconds: Histogram
    piggy_retries: Counter
    piggy_slots: Gauge


@cache
def _metrics() -> _Metrics:
    """The process's metrics, created on first use (one registry per process, as Prometheus scrapes processes)."""
    from prometheus_client import (
        CollectorRegistry,
        Counter,
        Gauge,
        GCCollector,
        Histogram,
        PlatformCollector,
        ProcessCollector,
    )

    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    piggy = ("tenant", "method", "endpoint")
    return _Metrics(
        registry=registry,
        tool_calls=Counter(
            "piggy_mcp_tool_calls", "Tool calls, by tool and outcome.", ("tenant", "tool", "outcome"), registry=registry
        ),
        tool_seconds=Histogram(
            "piggy_mcp_tool_call_duration_seconds",
            "Time a tool call took, in seconds (a user's time to confirm included).",
            ("tenant", "tool"),
            buckets=_TOOL_BUCKETS,
            registry=registry,
        ),
        confirmations=Counter(
            "piggy_mcp_confirmations",
            "Confirmations of irreversible actions, by stage: asked, confirmed, cancelled, refused (a token).",
            ("tenant", "tool", "stage"),
            registry=registry,
        ),
        piggy_requests=Counter(
            "piggy_mcp_piggy_requests",
            "Requests sent to Piggy (each attempt), by endpoint template, HTTP status and Piggy's error code.",
            (*piggy, "status", "piggy_code"),
            registry=registry,
        ),
        piggy_seconds=Histogram(
            "piggy_mcp_piggy_request_duration_seconds",
            "Time one attempt at a request to Piggy took, in seconds.",
            piggy,
            buckets=_PIGGY_BUCKETS,
            registry=registry,
        ),
        piggy_retries=Counter("piggy_mcp_piggy_retries", "Requests to Piggy repeated.", piggy, registry=registry),
        piggy_slots=Gauge(
            "piggy_mcp_piggy_slots_in_use",
            "Requests to Piggy in flight (at most PIGGY_MAX_CONCURRENT_REQUESTS).",
            ("tenant",),
            registry=registry,
        ),
    )


class ToolCallMetrics:
    """Middleware counting tool calls by outcome (the audit trail's), their duration and their confirmations."""

    def __init__(self, tools: Collection[str], tenant: str) -> None:
        self._tools = frozenset(tools)
        self._tenant = tenant
        _metrics()  # created now, so a scrape before the first call already lists every metric

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "tools/call":
            return await call_next(ctx)
        name = (ctx.params or {}).get("name")
        # A name the server does not serve is whatever the client sent: not fit for a label.
        tool = name if isinstance(name, str) and name in self._tools else "unknown"
        metrics, tenant = _metrics(), self._tenant
        started = time.perf_counter()
        with tracked_call() as call:
            try:
                result = await call_next(ctx)
            except Exception:  # the SDK refused the request before any tool ran (malformed params)
                metrics.tool_calls.labels(tenant, tool, "refused").inc()
                raise
            finally:
                metrics.tool_seconds.labels(tenant, tool).observe(time.perf_counter() - started)
                for stage in call.confirmations:
                    metrics.confirmations.labels(tenant, tool, stage).inc()
            # A call of a tool this server does not serve is refused, whatever the SDK answered.
            ended = "refused" if tool == "unknown" else reported_outcome(result, call)
            metrics.tool_calls.labels(tenant, tool, ended).inc()
            return result


class PiggyMetrics:
    """Observer of PiggyClient (a `PiggyObserver`): each attempt, its retries, the requests in flight."""

    def __init__(self, tenant: str) -> None:
        self._metrics = _metrics()
        self._tenant = tenant

    def attempted(self, attempt: Attempt) -> None:
        metrics, labels = self._metrics, (self._tenant, attempt.method, attempt.endpoint)
        status = str(attempt.status) if attempt.status is not None else "no_answer"
        code = str(attempt.piggy_code) if attempt.piggy_code is not None else "none"
        metrics.piggy_requests.labels(*labels, status, code).inc()
        metrics.piggy_seconds.labels(*labels).observe(attempt.seconds)
        if attempt.number > 1:
            metrics.piggy_retries.labels(*labels).inc()

    def slots_in_use(self, count: int) -> None:
        self._metrics.piggy_slots.labels(self._tenant).set(count)


def exposition() -> tuple[bytes, str]:
    """What a scrape of /metrics gets: this process's metrics in the text format, and its content type."""
    from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

    return generate_latest(_metrics().registry), CONTENT_TYPE_PLAIN_0_0_4
