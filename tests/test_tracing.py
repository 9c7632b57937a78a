"""Traces, in process with the OpenTelemetry SDK's in-memory exporter: the SDK's span of each tool call gets its
outcome, each request to Piggy is a child span with its endpoint template and status, a client's trace context
(sent in `_meta`) is continued, and no argument value ends up in a span."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from mcp import Client
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from piggy_mcp.server import build_server
from tests.conftest import CONTACT_A, make_settings
from tests.helpers import EMAIL, contact, envelope, piggy_error


@pytest.fixture(scope="module")
def exporter() -> Iterator[InMemorySpanExporter]:
    """The process's tracer provider (set once: OpenTelemetry allows no other), recording into memory."""
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()  # keeps nothing from later tests


@pytest.fixture
def spans(exporter: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    exporter.clear()
    yield exporter
    exporter.clear()


def the_span(found: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    [span] = [span for span in found if span.name == name]
    return span


def children(found: tuple[ReadableSpan, ...], parent: ReadableSpan) -> list[ReadableSpan]:
    assert parent.context is not None
    return [span for span in found if span.parent is not None and span.parent.span_id == parent.context.span_id]


def every_value(span: ReadableSpan) -> list[str]:
    return [span.name, *(f"{key}={value!s}" for key, value in (span.attributes or {}).items())]


async def test_a_tool_call_is_a_span_with_a_child_per_piggy_request(
    spans: InMemorySpanExporter, piggy: respx.MockRouter
) -> None:
    piggy.get(f"/contacts/{CONTACT_A}").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=envelope(contact(CONTACT_A, EMAIL, 120)))]
    )
    async with Client(build_server(make_settings())) as client:
        assert not (await client.call_tool("get_contact", {"contact_uuid": CONTACT_A})).is_error
    found = spans.get_finished_spans()

    call = the_span(found, "tools/call get_contact")
    assert call.kind is SpanKind.SERVER
    assert call.attributes is not None
    assert call.attributes["gen_ai.tool.name"] == "get_contact"
    assert call.attributes["piggy_mcp.outcome"] == "ok"
    first, second = sorted(children(found, call), key=lambda span: span.start_time or 0)
    for attempt in (first, second):
        assert attempt.name == "GET /contacts/{uuid}"
        assert attempt.kind is SpanKind.CLIENT
        assert attempt.attributes is not None
        assert attempt.attributes["http.request.method"] == "GET"
        assert attempt.attributes["url.template"] == "/contacts/{uuid}"
        assert attempt.context is not None and call.context is not None
        assert attempt.context.trace_id == call.context.trace_id
    assert first.attributes is not None and second.attributes is not None
    assert first.attributes["http.response.status_code"] == 503
    assert first.attributes["error.type"] == "503"
    assert first.status.status_code is StatusCode.ERROR
    assert second.attributes["http.response.status_code"] == 200
    assert second.attributes["http.request.resend_count"] == 1
    assert second.status.status_code is StatusCode.UNSET
    for span in found:
        for text in every_value(span):
            assert CONTACT_A not in text and EMAIL not in text


async def test_a_piggy_error_shows_on_both_spans_without_the_arguments(
    spans: InMemorySpanExporter, piggy: respx.MockRouter
) -> None:
    piggy.get("/contacts/find-one-by").mock(return_value=piggy_error(55031, "Contact not found.", status=400))
    async with Client(build_server(make_settings())) as client:
        assert (await client.call_tool("find_contact", {"email": EMAIL})).is_error
    found = spans.get_finished_spans()

    call = the_span(found, "tools/call find_contact")
    assert call.attributes is not None
    assert call.attributes["piggy_mcp.outcome"] == "tool_error"  # find_contact says "no contact" in its own words
    [request] = children(found, call)
    assert request.attributes is not None
    assert request.name == "GET /contacts/find-one-by"
    assert (request.attributes["http.response.status_code"], request.attributes["piggy.error_code"]) == (400, 55031)
    for span in found:
        assert not any(EMAIL in text or "example.com" in text for text in every_value(span))


