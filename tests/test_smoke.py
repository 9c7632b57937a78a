"""The smallest round trip: one tool call through the official client reaches faked Piggy with the API key and
comes back as the structured result."""

import httpx
import respx
from mcp import Client

from tests.conftest import API_KEY, CONTACT_A


async def test_credit_balance_round_trip(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get(f"/contacts/{CONTACT_A}/credit-balance").respond(200, json={"data": {"balance": 49}, "meta": []})
    result = await client.call_tool("get_contact_credit_balance", {"contact_uuid": CONTACT_A})
    assert not result.is_error
    assert result.structured_content == {"contact_uuid": CONTACT_A, "balance": 49}
    request: httpx.Request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["Accept"] == "application/json"
