"""The automations toolset (tools/automations.py, opt-in): list_automations and trigger_automation.

Exact requests (shared/piggy-api.md §7.7), the automation's uuid kept when Piggy lists it (decision D52), `data` sent
as an object of name to value (decision D53), an automation that cannot run refused before anything is sent, and
Piggy's codes explained.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import respx
from mcp import Client

from piggy_mcp.server import build_server
from tests.conftest import CONTACT_A, make_settings
from tests.helpers import assert_get, assert_write, envelope, piggy_error, refused, structured, the_request

RUNNABLE = "aaaaaaaa-0000-4000-8000-000000000001"
OTHER_EVENT = "aaaaaaaa-0000-4000-8000-000000000002"
INACTIVE = "aaaaaaaa-0000-4000-8000-000000000003"
UNLISTED = "aaaaaaaa-0000-4000-8000-000000000004"


def automation(uuid: str | None, event: str, status: str = "active") -> dict[str, Any]:
    listed = {"event": event, "name": "Fake flow", "status": status, "created_at": "2026-01-01T00:00:00+00:00"}
    return {**listed, "updated_at": listed["created_at"], **({"uuid": uuid} if uuid else {})}


AUTOMATIONS = [
    automation(RUNNABLE, "contact_updated"),
    automation(OTHER_EVENT, "credit_reception_created"),
    automation(INACTIVE, "contact_updated", "inactive"),
]


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    async with Client(build_server(make_settings(toolsets=["all"]))) as connected:
        yield connected


async def test_list_automations(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get("/automations").respond(200, json=envelope([AUTOMATIONS[0], automation(None, "contact_updated")]))

    result = await client.call_tool("list_automations", {})

    assert_get(the_request(route), "/automations")
    flow = {"name": "Fake flow", "event": "contact_updated", "status": "active"}
    assert structured(result) == {"automations": [{"uuid": RUNNABLE, **flow}, flow]}


@pytest.mark.parametrize(
    ("data", "sent"),
    [(None, {}), ([{"name": "coupon", "value": "FAKE-10"}], {"data": {"coupon": "FAKE-10"}})],
    ids=["no-data", "data"],
)
async def test_trigger_a_contact_updated_automation(
    client: Client, piggy: respx.MockRouter, data: list[dict[str, str]] | None, sent: dict[str, Any]
) -> None:
    piggy.get("/automations").respond(200, json=envelope(AUTOMATIONS))
    run = piggy.post("/automations/runs").respond(200, json=envelope([]))
    arguments: dict[str, Any] = {"contact_uuid": CONTACT_A, "automation_uuid": RUNNABLE}

    result = await client.call_tool("trigger_automation", {**arguments, **({"data": data} if data else {})})

    assert_write(the_request(run), "POST", "/automations/runs", {**arguments, **sent})
    assert "background" in structured(result)["message"]


@pytest.mark.parametrize("uuid", [OTHER_EVENT, INACTIVE])
async def test_an_automation_that_cannot_run_is_refused_before_sending(
    client: Client, piggy: respx.MockRouter, uuid: str
) -> None:
    piggy.get("/automations").respond(200, json=envelope(AUTOMATIONS))
    run = piggy.post("/automations/runs").respond(200, json=envelope([]))

    result = await client.call_tool("trigger_automation", {"contact_uuid": CONTACT_A, "automation_uuid": uuid})

    refused(result, "contact_updated", "Nothing was sent")
    assert not run.called


async def test_an_unlisted_automation_is_left_to_piggy(client: Client, piggy: respx.MockRouter) -> None:
    piggy.get("/automations").respond(200, json=envelope([automation(None, "contact_updated")]))
    piggy.post("/automations/runs").mock(return_value=piggy_error(60013, "Model not found"))

    result = await client.call_tool("trigger_automation", {"contact_uuid": CONTACT_A, "automation_uuid": UNLISTED})

    refused(result, "60013", "list_automations")


async def test_an_unknown_contact_is_explained(client: Client, piggy: respx.MockRouter) -> None:
    piggy.get("/automations").respond(200, json=envelope(AUTOMATIONS))
    piggy.post("/automations/runs").mock(return_value=piggy_error(55031, "Contact not found"))

    result = await client.call_tool("trigger_automation", {"contact_uuid": CONTACT_A, "automation_uuid": RUNNABLE})

    refused(result, "55031", "Check the contact uuid")


@pytest.mark.parametrize(
    "data",
    [[{"name": "a", "value": "1"}, {"name": "a", "value": "2"}], [{"name": "bad name", "value": "1"}], {"a": "1"}],
    ids=["twice", "bad-name", "a-map"],
)
async def test_bad_data_is_refused_with_nothing_sent(client: Client, piggy: respx.MockRouter, data: Any) -> None:
    result = await client.call_tool(
        "trigger_automation", {"contact_uuid": CONTACT_A, "automation_uuid": RUNNABLE, "data": data}
    )

    refused(result, "data")
    assert not piggy.calls