async def test_the_trace_a_client_sends_in_meta_is_continued(
    spans: InMemorySpanExporter, piggy: respx.MockRouter
) -> None:
    piggy.get(f"/contacts/{CONTACT_A}").respond(200, json=envelope(contact(CONTACT_A, EMAIL, 120)))
    trace_id, span_id = 0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7
    # As a 2026-07-28 client sends it: W3C trace context in the request's _meta, and no ambient span here.
    meta: Any = {"traceparent": f"00-{trace_id:032x}-{span_id:016x}-01"}
    async with Client(build_server(make_settings())) as client:
        assert not (await client.call_tool("get_contact", {"contact_uuid": CONTACT_A}, meta=meta)).is_error
    found = spans.get_finished_spans()

    call = the_span(found, "tools/call get_contact")
    assert call.parent is not None and call.context is not None
    assert call.parent.is_remote  # from the wire, not from this process's context
    assert (call.parent.trace_id, call.parent.span_id) == (trace_id, span_id)
    assert call.context.trace_id == trace_id
    [request] = children(found, call)
    assert request.context is not None
    assert request.context.trace_id == trace_id
    assert request.attributes is not None
    assert request.attributes["http.response.status_code"] == 200


async def test_a_tool_the_server_does_not_serve_is_refused(spans: InMemorySpanExporter) -> None:
    async with Client(build_server(make_settings())) as client:
        assert (await client.call_tool("no_such_tool", {"email": EMAIL})).is_error
    call = the_span(spans.get_finished_spans(), "tools/call no_such_tool")
    assert call.attributes is not None
    assert call.attributes["piggy_mcp.outcome"] == "refused"
    assert not any(EMAIL in text for text in every_value(call))


async def test_without_trace_context_a_tool_call_starts_a_trace(
    spans: InMemorySpanExporter, piggy: respx.MockRouter
) -> None:
    piggy.get(f"/contacts/{CONTACT_A}").respond(200, json=envelope(contact(CONTACT_A, EMAIL, 120)))
    async with Client(build_server(make_settings())) as client:
        assert not (await client.call_tool("get_contact", {"contact_uuid": CONTACT_A})).is_error
    call = the_span(spans.get_finished_spans(), "tools/call get_contact")
    assert call.parent is None


async def test_a_confirmation_is_on_the_span(spans: InMemorySpanExporter, piggy: respx.MockRouter) -> None:
    from tests.helpers import MERGE_ARGS, fake_merge

    routes = fake_merge(piggy)
    async with Client(build_server(make_settings()), mode="legacy") as client:
        result = await client.call_tool("merge_contacts", MERGE_ARGS)
    assert result.structured_content is not None
    assert result.structured_content["status"] == "confirmation_required"
    assert not routes.merge.called
    call = the_span(spans.get_finished_spans(), "tools/call merge_contacts")
    attributes: Any = call.attributes
    assert attributes["piggy_mcp.outcome"] == "confirmation_requested"
    assert list(attributes["piggy_mcp.confirmation"]) == ["asked"]


def run_python(code: str, **env: str) -> str:
    clean = {name: value for name, value in os.environ.items() if not name.startswith(("OTEL_", "PIGGY_"))}
    completed = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True, timeout=60, check=True
    )
    return completed.stdout.strip()


PROVIDER_AFTER_EXPORT = """
import sys
from opentelemetry import trace
from piggy_mcp.tracing import export_from_environment
export_from_environment()
print(type(trace.get_tracer_provider()).__name__, "opentelemetry.sdk" in sys.modules)
"""


def test_spans_are_exported_only_when_the_standard_variables_ask() -> None:
    assert run_python(PROVIDER_AFTER_EXPORT) == "ProxyTracerProvider False"
    assert run_python(PROVIDER_AFTER_EXPORT, OTEL_TRACES_EXPORTER="none") == "ProxyTracerProvider False"
    assert run_python(PROVIDER_AFTER_EXPORT, OTEL_TRACES_EXPORTER="console") == "TracerProvider True"
    endpoint = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}
    assert run_python(PROVIDER_AFTER_EXPORT, **endpoint) == "TracerProvider True"


def test_a_stdio_server_loads_neither_prometheus_nor_the_otel_sdk() -> None:
    code = (
        "import sys\n"
        "from piggy_mcp.config import Settings\n"
        "from piggy_mcp.server import build_server\n"
        "build_server(Settings(_env_file=None))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('prometheus_client', 'opentelemetry.sdk'))))"
    )
    assert run_python(code) == "[]"
