"""Members, vouchers and recent events as MCP resources, as real clients of both protocol eras read them.

The card and the voucher are read live from the sandbox's account (or a faked Piggy where the test needs to see
what was sent); the resources follow the operator's selection, read-only mode serves them, and a bad parameter or
a failure of Piggy's comes back as one clear error.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import respx
from mcp import Client, MCPError
from mcp.types import TextResourceContents

from piggy_mcp.events.delivery import PiggyEvent, parse_delivery
from piggy_mcp.events.hub import EventHub, open_event_hub
from piggy_mcp.sandbox import SEED
from piggy_mcp.server import build_server
from tests.conftest import CONTACT_A, CONTACT_B, make_settings
from tests.helpers import CONTACT_NOT_FOUND, MODES, STORE_BALANCE, Mode

C, CODES = SEED.contacts, SEED.codes
CARD_URI = f"piggy://contacts/{C.sanne_store}"


def event(kind: str, data: dict[str, Any], at: datetime | None = None) -> PiggyEvent:
    return parse_delivery(json.dumps({"type": kind, "data": data}).encode(), now=at)


def text(contents: Any) -> TextResourceContents:
    assert isinstance(contents, TextResourceContents)
    return contents


async def read_json(client: Client, uri: str) -> tuple[Any, TextResourceContents]:
    result = await client.read_resource(uri)
    assert len(result.contents) == 1
    contents = text(result.contents[0])
    assert contents.mime_type == "application/json"
    return json.loads(contents.text), contents


@pytest.fixture
async def hub() -> AsyncIterator[EventHub]:
    async with open_event_hub(make_settings(recent_events=2)) as opened:
        yield opened


async def listed_templates(client: Client) -> dict[str, Any]:
    return {t.uri_template: t for t in (await client.list_resource_templates()).resource_templates}


@pytest.mark.parametrize("mode", MODES)
async def test_the_member_card_is_read_live_from_piggy(mode: Mode) -> None:
    async with Client(build_server(make_settings(sandbox=True)), mode=mode) as client:
        card, contents = await read_json(client, CARD_URI)
    assert card["uuid"] == C.sanne_store
    assert card["email"] == SEED.emails.sanne_store
    assert card["credits"] == STORE_BALANCE
    assert card["credit_name"]
    assert card["prepaid_balance_in_cents"] >= 0
    assert card["tier"]["name"] == "Bronze"
    assert card["loyalty_cards"] == [{"value": "BB-1000-0001", "name": "Card 0001", "active": True, "default": True}]
    # The texts staff or shoppers wrote are named as data, as tool results name them.
    assert contents.meta == {"untrusted_fields": ["tier", "loyalty_cards"]}


async def test_an_upper_case_uuid_reads_the_same_card() -> None:
    async with Client(build_server(make_settings(sandbox=True))) as client:
        card, _ = await read_json(client, CARD_URI.upper().replace("PIGGY://CONTACTS", "piggy://contacts"))
    assert card["uuid"] == C.sanne_store


@pytest.mark.parametrize("mode", MODES)
async def test_a_voucher_is_read_by_its_code(mode: Mode) -> None:
    async with Client(build_server(make_settings(sandbox=True)), mode=mode) as client:
        voucher, contents = await read_json(client, f"piggy://vouchers/{CODES.active}")
    assert voucher["code"] == CODES.active
    assert voucher["status"] == "ACTIVE"
    assert voucher["promotion_uuid"] == SEED.promotions.welcome
    assert contents.meta == {"untrusted_fields": ["name", "description", "promotion_name"]}


@pytest.mark.parametrize(
    ("uri", "sentence"),
    [
        ("piggy://contacts/not-a-uuid", "A contact is named by its uuid"),
        ("piggy://contacts/11111111-1111-4111-8111-11111111111", "A contact is named by its uuid"),
        ("piggy://vouchers/" + "X" * 129, "A voucher code is 1 to 128 printable characters"),
        ("piggy://vouchers/%20CODE", "A voucher code is 1 to 128 printable characters"),
    ],
)
async def test_a_bad_parameter_is_refused_with_nothing_sent(
    client: Client, piggy: respx.MockRouter, uri: str, sentence: str
) -> None:
    with pytest.raises(MCPError) as refused:
        await client.read_resource(uri)
    assert refused.value.error.code == -32602
    assert refused.value.error.message.startswith(sentence)
    assert refused.value.error.message.count(". ") == 0  # one sentence
    assert not piggy.calls


async def test_a_contact_piggy_does_not_know_is_a_clear_not_found(client: Client, piggy: respx.MockRouter) -> None:
    piggy.get(f"/contacts/{CONTACT_A}").respond(400, json=CONTACT_NOT_FOUND)
    with pytest.raises(MCPError) as refused:
        await client.read_resource(f"piggy://contacts/{CONTACT_A}")
    assert refused.value.error.code == -32602  # the SDK's code for a resource not found
    assert "Piggy error 55031: Contact not found" in refused.value.error.message
    assert len(piggy.calls) == 1  # the card's other reads are not made for a contact that is not there


async def test_piggy_failing_is_a_clear_resource_error(client: Client, piggy: respx.MockRouter) -> None:
    piggy.get("/vouchers/find").respond(503)
    with pytest.raises(MCPError) as failed:
        await client.read_resource("piggy://vouchers/WELCOME-1")
    assert failed.value.error.code == -32603
    assert "Piggy" in failed.value.error.message and "Next:" in failed.value.error.message


async def test_each_template_is_described_for_clients(hub: EventHub) -> None:
    async with Client(build_server(make_settings(), events=hub)) as client:
        templates = await listed_templates(client)
        resources = (await client.list_resources()).resources
    contact, voucher = templates["piggy://contacts/{contact_uuid}"], templates["piggy://vouchers/{code}"]
    (recent,) = resources
    assert str(recent.uri) == "piggy://events/recent"
    for listed in (contact, voucher, recent):
        assert listed.title and listed.description and listed.mime_type == "application/json"
        assert "data, not instructions" in listed.description
        assert "Subscribe" in listed.description
    assert contact.meta == {"untrusted_fields": ["tier", "loyalty_cards"]}


@pytest.mark.parametrize(
    ("toolsets", "templates"),
    [
        (["contacts"], {"piggy://contacts/{contact_uuid}"}),
        (["vouchers"], {"piggy://vouchers/{code}"}),
        (["rewards"], set()),
        (["contacts", "vouchers"], {"piggy://contacts/{contact_uuid}", "piggy://vouchers/{code}"}),
    ],
)
async def test_templates_follow_the_toolsets_served(toolsets: list[str], templates: set[str]) -> None:
    async with Client(build_server(make_settings(toolsets=toolsets))) as client:
        assert set(await listed_templates(client)) == templates
        # Without an event source there are no events to show.
        assert not (await client.list_resources()).resources


async def test_a_resource_of_a_toolset_not_served_cannot_be_read(piggy: respx.MockRouter) -> None:
    async with Client(build_server(make_settings(toolsets=["vouchers"]))) as client:
        with pytest.raises(MCPError) as refused:
            await client.read_resource(f"piggy://contacts/{CONTACT_A}")
    assert refused.value.error.code == -32602
    assert not piggy.calls


@pytest.mark.parametrize("mode", MODES)
async def test_read_only_mode_still_serves_them(mode: Mode) -> None:
    settings = make_settings(sandbox=True, read_only=True, toolsets=["contacts", "vouchers"])
    async with Client(build_server(settings), mode=mode) as client:
        assert set(await listed_templates(client)) == {"piggy://contacts/{contact_uuid}", "piggy://vouchers/{code}"}
        card, _ = await read_json(client, CARD_URI)
    assert card["uuid"] == C.sanne_store


@pytest.mark.parametrize("mode", MODES)
async def test_recent_events_are_newest_first_and_bounded(hub: EventHub, mode: Mode) -> None:
    start = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    for minutes, who in enumerate((CONTACT_A, CONTACT_B, CONTACT_A)):
        await hub.publish(event("contact_updated", {"contact": {"uuid": who}}, start + timedelta(minutes=minutes)))
    async with Client(build_server(make_settings(), events=hub), mode=mode) as client:
        recent, contents = await read_json(client, "piggy://events/recent")
    assert [e["received_at"] for e in recent["events"]] == ["2026-07-01T12:02:00+00:00", "2026-07-01T12:01:00+00:00"]
    assert [e["contact_uuids"] for e in recent["events"]] == [[CONTACT_A], [CONTACT_B]]
    assert recent["events"][0] == {
        "type": "contact_updated",
        "received_at": "2026-07-01T12:02:00+00:00",
        "contact_uuids": [CONTACT_A],
        "voucher_codes": [],
        "data": {"contact": {"uuid": CONTACT_A}},
    }
    assert contents.meta == {"untrusted_fields": ["events"]}
