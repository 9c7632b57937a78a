"""Prepaid balances: money a member keeps with the shop, moved by prepaid transactions (amounts in cents).

The records and a mixin of endpoint methods for `PiggyAPI`. Where Piggy's sources leave a choice open, the choice
is made here and named by its id in docs/piggy-api-decisions.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from piggy_mcp.piggy.models import Page, Record, mapping
from piggy_mcp.piggy.paths import Endpoints
from piggy_mcp.piggy.paths import path_id as _id

if TYPE_CHECKING:
    pass

PREPAID_DEFAULT_LIMIT = 10
PREPAID_MAX_LIMIT = 30

# Piggy has no endpoint that reads one prepaid transaction (decision D40): it is looked for among the contact's
# latest ones, this many pages of the largest size.
PREPAID_SCAN_PAGES = 3


def balance_after(balance_in_cents: int, amount_in_cents: int) -> int | None:
    """The prepaid balance after a transaction of `amount_in_cents`, or None if it would go below zero.

    Whether Piggy lets a prepaid balance go negative is undocumented (decision D41): piggy-mcp assumes it does not.
    """
    after = balance_in_cents + amount_in_cents
    return after if after >= 0 else None


class PrepaidBalance(Record):
    balance_in_cents: int


class PrepaidTransaction(Record):
    uuid: str
    amount_in_cents: int | None = None
    created_at: str | None = None


# What a write booked: the uuid of its transaction, if the answer gave one.
class PrepaidBooked(Record):
    uuid: str | None = None

    @classmethod
    def after_write(cls, data: Any) -> PrepaidBooked:
        """The answer to a transaction Piggy accepted, shaped without ever failing (decision D23)."""
        uuid = mapping(data).get("uuid")
        return cls(uuid=uuid if isinstance(uuid, str) else None)


def _transactions(found: Any, page: int | None, limit: int) -> Page[PrepaidTransaction]:
    # The docs' example list is malformed JSON (decision D42): only items that are objects with a uuid are kept;
    # `meta` is Laravel's paginator, which Page reads (decision D1).
    items = [i for i in found.data if isinstance(i, Mapping) and isinstance(i.get("uuid"), str)]
    return Page.from_piggy(PrepaidTransaction, items, found.meta, page=page, limit=limit)


class PrepaidAPI(Endpoints):
    """The prepaid endpoints, mixed into `PiggyAPI`."""

    async def get_prepaid_balance(self, contact_uuid: str) -> int:
        return await self._client.get(
            f"/contacts/{_id(contact_uuid)}/prepaid-balance",
            shape=lambda data: PrepaidBalance.model_validate(data).balance_in_cents,
        )

    async def list_prepaid_transactions(
        self, contact_uuid: str, shop_uuid: str | None = None, page: int | None = None, limit: int | None = None
    ) -> Page[PrepaidTransaction]:
        params = {
            "contact_uuid": _id(contact_uuid),
            "shop_uuid": _id(shop_uuid) if shop_uuid is not None else None,
            "page": page,
            "limit": limit,
        }
        effective = limit or PREPAID_DEFAULT_LIMIT
        return await self._client.read(
            "/prepaid-transactions", params, shape=lambda found: _transactions(found, page, effective)
        )

    async def find_prepaid_transaction(self, contact_uuid: str, transaction_uuid: str) -> PrepaidTransaction | None:
        """One of the contact's latest prepaid transactions, or None when it is not among them (decision D40)."""
        for page in range(1, PREPAID_SCAN_PAGES + 1):
            found = await self.list_prepaid_transactions(contact_uuid, None, page, PREPAID_MAX_LIMIT)
            for item in found.items:
                if item.uuid.lower() == transaction_uuid.lower():
                    return item
            if not found.has_more:
                break
        return None

    async def create_prepaid_transaction(
        self, contact_uuid: str, amount_in_cents: int, shop_uuid: str | None
    ) -> PrepaidBooked:
        return await self._client.send(
            "POST",
            "/prepaid-transactions",
            {"contact_uuid": _id(contact_uuid), "amount_in_cents": amount_in_cents, "shop_uuid": self.shop(shop_uuid)},
            how_to_check="Read the prepaid balance or list_prepaid_transactions: if the amount is there, it went "
            "through. Do not send it again before checking.",
            require_data=False,
            shape=PrepaidBooked.after_write,
        )

    async def reverse_prepaid_transaction(self, transaction_uuid: str) -> PrepaidBooked:
        return await self._client.send(
            "POST",
            f"/prepaid-transactions/{_id(transaction_uuid)}/reverse",
            None,
            how_to_check="List the contact's prepaid transactions: an opposite one means the reversal went "
            "through. Do not reverse again before checking.",
            require_data=False,
            shape=PrepaidBooked.after_write,
        )
