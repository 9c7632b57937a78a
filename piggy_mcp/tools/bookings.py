"""Bookings (Piggy's Bookings API, in beta)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from piggy_mcp.tools.args import DateTime, Uuid
from piggy_mcp.tools.base import IDEMPOTENT, Result, Toolset, api

toolset = Toolset("bookings", "Update bookings.")


class Booking(Result):
    uuid: str
    external_id: str | None = None
    source: str | None = None
    starts_at: str | None = None
    ends_at: str | None = None
    checked_in_at: str | None = None


@toolset.tool(title="Update booking", annotations=IDEMPOTENT)
async def update_booking(
    booking_uuid: Annotated[Uuid, Field(description="The booking's uuid.")],
    ctx: Context[Any, Any],
    external_id: Annotated[str | None, Field(max_length=255, description="The booking's id in your system.")] = None,
    source: Annotated[str | None, Field(max_length=255, description="Where the booking came from.")] = None,
    starts_at: DateTime | None = None,
    ends_at: DateTime | None = None,
    checked_in_at: Annotated[DateTime | None, Field(description="When the guests checked in.")] = None,
    number_of_people: Annotated[int | None, Field(ge=1, le=10_000)] = None,
    company_name: Annotated[str | None, Field(max_length=255)] = None,
    status: Annotated[
        str | None, Field(max_length=64, description="Free text, e.g. created, in progress, canceled, completed.")
    ] = None,
    prepaid_amount: Annotated[int | None, Field(ge=0, description="Amount prepaid, in cents.")] = None,
) -> Booking:
    """Change a booking's details; give at least one field. The shop and contact of a booking cannot change."""
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
    return Booking.model_validate(await api(ctx).update_booking(booking_uuid, changes))
