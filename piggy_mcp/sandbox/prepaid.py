"""The sandbox's prepaid transactions, Piggy's rules over them, and the routes.

A contact's prepaid balance (`Contact.prepaid_balance_in_cents`) is the sum of its transactions and never goes
below zero; a reversal books the opposite amount, once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from piggy_mcp.sandbox.errors import ApiError, invalid
from piggy_mcp.sandbox.inputs import Fields
from piggy_mcp.sandbox.seed import EPOCH, SEED, sandbox_uuid

if TYPE_CHECKING:
    from piggy_mcp.sandbox.records import Contact
    from piggy_mcp.sandbox.routes import Call, Handler, Result
    from piggy_mcp.sandbox.state import Store


@dataclass
class PrepaidTransaction:
    id: int
    uuid: str
    contact_uuid: str
    shop_uuid: str
    amount_in_cents: int
    created_at: datetime
    reversal_of: str | None = None
    reversed_by: str | None = None


@dataclass
class PrepaidLedger:
    """Every prepaid transaction of the sandbox; balances live on the contacts."""

    transactions: list[PrepaidTransaction] = field(default_factory=list)

    @classmethod
    def seeded(cls, contacts: list[Contact]) -> PrepaidLedger:
        # A seeded balance is one top-up in store, a week before the sandbox's "now".
        ledger = cls()
        for i, c in enumerate((x for x in contacts if x.prepaid_balance_in_cents), 1):
            ledger.transactions.append(
                PrepaidTransaction(
                    i,
                    sandbox_uuid(f"prepaid-transaction:{i}"),
                    c.uuid,
                    SEED.shops.store,
                    c.prepaid_balance_in_cents,
                    EPOCH - timedelta(days=7),
                )
            )
        return ledger

    def create(self, store: Store, contact_uuid: str, amount: int, shop_uuid: str) -> PrepaidTransaction:
        contact = store.contact(contact_uuid)
        store.shop(shop_uuid)
        return self._book(store, contact, amount, shop_uuid)

    def reverse(self, store: Store, transaction_uuid: str) -> PrepaidTransaction:
        original = next((t for t in self.transactions if t.uuid == transaction_uuid), None)
        if original is None:
            raise ApiError(60013)  # decision D45: no prepaid-specific "not found" code is documented
        if original.reversed_by is not None or original.reversal_of is not None:
            # Decision D45: no code is documented for reversing twice; refused as invalid input, as in D26.
            raise invalid("prepaid_transaction_uuid", "This prepaid transaction cannot be reversed.")
        contact = store.contact(original.contact_uuid)
        reversal = self._book(store, contact, -original.amount_in_cents, original.shop_uuid, original.uuid)
        original.reversed_by = reversal.uuid
        return reversal

    def _book(
        self, store: Store, contact: Contact, amount: int, shop_uuid: str, reversal_of: str | None = None
    ) -> PrepaidTransaction:
        if contact.prepaid_balance_in_cents + amount < 0:
            # Decision D41: a balance below zero is refused; Piggy documents no code, so 1003 on the amount.
            raise invalid("amount_in_cents", "The amount exceeds the prepaid balance.")
        transaction = PrepaidTransaction(
            store.new_id(),
            store.new_uuid("prepaid-transaction"),
            contact.uuid,
            shop_uuid,
            amount,
            store.now(),
            reversal_of=reversal_of,
        )
        self.transactions.append(transaction)
        contact.prepaid_balance_in_cents += amount
        contact.updated_at = transaction.created_at
        return transaction

    def of(self, store: Store, contact_uuid: str | None, shop_uuid: str | None) -> list[PrepaidTransaction]:
        if contact_uuid is not None:
            store.contact(contact_uuid)
        if shop_uuid is not None:
            store.shop(shop_uuid)
        found = [
            t
            for t in self.transactions
            if (contact_uuid is None or t.contact_uuid == contact_uuid)
            and (shop_uuid is None or t.shop_uuid == shop_uuid)
        ]
        return sorted(found, key=lambda t: (t.created_at, t.id), reverse=True)  # newest first


# Shapes -------------------------------------------------------------------------------------------


def _cents(cents: int) -> str:
    return f"€{cents / 100:.2f}"


def _transaction(store: Store, t: PrepaidTransaction) -> dict[str, Any]:
    shop = store.shop(t.shop_uuid)
    balance = store.contact(t.contact_uuid).prepaid_balance_in_cents
    return {
        "uuid": t.uuid,
        "amount_in_cents": t.amount_in_cents,
        "prepaid_balance": {"balance_in_cents": balance, "balance": _cents(balance)},
        "created_at": t.created_at.isoformat(timespec="seconds"),
        "shop": {"id": shop.id, "uuid": shop.uuid, "reference": shop.reference, "name": shop.name},
        "contact_identifier": None,
    }


# Routes -------------------------------------------------------------------------------------------


def _path_uuid(call: Call, not_found: int) -> str:
    value = Fields({"uuid": call.path_params["uuid"]}).uuid("uuid")
    if value is None:
        raise ApiError(not_found)  # a segment that is no uuid names nothing
    return value


def balance(call: Call) -> Result:
    cents = call.store.contact(_path_uuid(call, 55031)).prepaid_balance_in_cents
    return {"balance_in_cents": cents, "balance": _cents(cents)}, []


def create_transaction(call: Call) -> Result:
    f = Fields(call.body)
    contact_uuid = f.uuid("contact_uuid")
    identifier = f.string("contact_identifier_value")
    amount = f.integer("amount_in_cents", required=True)
    shop_uuid = f.uuid("shop_uuid", required=True)
    if contact_uuid is None and identifier is None:
        f.fail("contact_uuid", "The contact uuid field is required when contact identifier value is not present.")
    f.check()
    assert amount is not None and shop_uuid is not None
    if contact_uuid is None:
        raise ApiError(60003)  # the sandbox's contacts have no identifiers (cards)
    s = call.store
    return _transaction(s, s.prepaid.create(s, contact_uuid, amount, shop_uuid)), []


def list_transactions(call: Call) -> Result:
    f = Fields(call.query)
    contact_uuid = f.uuid("contact_uuid")
    shop_uuid = f.uuid("shop_uuid")
    page = f.integer("page", minimum=1) or 1
    limit = f.integer("limit", minimum=1, maximum=30) or 10
    f.check()
    s = call.store
    found = s.prepaid.of(s, contact_uuid, shop_uuid)
    start = (page - 1) * limit
    # Laravel's paginator, as the docs' (malformed) example shows it.
    meta = {
        "current_page": page,
        "from": start + 1 if found[start:] else None,
        "last_page": max(1, math.ceil(len(found) / limit)),
        "per_page": limit,
        "total": len(found),
    }
    return [_transaction(s, t) for t in found[start : start + limit]], meta


def reverse_transaction(call: Call) -> Result:
    s = call.store
    return _transaction(s, s.prepaid.reverse(s, _path_uuid(call, 60013))), []


ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/contacts/{uuid}/prepaid-balance", balance),
    ("GET", "/prepaid-transactions", list_transactions),
    ("POST", "/prepaid-transactions", create_transaction),
    ("POST", "/prepaid-transactions/{uuid}/reverse", reverse_transaction),
]
