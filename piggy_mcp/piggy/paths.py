"""What every endpoint module does to arguments before they go into a request, and the base they share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from piggy_mcp.piggy.errors import InvalidInputError
from piggy_mcp.piggy.models import is_uuid

if TYPE_CHECKING:
    from piggy_mcp.piggy.client import PiggyClient


def path_id(value: str) -> str:
    """A path segment (or reference) that must be a UUID: anything else could change the URL's path."""
    if is_uuid(value):
        return value.lower()
    raise InvalidInputError(f"{value!r} is not a UUID", next_step="Pass the uuid exactly as Piggy gave it.")


def optional_path_id(value: str | None) -> str | None:
    return path_id(value) if value is not None else None


def compact(body: Mapping[str, Any]) -> dict[str, Any]:
    """Drop arguments that were not given, so Piggy applies its own defaults."""
    return {k: v for k, v in body.items() if v is not None}


class Endpoints:
    """What every group of endpoint methods stands on: the one client, and the shop a write means by default.

    `default_shop` (PIGGY_SHOP_UUID) is the shop a write means when it names none: a shop with one store need not
    look it up for every call. `PiggyAPI` combines the groups.
    """

    def __init__(self, client: PiggyClient, *, default_shop: str | None = None) -> None:
        self._client = client
        self._default_shop = default_shop

    def shop(self, shop_uuid: str | None) -> str:
        """The shop a write happens in: the one named, else the default; refused before anything is sent."""
        chosen = shop_uuid if shop_uuid is not None else self._default_shop
        if chosen is None:
            raise InvalidInputError(
                "no shop was named",
                next_step="Pass shop_uuid, a shop from list_shops (or the operator sets PIGGY_SHOP_UUID). "
                "Nothing was sent.",
            )
        return path_id(chosen)
