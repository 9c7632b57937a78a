"""Contact identifiers (loyalty cards) in the sandbox: found, listed per contact, created, linked and unlinked.

A card's value is unique in the account; a card is linked to at most one contact, and linking one that is linked
already is refused (60014). Unlinking a card nobody holds is refused with 60011 (decision D57).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from piggy_mcp.sandbox.errors import ApiError
from piggy_mcp.sandbox.inputs import Fields
from piggy_mcp.sandbox.seed import SEED

if TYPE_CHECKING:
    from piggy_mcp.sandbox.routes import Call, Handler, Result
    from piggy_mcp.sandbox.state import Store


@dataclass
class Card:
    value: str
    name: str
    contact_uuid: str | None = None
    active: bool = True
    default: bool = False


@dataclass(frozen=True)
class _Cards:
    sanne_store: str = "BB-1000-0001"  # Sanne's in-store profile's card
    anonymous: str = "BB-1000-0003"  # the unclaimed card behind the anonymous contact
    spare: str = "BB-1000-0099"  # handed out by nobody yet: linkable
    blocked: str = "BB-1000-0404"  # reported lost, deactivated


CARDS = _Cards()


def seed_cards() -> dict[str, Card]:
    c = SEED.contacts
    cards = [
        Card(CARDS.sanne_store, "Card 0001", c.sanne_store, default=True),
        Card(CARDS.anonymous, "Card 0003", c.anonymous, default=True),
        Card(CARDS.spare, "Card 0099"),
        Card(CARDS.blocked, "Card 0404", active=False),
    ]
    return {card.value: card for card in cards}


# Rules ------------------------------------------------------------------------------------------------


def usable_card(store: Store, value: str) -> Card:
    """An existing, active card (60003, 60004 otherwise)."""
    card = store.cards.get(value)
    if card is None:
        raise ApiError(60003)
    if not card.active:
        raise ApiError(60004)
    return card


def link(store: Store, card: Card, contact_uuid: str) -> None:
    if card.contact_uuid is not None:
        raise ApiError(60014)
    card.contact_uuid = contact_uuid
    # A contact's first card is its default.
    card.default = not any(c.default for c in store.cards.values() if c.contact_uuid == contact_uuid)


def card_json(store: Store, card: Card) -> dict[str, Any]:
    owner = store.contacts.get(card.contact_uuid) if card.contact_uuid else None
    return {
        "name": card.name,
        "value": card.value,
        "active": card.active,
        "contact": {"uuid": owner.uuid, "email": owner.email} if owner else None,
    }


# Handlers ---------------------------------------------------------------------------------------------


def find_card(call: Call) -> Result:
    f = Fields(call.query)
    value = f.string("contact_identifier_value", required=True)
    f.check()
    assert value is not None
    return card_json(call.store, usable_card(call.store, value)), []


def contact_cards(call: Call) -> Result:
    s = call.store
    contact = s.contact(str(call.path_params["uuid"]).lower())
    cards = [c for c in s.cards.values() if c.contact_uuid == contact.uuid]
    items = [
        {"name": c.name, "value": c.value, "active": c.active, "default": c.default, "contact": {"uuid": contact.uuid}}
        for c in cards
    ]
    return items, []


def create_card(call: Call) -> Result:
    f = Fields(call.body)
    value = f.string("contact_identifier_value", required=True)
    contact_uuid = f.uuid("contact_uuid")
    name = f.string("contact_identifier_name")
    f.check()
    assert value is not None
    s = call.store
    if contact_uuid is not None:
        s.contact(contact_uuid)
    if value in s.cards:
        raise ApiError(60006)
    card = Card(value, name or value)
    s.cards[value] = card
    if contact_uuid is not None:
        link(s, card, contact_uuid)
    return card_json(s, card), []


def link_card(call: Call) -> Result:
    f = Fields(call.body)
    value = f.string("contact_identifier_value", required=True)
    contact_uuid = f.uuid("contact_uuid", required=True)
    f.check()
    assert value is not None and contact_uuid is not None
    s = call.store
    card = usable_card(s, value)
    s.contact(contact_uuid)
    link(s, card, contact_uuid)
    return card_json(s, card), []


def unlink_card(call: Call) -> Result:
    f = Fields(call.body)
    value = f.string("contact_identifier_value", required=True)
    f.check()
    assert value is not None
    s = call.store
    card = usable_card(s, value)
    if card.contact_uuid is None:
        raise ApiError(60011)
    card.contact_uuid, card.default = None, False
    return card_json(s, card), []


ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/contact-identifiers/find", find_card),
    ("POST", "/contact-identifiers", create_card),
    ("PUT", "/contact-identifiers/link", link_card),
    ("PUT", "/contact-identifiers/unlink", unlink_card),
    ("GET", "/contacts/{uuid}/contact-identifiers", contact_cards),
]
