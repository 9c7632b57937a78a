"""The loyalty program and its tiers in the sandbox: the program (its name for credits), the tiers, a contact's tier.

The program is the store's `program` (a copy of `seed.LOYALTY_PROGRAM`): a test gives credits another name by
setting its `custom_credit_name`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from piggy_mcp.sandbox import shapes
from piggy_mcp.sandbox.errors import ApiError

if TYPE_CHECKING:
    from piggy_mcp.sandbox.routes import Call, Handler, Result


def loyalty_program(call: Call) -> Result:
    s = call.store
    unit = next((u for u in s.units if u.is_default), None)
    unit_json: dict[str, Any] | None = (
        {"name": unit.name, "label": unit.label, "prefix": unit.prefix} if unit is not None else None
    )
    return {**s.program, "unit": unit_json}, []


def list_tiers(call: Call) -> Result:
    return [shapes.tier(t) for t in sorted(call.store.tiers, key=lambda t: t.position)], []


def contact_tier(call: Call) -> Result:
    s = call.store
    try:
        contact = s.contact(str(call.path_params["uuid"]).lower())
    except ApiError:
        raise ApiError(55031) from None
    # No tier yet: an empty answer (decision D56).
    return shapes.tier(s.tier_of(contact)) or [], []


ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/loyalty-program", loyalty_program),
    ("GET", "/tiers", list_tiers),
    ("GET", "/contacts/{uuid}/tier", contact_tier),
]
