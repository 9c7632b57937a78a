"""The webhooks toolset (tools/webhooks.py, opt-in): list_webhook_subscriptions.

The exact request (shared/piggy-api.md §7.8), its filters, a result that never carries a secret even if Piggy echoes
one, bad filters refused with nothing sent, and Piggy's errors explained.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import respx
from mcp import Client

from piggy_mcp.server import build_server
from tests.conftest import make_settings
from tests.helpers import assert_get, envelope, piggy_error, refused, structured, text_of, the_request
from tests.piggy.test_webhooks import SECRET, SHAPED, subscription


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    async with Client(build_server(make_settings(toolsets=["webhooks"]))) as connected:
        yield connected


async def test_list_webhook_subscriptions(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get("/webhook-subscriptions").respond(200, json=envelope([subscription()]))

    result = await client.call_tool("list_webhook_subscriptions", {})

    assert_get(the_request(route), "/webhook-subscriptions")
    assert structured(result) == {"subscriptions": [SHAPED]}
    assert SECRET not in text_of(result) and SECRET not in str(result.structured_content)


async def test_filters_are_sent(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get("/webhook-subscriptions").respond(200, json=envelope([]))

    result = await client.call_tool(
        "list_webhook_subscriptions", {"event_type": "contact_updated", "status": "INACTIVE"}
    )

    assert_get(
        the_request(route), "/webhook-subscriptions", [("event_type", "contact_updated"), ("status", "INACTIVE")]
    )
    assert structured(result) == {"subscriptions": []}


@pytest.mark.parametrize(
    "arguments", [{"event_type": "order_created"}, {"status": "active"}], ids=["event-type", "status"]
)
async def test_bad_filters_are_refused_with_nothing_sent(
    client: Client, piggy: respx.MockRouter, arguments: dict[str, str]
) -> None:
    result = await client.call_tool("list_webhook_subscriptions", arguments)

    refused(result, next(iter(arguments)))
    assert not piggy.calls


async def test_piggys_refusal_is_explained(client: Client, piggy: respx.MockRouter) -> None:
    piggy.get("/webhook-subscriptions").mock(return_value=piggy_error(7011, "No access"))

    result = await client.call_tool("list_webhook_subscriptions", {})

    refused(result, "7011", "PIGGY_API_KEY")
