"""The sandbox's gift cards: programs, cards and their transactions, Piggy's rules over them, and the routes.

Cards start at 0 cents and never go below it (5003); only a card's latest transaction can be reversed (55025).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from piggy_mcp.sandbox.errors import ApiError
from piggy_mcp.sandbox.inputs import Fields
from piggy_mcp.sandbox.seed import EPOCH, SEED, sandbox_uuid

if TYPE_CHECKING:
    from piggy_mcp.sandbox.routes import Call, Handler, Result
    from piggy_mcp.sandbox.state import Store

CODES = {
    1100: "Giftcard Program not found",
    5001: "Giftcard not found",
    5002: "Giftcard is expired",
    5003: "Insufficient amount on giftcard",
    5006: "Giftcard cannot be incremented",
    5008: "Max amount on giftcard exceeded",
    5010: "Giftcard transaction not found",
    55021: "Only Digital giftcards can be created",
    55025: "This is not the giftcards last transaction",
}


@dataclass
class Program:
    id: int
    uuid: str
    name: str
    max_amount_in_cents: int
    min_amount_in_cents: int
    expiration_days: int


@dataclass
class Card:
    id: int
    uuid: str
    hash: str
    program_uuid: str
    expiration_date: datetime
    amount_in_cents: int = 0


@dataclass
class CardTransaction:
    id: int
    uuid: str
    card_uuid: str
    shop_uuid: str
    amount_in_cents: int
    created_at: datetime


def _refused(code: int) -> ApiError:
    # With Piggy's own text for the gift card codes, which the shared table leaves out.
    return ApiError(code, CODES.get(code))


def _hash(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:16].upper()


@dataclass
class GiftcardBook:
    """Every gift card program, card and transaction of the sandbox."""

    programs: dict[str, Program] = field(default_factory=dict)
    cards: dict[str, Card] = field(default_factory=dict)
    transactions: list[CardTransaction] = field(default_factory=list)

    @classmethod
    def seeded(cls) -> GiftcardBook:
        g = SEED.giftcards
        program = Program(1, g.program, "Bonte Boon gift card", 15_000, 500, 365)
        card = Card(1, g.card, g.card_hash, program.uuid, EPOCH + timedelta(days=300))
        book = cls({program.uuid: program}, {card.uuid: card})
        # The seeded card was loaded once in store, so it holds what its history says.
        book._book(
            card,
            CardTransaction(
                1, sandbox_uuid("giftcard-transaction:1"), card.uuid, SEED.shops.store, 2500, EPOCH - timedelta(days=20)
            ),
        )
        return book

    def program(self, program_uuid: str) -> Program:
        if program_uuid not in self.programs:
            raise _refused(1100)
        return self.programs[program_uuid]

    def card(self, card_uuid: str) -> Card:
        if card_uuid not in self.cards:
            raise _refused(5001)
        return self.cards[card_uuid]

    def by_hash(self, card_hash: str) -> Card:
        found = next((c for c in self.cards.values() if c.hash.casefold() == card_hash.casefold()), None)
        if found is None:
            raise _refused(5001)
        return found

    def transaction(self, transaction_uuid: str) -> CardTransaction:
        found = next((t for t in self.transactions if t.uuid == transaction_uuid), None)
        if found is None:
            raise _refused(5010)
        return found

    def create(self, store: Store, program_uuid: str) -> Card:
        program = self.program(program_uuid)
        card_uuid = store.new_uuid("giftcard")
        card = Card(
            store.new_id(),
            card_uuid,
            _hash(card_uuid),
            program.uuid,
            store.now() + timedelta(days=program.expiration_days),
        )
        self.cards[card.uuid] = card
        return card

    def transact(self, store: Store, card_uuid: str, amount: int, shop_uuid: str) -> CardTransaction:
        card = self.card(card_uuid)
        store.shop(shop_uuid)
        # Decision D44: "non re-incrementable" read as loaded once; later loads are refused.
        if amount > 0 and any(t.card_uuid == card.uuid for t in self.transactions):
            raise _refused(5006)
        return self._move(store, card, amount, shop_uuid)

    def reverse(self, store: Store, transaction_uuid: str) -> CardTransaction:
        original = self.transaction(transaction_uuid)
        latest = [t for t in self.transactions if t.card_uuid == original.card_uuid][-1]
        if latest is not original:
            raise _refused(55025)
        return self._move(store, self.card(original.card_uuid), -original.amount_in_cents, original.shop_uuid)

    def _move(self, store: Store, card: Card, amount: int, shop_uuid: str) -> CardTransaction:
        if card.expiration_date < store.now():
            raise _refused(5002)
        if card.amount_in_cents + amount < 0:
            raise _refused(5003)
        if card.amount_in_cents + amount > self.programs[card.program_uuid].max_amount_in_cents:
            raise _refused(5008)
        transaction = CardTransaction(
            store.new_id(), store.new_uuid("giftcard-transaction"), card.uuid, shop_uuid, amount, store.now()
        )
        self._book(card, transaction)
        return transaction

    def _book(self, card: Card, transaction: CardTransaction) -> None:
        self.transactions.append(transaction)
        card.amount_in_cents += transaction.amount_in_cents


# Shapes -------------------------------------------------------------------------------------------


def _when(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _program(p: Program, book: GiftcardBook) -> dict[str, Any]:
    cards = sum(1 for c in book.cards.values() if c.program_uuid == p.uuid)
    return {
        "id": p.id,
        "card_count": cards,
        "settles": False,
        "uuid": p.uuid,
        "name": p.name,
        "active": True,
        "expiration_days": p.expiration_days,
        "max_amount_in_cents": p.max_amount_in_cents,
        "min_amount_in_cents": p.min_amount_in_cents,
        "calculator_flow": "DEFAULT",
    }


def _card(c: Card, book: GiftcardBook) -> dict[str, Any]:
    program = book.programs[c.program_uuid]
    return {
        "uuid": c.uuid,
        "type": "DIGITAL",
        "hash": c.hash,
        "expiration_date": _when(c.expiration_date),
        "active": True,
        "upgradeable": False,
        "amount_in_cents": c.amount_in_cents,
        "display_amount": f"€{c.amount_in_cents / 100:.2f}".replace(".", ","),
        "giftcard_program": {"uuid": program.uuid, "name": program.name},
    }


def _new_card(c: Card, book: GiftcardBook) -> dict[str, Any]:
    return {
        **_card(c, book),
        "id": c.id,
        "amount": 0,
        "url": f"https://piggy.eu/giftcard-balance?hash={c.hash}",
        "formatted_expiration_date": c.expiration_date.strftime("%d-%m-%Y"),
        "giftcard_recipients": [],
    }


def _transaction(store: Store, t: CardTransaction) -> dict[str, Any]:
    shop = store.shop(t.shop_uuid)
    card = store.giftcards.card(t.card_uuid)
    return {
        "id": t.id,
        "uuid": t.uuid,
        "amount_in_cents": t.amount_in_cents,
        "type": "STANDARD",
        "settled": False,
        "card": {"id": card.id, "uuid": card.uuid},
        "shop": {"id": shop.id, "uuid": shop.uuid, "name": shop.name},
        "settlements": [],
        "created_at": _when(t.created_at),
    }


# Routes -------------------------------------------------------------------------------------------


def _path_uuid(call: Call, not_found: int) -> str:
    f = Fields({"uuid": call.path_params["uuid"]})
    value = f.uuid("uuid")
    if value is None:
        raise _refused(not_found)  # a segment that is no uuid names nothing
    return value


def list_programs(call: Call) -> Result:
    book = call.store.giftcards
    return [_program(p, book) for p in book.programs.values()], []


def find_card(call: Call) -> Result:
    f = Fields(call.query)
    card_hash = f.string("hash", required=True)
    f.check()
    assert card_hash is not None
    book = call.store.giftcards
    return _card(book.by_hash(card_hash), book), []


def get_card(call: Call) -> Result:
    book = call.store.giftcards
    return _card(book.card(_path_uuid(call, 5001)), book), []


def create_card(call: Call) -> Result:
    f = Fields(call.body)
    kind = f.integer("type", required=True, minimum=0, maximum=1)
    program_uuid = f.uuid("giftcard_program_uuid", required=True)
    f.check()
    assert program_uuid is not None
    if kind != 1:
        raise _refused(55021)
    book = call.store.giftcards
    return _new_card(book.create(call.store, program_uuid), book), []


def send_card(call: Call) -> Result:
    card_uuid = _path_uuid(call, 5001)
    f = Fields(call.body)
    contact_uuid = f.uuid("contact_uuid", required=True)
    f.uuid("email_uuid")
    f.object("merge_tags")
    f.check()
    assert contact_uuid is not None
    call.store.giftcards.card(card_uuid)
    call.store.contact(contact_uuid)
    # The sandbox sends no email.
    return {"message": "success", "data": "Email successfully sent"}, []


def get_transaction(call: Call) -> Result:
    s = call.store
    return _transaction(s, s.giftcards.transaction(_path_uuid(call, 5010))), []


def create_transaction(call: Call) -> Result:
    f = Fields(call.body)
    card_uuid = f.uuid("giftcard_uuid", required=True)
    amount = f.integer("amount_in_cents", required=True)
    shop_uuid = f.uuid("shop_uuid", required=True)
    f.array("custom_attributes")
    f.check()
    assert card_uuid is not None and amount is not None and shop_uuid is not None
    s = call.store
    return _transaction(s, s.giftcards.transact(s, card_uuid, amount, shop_uuid)), []


def reverse_transaction(call: Call) -> Result:
    s = call.store
    return _transaction(s, s.giftcards.reverse(s, _path_uuid(call, 5010))), []


# Literal paths before the {uuid} paths they would otherwise be taken for.
ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/giftcard-programs", list_programs),
    ("GET", "/giftcards/find-one-by", find_card),
    ("POST", "/giftcards", create_card),
    ("GET", "/giftcards/{uuid}", get_card),
    ("POST", "/giftcards/{uuid}/send-by-email", send_card),
    ("POST", "/giftcard-transactions", create_transaction),
    ("GET", "/giftcard-transactions/{uuid}", get_transaction),
    ("POST", "/giftcard-transactions/{uuid}/reverse", reverse_transaction),
]
