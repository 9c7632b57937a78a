"""Automations: the account's automated flows, and starting one for a contact."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from piggy_mcp.piggy.automations import RUNNABLE_EVENT, Automation
from piggy_mcp.schema import unadvertised_limits
from piggy_mcp.tools.args import AttributeName, ContactUuid, NamedOnce, Text, Uuid
from piggy_mcp.tools.results import Result
from piggy_mcp.tools.runtime import api
from piggy_mcp.tools.toolset import READ, WRITE, Toolset

toolset = Toolset("automations", "List automations and start one for a contact.", default=False)


class Automations(Result):
    automations: list[Automation]


@toolset.tool(title="List automations", annotations=READ, untrusted=("automations",))
async def list_automations(ctx: Context[Any, Any]) -> Automations:
    """List the account's automations (automated emails and flows) with their event and status; only active
    ones with event contact_updated can be started."""
    return Automations(automations=await api(ctx).list_automations())


class DataValue(BaseModel):
    name: AttributeName
    value: Text


class AutomationRun(Result):
    message: str


@toolset.tool(title="Start automation", annotations=WRITE)
async def trigger_automation(
    contact_uuid: ContactUuid,
    automation_uuid: Annotated[Uuid, Field(description="From list_automations.")],
    ctx: Context[Any, Any],
    data: Annotated[
        Annotated[list[DataValue], NamedOnce] | None,
        Field(description="Values the automation uses."),
        unadvertised_limits(max_length=50),
    ] = None,
) -> AutomationRun:
    """Start an automation (event contact_updated only) for a contact, e.g. to send its email now. Piggy runs it
    in the background. Not idempotent: each call runs it again."""
    piggy = api(ctx)
    wanted = automation_uuid.lower()
    listed = next((a for a in await piggy.list_automations() if (a.uuid or "").lower() == wanted), None)
    # Piggy's list may not carry uuids (decision D52): an automation it does not show is left for Piggy to judge.
    if listed is not None and (listed.event != RUNNABLE_EVENT or listed.status == "inactive"):
        raise ToolError(
            f"Automation {automation_uuid} has event {listed.event} and status {listed.status}: only active "
            f"automations with event {RUNNABLE_EVENT} can be started. Nothing was sent."
        )
    await piggy.trigger_automation(contact_uuid, automation_uuid, {entry.name: entry.value for entry in data or []})
    return AutomationRun(message="Piggy accepted the run; the automation proceeds in the background.")
