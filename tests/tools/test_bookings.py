"""The bookings tool (tools/bookings.py): update_booking puts exactly the fields given (§3.13) and shapes the
documented answer; no field, or a booking that is not a uuid, is refused before anything reaches Piggy."""

from __future__ import annotations

from typing import Any

import respx
from mcp import Client

from tests.conftest import BOOKING, CONTACT_A
from tests.helpers import anything, assert_write, envelope, refused, the_request


def booking_data(**changes: Any) -> dict[str, Any]:
    return {
        "uuid": BOOKING,
        "contact": {"uuid": CONTACT_A, "email": "jane.doe@example.com"},
        "external_id": "FAKE-BOOKING-1",
        "source": "fake-test",
        "starts_at": "2026-03-01T18:00:00+00:00",
        "ends_at": "2026-03-01T20:00:00+00:00",
        "checked_in_at": None,
        "created_at": "2026-01-02T10:00:00+00:00",
        **changes,
    }


async def test_update_booking_puts_every_field(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.put(f"/bookings/{BOOKING}").respond(
        200,
        json=envelope(
            booking_data(
                external_id="FAKE-BOOKING-2",
                source="fake-pos",
                starts_at="2026-03-02T18:00:00+00:00",
                ends_at="2026-03-02T21:00:00+00:00",
                checked_in_at="2026-03-02T18:05:00+00:00",
            )
        ),
    )
    changes = {
        "external_id": "FAKE-BOOKING-2",
        "source": "fake-pos",
        "starts_at": "2026-03-02T18:00:00Z",
        "ends_at": "2026-03-02T21:00:00Z",
        "checked_in_at": "2026-03-02T18:05:00Z",
        "number_of_people": 4,
        "company_name": "Fake Company B.V.",
        "status": "in progress",
        "prepaid_amount": 2500,
    }

    result = await client.call_tool("update_booking", {"booking_uuid": BOOKING, **changes})

    assert result.is_error is False
    assert_write(the_request(route), "PUT", f"/bookings/{BOOKING}", changes)
    assert result.structured_content == {
        "uuid": BOOKING,
        "starts_at": "2026-03-02T18:00:00+00:00",
        "ends_at": "2026-03-02T21:00:00+00:00",
        "checked_in_at": "2026-03-02T18:05:00+00:00",
    }


async def test_update_booking_puts_only_the_given_field(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.put(f"/bookings/{BOOKING}").respond(200, json=envelope(booking_data()))

    result = await client.call_tool("update_booking", {"booking_uuid": BOOKING, "status": "canceled"})

    assert result.is_error is False
    assert_write(the_request(route), "PUT", f"/bookings/{BOOKING}", {"status": "canceled"})
    assert result.structured_content == {
        "uuid": BOOKING,
        "starts_at": "2026-03-01T18:00:00+00:00",
        "ends_at": "2026-03-01T20:00:00+00:00",
    }


async def test_update_booking_refuses_no_field(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)

    result = await client.call_tool("update_booking", {"booking_uuid": BOOKING})

    refused(result, "Nothing to update", "at least one field")
    assert catch.called is False


async def test_update_booking_refuses_a_non_uuid(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)

    result = await client.call_tool("update_booking", {"booking_uuid": "booking-1", "status": "canceled"})

    refused(result, "booking_uuid", "must be a uuid")
    assert catch.called is False
