"""Contact identifiers: loyalty cards (or any unique value) that stand for a contact at the till.

Piggy documents the find and list answers only; what create, link and unlink answer is not documented, so their
answers are shaped without ever failing after Piggy accepted the write (decision D51).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from piggy_mcp.piggy.models import Record
from piggy_mcp.piggy.paths import Endpoints, compact, optional_path_id, path_id

if TYPE_CHECKING:
    pass


# A card as Piggy holds it; `contact_uuid` is absent when no contact holds it.
class ContactIdentifier(Record):
    value: str
    name: str | None = None
    active: bool | None = None
    default: bool | None = None
    contact_uuid: str | None = None

    @classmethod
    def from_piggy(cls, raw: Mapping[str, Any]) -> ContactIdentifier:
        contact = raw.get("contact")
        return cls.model_validate(
            {**raw, "contact_uuid": contact.get("uuid") if isinstance(contact, Mapping) else None}
        )

    @classmethod
    def after_write(cls, data: Any, value: str, contact_uuid: str | None) -> ContactIdentifier:
        """The answer to a write Piggy accepted (decision D51): the card it gave back, else what was sent."""
        if isinstance(data, Mapping) and isinstance(data.get("value"), str):
            try:
                return cls.from_piggy(data)
            except ValueError:
                pass
        return cls(value=value, contact_uuid=contact_uuid)


class IdentifiersAPI(Endpoints):
    """The contact-identifier endpoints, mixed into `PiggyAPI`."""

    async def find_contact_identifier(self, value: str) -> ContactIdentifier:
        return await self._client.get(
            "/contact-identifiers/find", {"contact_identifier_value": value}, shape=ContactIdentifier.from_piggy
        )

    async def list_contact_identifiers(self, contact_uuid: str) -> list[ContactIdentifier]:
        return await self._client.get(
            f"/contacts/{path_id(contact_uuid)}/contact-identifiers",
            shape=lambda data: [ContactIdentifier.from_piggy(item) for item in data],
        )

    async def create_contact_identifier(
        self, value: str, contact_uuid: str | None = None, name: str | None = None
    ) -> ContactIdentifier:
        contact = optional_path_id(contact_uuid)
        return await self._client.send(
            "POST",
            "/contact-identifiers",
            compact({"contact_identifier_value": value, "contact_uuid": contact, "contact_identifier_name": name}),
            how_to_check="Find the identifier by its value: if it exists, it was created (Piggy refuses a second).",
            require_data=False,
            shape=lambda data: ContactIdentifier.after_write(data, value, contact),
        )

    async def link_contact_identifier(self, value: str, contact_uuid: str) -> ContactIdentifier:
        contact = path_id(contact_uuid)
        return await self._client.send(
            "PUT",
            "/contact-identifiers/link",
            {"contact_identifier_value": value, "contact_uuid": contact},
            how_to_check="Find the identifier by its value: its contact_uuid says whether the link went through.",
            require_data=False,
            shape=lambda data: ContactIdentifier.after_write(data, value, contact),
        )

    async def unlink_contact_identifier(self, value: str) -> ContactIdentifier:
        return await self._client.send(
            "PUT",
            "/contact-identifiers/unlink",
            {"contact_identifier_value": value},
            how_to_check="Find the identifier by its value: without a contact_uuid, it was unlinked.",
            require_data=False,
            # What was unlinked holds no contact, whatever the answer echoes.
            shape=lambda data: ContactIdentifier.after_write(data, value, None).model_copy(
                update={"contact_uuid": None}
            ),
        )
