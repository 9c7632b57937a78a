"""OpenTelemetry traces: each tool call a span, with its outcome, and each request to Piggy a child span.

The MCP SDK already opens a SERVER span `tools/call <tool>` around every tool call, continuing the trace that a
client sends in the request's `_meta` (W3C `traceparent`); `ToolCallSpans` adds the call's outcome to that span
and `PiggySpans` adds a CLIENT span per attempt at a request to Piggy. No argument value goes into a span.

Spans go nowhere until a tracer provider is set. `export_from_environment` sets the OpenTelemetry SDK's (the
`otel` extra) when the standard variables ask for an exporter; a host such as `opentelemetry-instrument` may set
its own instead. Only the OpenTelemetry API is imported otherwise, which the MCP SDK imports anyway.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from piggy_mcp.audit import reported_outcome, tracked_call
from piggy_mcp.piggy.observe import Attempt

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

log = logging.getLogger(__name__)

OUTCOME = "piggy_mcp.outcome"
_tracer = trace.get_tracer("piggy_mcp")


class ToolCallSpans:
    """Middleware: the SDK's span of a tool call gets the call's outcome (the names the metrics use)."""

    def __init__(self, tools: Collection[str]) -> None:
        self._tools = frozenset(tools)

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        span = trace.get_current_span()
        if ctx.method != "tools/call" or not span.is_recording():
            return await call_next(ctx)
        with tracked_call() as call:
            try:
                result = await call_next(ctx)
            except Exception:  # the SDK refused the request before any tool ran
                span.set_attribute(OUTCOME, "refused")
                raise
            served = (ctx.params or {}).get("name") in self._tools
            span.set_attribute(OUTCOME, reported_outcome(result, call) if served else "refused")
            if call.confirmations:
                span.set_attribute("piggy_mcp.confirmation", call.confirmations)
            return result


class PiggySpans:
    """Observer of PiggyClient (a `PiggyObserver`): a CLIENT span per attempt, child of the tool call's span."""

    def attempted(self, attempt: Attempt) -> None:
        attributes: dict[str, Any] = {"http.request.method": attempt.method, "url.template": attempt.endpoint}
        if attempt.status is not None:
            attributes["http.response.status_code"] = attempt.status
        if attempt.number > 1:
            attributes["http.request.resend_count"] = attempt.number - 1
        if attempt.piggy_code is not None:
            attributes["piggy.error_code"] = attempt.piggy_code
        # Recorded once it ended (just now), so that the client need not carry a span through its retry loop.
        ended = time.time_ns()
        span = _tracer.start_span(
            f"{attempt.method} {attempt.endpoint}",
            kind=SpanKind.CLIENT,
            attributes=attributes,
            start_time=ended - int(attempt.seconds * 1e9),
        )
        failed = attempt.failure or (
            str(attempt.status) if attempt.status is not None and attempt.status >= 400 else None
        )
        if failed is not None:
            span.set_attribute("error.type", failed)
            span.set_status(StatusCode.ERROR)
        span.end(end_time=ended)

    def slots_in_use(self, count: int) -> None:
        pass  # a metric, not a trace


def export_from_environment() -> None:
    """Export spans as OTEL_TRACES_EXPORTER (otlp, console) says, or over OTLP when only an endpoint is given."""
    wanted = [name.strip() for name in os.environ.get("OTEL_TRACES_EXPORTER", "").lower().split(",") if name.strip()]
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if not wanted and endpoint:
        wanted = ["otlp"]
    if not wanted or wanted == ["none"] or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return
    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return  # someone set a provider already (opentelemetry-instrument, an embedding host): theirs it is
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning(
            "OTEL_* variables ask for traces, but the OpenTelemetry SDK is missing: pip install 'piggy-mcp[otel]'"
        )
        return
    named = os.environ.get("OTEL_SERVICE_NAME") or "service.name=" in os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "")
    # The SDK reads the rest of its configuration (sampler, batching, OTLP endpoint and headers) from OTEL_* itself.
    provider = TracerProvider(resource=Resource.create({} if named else {"service.name": "piggy-mcp"}))
    for name in wanted:
        exporter = _exporter(name)
        if exporter is not None:
            provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)


def _exporter(name: str) -> SpanExporter | None:
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter(out=sys.stderr)  # stdout is the protocol's wire in stdio mode
    if name == "otlp":
        if os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf") != "http/protobuf":
            log.warning("piggy-mcp exports OTLP over http/protobuf only; OTEL_EXPORTER_OTLP_PROTOCOL is ignored")
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            log.warning("the OTLP exporter is missing: pip install 'piggy-mcp[otel]'")
            return None
        return OTLPSpanExporter()
    log.warning("OTEL_TRACES_EXPORTER=%s is not supported by piggy-mcp (otlp, console, none)", name)
    return None
