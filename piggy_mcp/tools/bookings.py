"""Bookings (Piggy's Bookings API, in beta)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from piggy_mcp.piggy.models import Booking
from piggy_mcp.schema import unadvertised_limits
from piggy_mcp.tools.args import DateTime, ShortText, Text, Uuid
from piggy_mcp.tools.runtime import api
from piggy_mcp.tools.toolset import IDEMPOTENT, Toolset

toolset = Toolset("bookings", "Update bookings.")


@toolset.tool(title="Update booking", annotations=IDEMPOTENT)
async def update_booking(
    booking_uuid: Annotated[Uuid, Field(description="The booking's uuid.")],
    ctx: Context[Any, Any],
    external_id: Annotated[Text | None, Field(description="Its id in your booking system.")] = None,
    source: Annotated[Text | None, Field(description="Where it came from.")] = None,
    starts_at: Annotated[DateTime | None, Field(description="Start time.")] = None,
    ends_at: Annotated[DateTime | None, Field(description="End time.")] = None,
    checked_in_at: Annotated[DateTime | None, Field(description="When the guests checked in.")] = None,
    number_of_people: Annotated[
        int | None, Field(strict=True, ge=1, description="Party size."), unadvertised_limits(le=10_000)
    ] = None,
    company_name: Annotated[Text | None, Field(description="Company it is for.")] = None,
    status: Annotated[ShortText | None, Field(description="Free text, e.g. canceled, completed.")] = None,
    prepaid_amount: Annotated[
        int | None, Field(strict=True, ge=0, description="Amount prepaid, in cents."), unadvertised_limits(le=10**9)
    ] = None,
) -> Booking:
    """Change a booking, e.g. its times when a guest reschedules or checked_in_at when they arrive. Give at
    least one field; the others stay as they are."""
    changes = {
        "external_id": external_id,
        "source": source,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "checked_in_at": checked_in_at,
        "number_of_people": number_of_people,
        "company_name": company_name,
        "status": status,
        "prepaid_amount": prepaid_amount,
    }
    if all(value is None for value in changes.values()):
        raise ToolError("Nothing to update: give at least one field to change.")
    return await api(ctx).update_booking(booking_uuid, changes)
