"""The loyalty program and its tiers: what the shop calls its credits, and the levels members reach.

The program's name for credits (`custom_credit_name`, "beans" in a coffee shop) is read once per process and kept:
previews and results name credits as the members know them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from piggy_mcp.piggy.models import Record
from piggy_mcp.piggy.paths import Endpoints, path_id

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

DEFAULT_CREDIT_NAME = "credits"
# The merchant wrote the name, and previews show it: only a plain word or two is used (decision D55).
_PLAIN_NAME = re.compile(r"[A-Za-z][A-Za-z -]{0,23}")


class Tier(Record):
    uuid: str | None = None
    name: str
    description: str | None = None
    position: int | None = None


class LoyaltyProgram(Record):
    name: str | None = None
    credit_name: str | None = None
    max_amount: int | None = None
    unit_label: str | None = None

    @classmethod
    def from_piggy(cls, raw: Mapping[str, Any]) -> LoyaltyProgram:
        unit = raw.get("unit")
        return cls.model_validate(
            {
                **raw,
                "credit_name": raw.get("custom_credit_name"),
                "unit_label": (unit.get("label") or unit.get("name")) if isinstance(unit, Mapping) else None,
            }
        )


def usable_credit_name(name: str | None) -> str:
    """`name` as previews may show it, else "credits" (decision D55)."""
    if name and _PLAIN_NAME.fullmatch(name.strip()) and len(name.split()) <= 3:
        return name.strip().lower()
    return DEFAULT_CREDIT_NAME


def _tier_or_none(data: Any) -> Tier | None:
    # A contact without a tier: Piggy answers with an empty object or list, or null (decision D56).
    return Tier.model_validate(data) if isinstance(data, Mapping) and data.get("name") else None


class ProgramAPI(Endpoints):
    """The loyalty-program and tier endpoints, mixed into `PiggyAPI`."""

    _credit_name: str | None = None  # set on the instance once read

    async def get_loyalty_program(self) -> LoyaltyProgram:
        program = await self._client.get("/loyalty-program", shape=LoyaltyProgram.from_piggy)
        self._credit_name = usable_credit_name(program.credit_name)
        return program

    async def credit_name(self) -> str:
        """What the program calls its credits, read once per process; "credits" while it cannot be read.

        A failure is not kept, so a later call reads it again, and never fails the call it serves.
        """
        if self._credit_name is None:
            try:
                await self.get_loyalty_program()
            except Exception as exc:  # any failure: a preview must not fail for the sake of a word
                log.info("could not read the loyalty program's credit name: %s", type(exc).__name__)
                return DEFAULT_CREDIT_NAME
        return self._credit_name or DEFAULT_CREDIT_NAME

    async def list_tiers(self) -> list[Tier]:
        return await self._client.get("/tiers", shape=lambda data: [Tier.model_validate(t) for t in data])

    async def get_contact_tier(self, contact_uuid: str) -> Tier | None:
        return await self._client.get(f"/contacts/{path_id(contact_uuid)}/tier", shape=_tier_or_none)
