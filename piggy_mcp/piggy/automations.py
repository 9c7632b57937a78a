"""Automations: the account's automated flows, and starting one for a contact.

Piggy runs on request only automations whose event is `contact_updated`. Its list answer carries no uuid in the
docs, though a run needs one (decision D52): the uuid is kept when Piggy gives it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from piggy_mcp.piggy.models import Record
from piggy_mcp.piggy.paths import Endpoints, path_id

if TYPE_CHECKING:
    pass

RUNNABLE_EVENT = "contact_updated"


class Automation(Record):
    uuid: str | None = None
    name: str | None = None
    event: str | None = None
    status: str | None = None


class AutomationsAPI(Endpoints):
    """The automation endpoints, mixed into `PiggyAPI`."""

    async def list_automations(self) -> list[Automation]:
        return await self._client.get(
            "/automations", shape=lambda data: [Automation.model_validate(item) for item in data]
        )

    async def trigger_automation(
        self, contact_uuid: str, automation_uuid: str, data: Mapping[str, str] | None = None
    ) -> None:
        # `data` is documented as an optional array "used in the Automation", no more: it is sent as an object of
        # name to value, as PHP reads an associative array (decision D53).
        body: dict[str, object] = {"contact_uuid": path_id(contact_uuid), "automation_uuid": path_id(automation_uuid)}
        if data:
            body["data"] = dict(data)
        await self._client.send(
            "POST",
            "/automations/runs",
            body,
            how_to_check="A run cannot be looked up: ask the user whether its effect (an email, say) arrived "
            "before starting it again.",
            require_data=False,
        )
