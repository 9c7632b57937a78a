"""/metrics over HTTP, scraped from real server processes (the sandbox): what the counts say after a few tool
calls, who may scrape, and that no email, uuid or other argument value ever shows up in a label."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from prometheus_client.parser import text_string_to_metric_families

from piggy_mcp.piggy.observe import endpoint_template
from piggy_mcp.sandbox import SEED
from tests.helpers import Mode
from tests.servers import HttpServer, http_server

TOKEN = "metrics-test-token-3f9a"
EMAIL = SEED.emails.sanne_store
CONTACT = SEED.contacts.sanne_store
OTHER = SEED.contacts.sanne_online
NOT_A_UUID = "not-a-uuid-7731"
NOBODY = "nobody.here@example.com"
UNKNOWN = "99999999-9999-4999-8999-999999999999"


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/contacts/find-one-by", "/contacts/find-one-by"),
        (f"/contacts/{CONTACT}/credit-balance", "/contacts/{uuid}/credit-balance"),
        (f"/contacts/{CONTACT.upper()}", "/contacts/{uuid}"),
        (f"/vouchers/{EMAIL}", "/vouchers/{id}"),
        ("/vouchers/SUMMER2026?code=x", "/vouchers/{id}"),
        ("/orders/12345/lines", "/orders/{id}/lines"),
    ],
)
def test_endpoints_are_templates_without_values(path: str, template: str) -> None:
    assert endpoint_template(path) == template


def start(tmp_path_factory: pytest.TempPathFactory, name: str, **env: str) -> Iterator[HttpServer]:
    workdir = tmp_path_factory.mktemp(name)
    base = {"PATH": os.environ["PATH"], "PIGGY_MCP_STATE_DIR": str(workdir / "state")}
    with http_server({**base, **env}, workdir, "--sandbox") as server:
        yield server


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    """Bearer tokens configured: /metrics asks for one, like /mcp."""
    yield from start(tmp_path_factory, "metrics-guarded", PIGGY_MCP_AUTH_TOKENS=TOKEN)


@pytest.fixture(scope="module")
def opened(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    yield from start(tmp_path_factory, "metrics-open", PIGGY_MCP_AUTH_TOKENS=TOKEN, PIGGY_MCP_METRICS_OPEN="true")


@asynccontextmanager
async def connect_http(server: HttpServer, mode: Mode) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0, read=60.0), trust_env=False) as http,
        Client(streamable_http_client(server.mcp_url, http_client=http), mode=mode) as client,
    ):
        yield client


def scrape(server: HttpServer, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    with httpx.Client(trust_env=False, timeout=10.0) as http:
        return http.get(server.base + "/metrics", headers=headers)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of our own metrics, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        if family.name.startswith("piggy_mcp_")
        for sample in family.samples
    }


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset({"tenant": "default", **labels}.items())), 0.0)


async def test_tool_calls_confirmations_and_piggy_requests_are_counted(guarded: HttpServer) -> None:
    async with connect_http(guarded, "legacy") as client:  # no elicitation: confirmations go through tokens
        assert not (await client.call_tool("find_contact", {"email": EMAIL})).is_error
        assert not (await client.call_tool("get_contact", {"contact_uuid": CONTACT})).is_error
        assert (await client.call_tool("get_contact", {"contact_uuid": NOT_A_UUID})).is_error
        assert (await client.call_tool("find_contact", {"email": NOBODY})).is_error  # the tool's own words
        assert (await client.call_tool("get_contact", {"contact_uuid": UNKNOWN})).is_error  # Piggy's 404
        merge = {"source_contact_uuid": OTHER, "destination_contact_uuid": CONTACT}
        asked = await client.call_tool("merge_contacts", merge)
        assert asked.structured_content is not None
        assert asked.structured_content["status"] == "confirmation_required"
        forged = await client.call_tool("merge_contacts", {**merge, "confirmation_token": "c1.4000000000.x"})
        assert forged.is_error
        assert (await client.call_tool("no_such_tool", {})).is_error

    answer = scrape(guarded)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = samples(answer.text)
    calls = "piggy_mcp_tool_calls_total"
    assert value(found, calls, tool="find_contact", outcome="ok") == 1
    assert value(found, calls, tool="find_contact", outcome="tool_error") == 1
    assert value(found, calls, tool="get_contact", outcome="ok") == 1
    assert value(found, calls, tool="get_contact", outcome="tool_error") == 1
    assert value(found, calls, tool="get_contact", outcome="piggy_error") == 1
    assert value(found, calls, tool="merge_contacts", outcome="confirmation_requested") == 1
    assert value(found, calls, tool="merge_contacts", outcome="tool_error") == 1
    assert value(found, calls, tool="unknown", outcome="refused") == 1
    assert value(found, "piggy_mcp_tool_call_duration_seconds_count", tool="get_contact") == 3

    confirmations = "piggy_mcp_confirmations_total"
    assert value(found, confirmations, tool="merge_contacts", stage="asked") == 1
    assert value(found, confirmations, tool="merge_contacts", stage="refused") == 1
    assert value(found, confirmations, tool="merge_contacts", stage="confirmed") == 0

    requests = "piggy_mcp_piggy_requests_total"
    found_one = {"method": "GET", "endpoint": "/contacts/find-one-by"}
    assert value(found, requests, **found_one, status="200", piggy_code="none") == 1
    # Piggy says "not found" with a 400 and its code
    assert value(found, requests, **found_one, status="400", piggy_code="55031") == 1
    # get_contact once, then both contacts for the merge's preview
    by_uuid = {"method": "GET", "endpoint": "/contacts/{uuid}"}
    assert value(found, requests, **by_uuid, status="200", piggy_code="none") == 3
    assert value(found, requests, **by_uuid, status="400", piggy_code="55031") == 1
    assert value(found, "piggy_mcp_piggy_request_duration_seconds_count", **by_uuid) == 4
    assert value(found, "piggy_mcp_piggy_slots_in_use") == 0
    assert ("piggy_mcp_piggy_retries_total", frozenset()) not in found  # none happened: no series yet


async def test_no_email_uuid_or_argument_value_is_ever_in_the_metrics(guarded: HttpServer) -> None:
    async with connect_http(guarded, "auto") as client:
        await client.call_tool("find_contact", {"email": EMAIL})
        await client.call_tool("find_contact", {"email": NOBODY})
        await client.call_tool("get_contact", {"contact_uuid": CONTACT})
        await client.call_tool("get_contact", {"contact_uuid": NOT_A_UUID})
        await client.call_tool("get_contact", {"contact_uuid": UNKNOWN})
        await client.call_tool("update_contact", {"contact_uuid": CONTACT, "attributes": {"firstname": "Zwaantje"}})
        await client.call_tool(f"no_such_tool_{EMAIL}", {"email": EMAIL})
    text = scrape(guarded).text
    assert "piggy_mcp_tool_calls_total" in text
    for secret in (
        EMAIL,
        NOBODY,
        "example.com",
        CONTACT,
        CONTACT.upper(),
        UNKNOWN,
        NOT_A_UUID,
        "Zwaantje",
        TOKEN,
        "sandbox",
    ):
        assert secret not in text
    assert 'tool="unknown"' in text


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_metrics_need_a_token_when_tokens_are_configured(guarded: HttpServer, token: str | None) -> None:
    refused = scrape(guarded, token)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert "piggy_mcp" not in refused.text


def test_metrics_open_lets_anyone_scrape_but_mcp_still_needs_a_token(opened: HttpServer) -> None:
    answer = scrape(opened, None)
    assert answer.status_code == 200
    assert "# TYPE piggy_mcp_tool_calls_total counter" in answer.text
    with httpx.Client(trust_env=False, timeout=10.0) as http:
        assert http.post(opened.mcp_url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}).status_code == 401


def test_without_tokens_on_loopback_metrics_are_open_like_mcp(tmp_path_factory: pytest.TempPathFactory) -> None:
    for server in start(tmp_path_factory, "metrics-loopback"):
        answer = scrape(server, None)
        assert answer.status_code == 200
        assert "piggy_mcp_piggy_slots_in_use" in answer.text
