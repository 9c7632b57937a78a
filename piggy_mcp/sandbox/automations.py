"""Automations in the sandbox: three seeded flows, of which only the active contact_updated one can be run.

A run is recorded (`Store.automation_runs`), not executed. What Piggy answers for a run of an automation with
another event, or an inactive one, is not documented: the sandbox refuses it as invalid input (decision D58).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from piggy_mcp.sandbox.errors import ApiError, invalid
from piggy_mcp.sandbox.inputs import Fields
from piggy_mcp.sandbox.seed import EPOCH, sandbox_uuid

if TYPE_CHECKING:
    from piggy_mcp.sandbox.routes import Call, Handler, Result

RUNNABLE_EVENT = "contact_updated"


@dataclass
class Automation:
    uuid: str
    name: str
    event: str
    status: str  # active or inactive
    created_at: datetime = EPOCH


@dataclass
class Run:
    automation_uuid: str
    contact_uuid: str
    data: Any
    at: datetime


@dataclass(frozen=True)
class _Automations:
    birthday: str = sandbox_uuid("automation:birthday")  # contact_updated, active: runnable
    thanks: str = sandbox_uuid("automation:thanks")  # credit_reception_created: not runnable
    win_back: str = sandbox_uuid("automation:win_back")  # contact_updated, inactive


AUTOMATIONS = _Automations()


@dataclass
class AutomationBook:
    automations: dict[str, Automation] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)


def seed_automations() -> AutomationBook:
    a = AUTOMATIONS
    flows = [
        Automation(a.birthday, "Birthday treat email", RUNNABLE_EVENT, "active"),
        Automation(a.thanks, "Thanks for your visit", "credit_reception_created", "active"),
        Automation(a.win_back, "We miss you", RUNNABLE_EVENT, "inactive"),
    ]
    return AutomationBook({flow.uuid: flow for flow in flows})


def _json(a: Automation) -> dict[str, Any]:
    when = a.created_at.isoformat(timespec="seconds")
    # The uuid is not in Piggy's documented example, which leaves runs without a way to name one (decision D52).
    return {
        "uuid": a.uuid,
        "event": a.event,
        "name": a.name,
        "status": a.status,
        "created_at": when,
        "updated_at": when,
    }


def list_automations(call: Call) -> Result:
    return [_json(a) for a in call.store.automations.automations.values()], []


def run_automation(call: Call) -> Result:
    f = Fields(call.body)
    contact_uuid = f.uuid("contact_uuid", required=True)
    automation_uuid = f.uuid("automation_uuid", required=True)
    data = call.body.get("data")
    if data is not None and not isinstance(data, list | Mapping):
        f.fail("data", "The data must be an array.")
    f.check()
    assert contact_uuid is not None and automation_uuid is not None
    s = call.store
    s.contact(contact_uuid)
    automation = s.automations.automations.get(automation_uuid)
    if automation is None:
        raise ApiError(60013)
    if automation.event != RUNNABLE_EVENT or automation.status != "active":
        raise invalid("automation_uuid", "Only an active automation with the contact_updated event can be run.")
    s.automations.runs.append(Run(automation.uuid, contact_uuid, data, s.now()))
    return [], []


ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/automations", list_automations),
    ("POST", "/automations/runs", run_automation),
]
