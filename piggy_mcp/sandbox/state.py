"""The sandbox's in-memory store and Piggy's rules over it.

Methods take already-validated arguments (see `routes.py`), enforce Piggy's business rules and raise
`ApiError` with Piggy's codes. Work Piggy queues (merges, voucher batches) is kept as a pending job and
applied lazily: at the start of the first request after `processing_delay` has passed (`settle`), which
keeps the sandbox deterministic without background tasks.
"""

from __future__ import annotations

import hashlib
import time
import uuid as uuidlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from piggy_mcp.sandbox.automations import seed_automations
from piggy_mcp.sandbox.errors import ApiError, invalid
from piggy_mcp.sandbox.giftcards import GiftcardBook
from piggy_mcp.sandbox.identifiers import link, seed_cards, usable_card
from piggy_mcp.sandbox.inputs import parse_date
from piggy_mcp.sandbox.prepaid import PrepaidLedger
from piggy_mcp.sandbox.records import (
    Attribute,
    Booking,
    Contact,
    OrderBook,
    Product,
    Promotion,
    Reward,
    Shop,
    Tier,
    Transaction,
    Unit,
    Voucher,
)
from piggy_mcp.sandbox.seed import EPOCH, LOYALTY_PROGRAM, NAMESPACE, SeedData, build
from piggy_mcp.sandbox.webhooks import WebhookBook, contact_updated_data, credit_reception_data, voucher_redeemed_data

# The code every verification email "contains": the sandbox sends no email.
LOGIN_CODE = "123456"

DEFAULT_PROCESSING_DELAY = 0.5  # seconds before a queued merge or voucher batch is applied

ATTRIBUTE_TYPES = frozenset(
    {
        "url",
        "text",
        "date",
        "phone",
        "float",
        "color",
        "email",
        "number",
        "select",
        "boolean",
        "rich_text",
        "date_time",
        "long_text",
        "date_range",
        "time_range",
        "identifier",
        "birth_date",
        "file_upload",
        "media_upload",
        "multi_select",
        "license_plate",
    }
)
CHOICE_TYPES = frozenset({"select", "multi_select"})
# The list filter `type` and the transaction types it selects.
_TRANSACTION_TYPES: dict[str, frozenset[str]] = {
    "credit_receptions": frozenset({"credit_reception"}),
    "reward_receptions": frozenset({"reward_reception", "digital_reward_reception"}),
}
TRANSACTION_FILTERS = frozenset(_TRANSACTION_TYPES)
VOUCHER_STATUSES = frozenset({"ACTIVE", "REDEEMED", "EXPIRED", "DEACTIVATED", "INACTIVE", "LOCKED"})


def credits_for(unit_value: float) -> int:
    """The loyalty rule for the default unit `purchase_amount`: 1 credit per whole euro, rounded down."""
    return int(unit_value // 1)


class SandboxClock:
    """Sandbox time: `seed.EPOCH` when the sandbox starts, then running at real speed.

    Seeded dates (expired vouchers, past transactions) therefore mean the same on every start.
    """

    def __init__(self) -> None:
        self._started = time.monotonic()

    def __call__(self) -> datetime:
        return EPOCH + timedelta(seconds=time.monotonic() - self._started)


@dataclass
class _Job:
    due: datetime
    run: Callable[[], None]


@dataclass
class VoucherBatch:
    uuid: str
    promotion_uuid: str
    quantity: int
    created_at: datetime
    status: str = "PENDING"
    voucher_uuids: list[str] = field(default_factory=list)


class Store:
    """Everything the sandbox knows, and the operations Piggy's API offers on it."""

    def __init__(
        self,
        *,
        api_key: str = "sandbox",
        portal_enabled: bool = True,
        processing_delay: float = DEFAULT_PROCESSING_DELAY,
        clock: Callable[[], datetime] | None = None,
        seed: SeedData | None = None,
    ) -> None:
        data = seed or build()
        self.api_key = api_key
        self.portal_enabled = portal_enabled
        self.processing_delay = processing_delay
        self.clock: Callable[[], datetime] = clock or SandboxClock()
        self.shops: dict[str, Shop] = {s.uuid: s for s in data.shops}
        self.units: list[Unit] = data.units
        self.attributes: list[Attribute] = data.attributes
        self.contacts: dict[str, Contact] = {c.uuid: c for c in data.contacts}
        self.transactions: list[Transaction] = data.transactions
        self.rewards: dict[str, Reward] = {r.uuid: r for r in data.rewards}
        self.promotions: dict[str, Promotion] = {p.uuid: p for p in data.promotions}
        self.vouchers: list[Voucher] = data.vouchers
        self.forms = data.forms
        self.perks = data.perks
        self.products: list[Product] = data.products
        self.bookings: dict[str, Booking] = {b.uuid: b for b in data.bookings}
        self.tiers: list[Tier] = data.tiers
        self.batches: dict[str, VoucherBatch] = {}
        self.giftcards = GiftcardBook.seeded()
        self.prepaid = PrepaidLedger.seeded(list(self.contacts.values()))
        self.orders = OrderBook()
        self.cards = seed_cards()
        self.automations = seed_automations()
        self.webhooks = WebhookBook()
        self.program: dict[str, Any] = dict(LOYALTY_PROGRAM)
        # Contacts deleted: the DEFAULT deletion's log (email and balances); a GDPR one keeps only the uuid.
        self.deletions: list[dict[str, Any]] = []
        self.login_codes: dict[str, str] = {}  # contact uuid -> code "sent" and not used yet
        self._jobs: list[_Job] = []
        self._serial = 0
        self._next_id = 10_000

    # Plumbing -----------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock()

    def new_uuid(self, kind: str) -> str:
        # Deterministic: the n-th object created in a sandbox always gets the same uuid.
        self._serial += 1
        return str(uuidlib.uuid5(NAMESPACE, f"created:{kind}:{self._serial}"))

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _schedule(self, run: Callable[[], None]) -> None:
        self._jobs.append(_Job(self.now() + timedelta(seconds=self.processing_delay), run))

    def settle(self) -> None:
        """Apply the queued work whose delay has passed, oldest first."""
        now = self.now()
        due = [job for job in self._jobs if job.due <= now]
        self._jobs = [job for job in self._jobs if job.due > now]
        for job in due:
            job.run()

    def run_pending(self) -> None:
        """Apply all queued work now, as if the delay had passed."""
        jobs, self._jobs = self._jobs, []
        for job in jobs:
            job.run()

    @property
    def pending(self) -> int:
        return len(self._jobs)

    # Contacts -----------------------------------------------------------------------------------

    def contact(self, contact_uuid: str) -> Contact:
        found = self.contacts.get(contact_uuid)
        if found is None:
            raise ApiError(55031)
        return found

    def find_contact(self, email: str) -> Contact | None:
        wanted = email.casefold()
        return next((c for c in self.contacts.values() if c.email.casefold() == wanted), None)

    def contact_by_email(self, email: str) -> Contact:
        found = self.find_contact(email)
        if found is None:
            raise ApiError(55031)
        return found

    def transactions_of(self, contact_uuid: str) -> list[Transaction]:
        return [t for t in self.transactions if t.contact_uuid == contact_uuid]

    def tier_of(self, contact: Contact) -> Tier | None:
        received = sum(t.credits for t in self.transactions_of(contact.uuid) if t.credits > 0)
        reached = [t for t in self.tiers if received >= t.min_credits]
        return reached[-1] if reached and not contact.is_anonymous else None

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)

    def update_contact(self, contact_uuid: str, values: Mapping[str, Any]) -> Contact:
        contact = self.contact(contact_uuid)
        errors: dict[str, list[str]] = {}
        accepted: dict[str, Any] = {}
        for name, value in values.items():
            key = f"attributes.{name}"
            attribute = self.attribute(name)
            if attribute is None:
                errors[key] = [f"The attribute {name} does not exist."]
            elif attribute.read_only:
                errors[key] = [f"The attribute {name} is read-only and cannot be updated."]
            elif (problem := _value_problem(attribute, value)) is not None:
                errors[key] = [problem]
            else:
                accepted[name] = value
        if errors:
            raise ApiError(1003, errors=errors)
        changed = {name: value for name, value in accepted.items() if contact.values.get(name) != value}
        contact.values.update(accepted)
        contact.updated_at = self.now()
        if changed:
            self.webhooks.emit("contact_updated", contact_updated_data(contact, changed))
        return contact

    def claim(self, contact_uuid: str, email: str) -> Contact:
        """An anonymous contact gets a real email; if a contact already has it, the two merge into that one."""
        anonymous = self.contact(contact_uuid)
        if not anonymous.is_anonymous:
            raise ApiError(60016)
        existing = self.find_contact(email)
        if existing is not None and existing is not anonymous:
            self._merge(anonymous.uuid, existing.uuid)
            return existing
        anonymous.email = email
        anonymous.is_anonymous = False
        anonymous.updated_at = self.now()
        return anonymous

    def schedule_merge(self, source_uuid: str, destination_uuid: str) -> None:
        """Piggy queues merges ("may take a few minutes"): both must exist now; the merge happens later."""
        self.contact(source_uuid)
        self.contact(destination_uuid)
        self._schedule(lambda: self._merge(source_uuid, destination_uuid))

    def _merge(self, source_uuid: str, destination_uuid: str) -> None:
        source = self.contacts.get(source_uuid)
        destination = self.contacts.get(destination_uuid)
        if source is None or destination is None or source is destination:
            return  # one side vanished while the merge was queued: nothing left to merge
        destination.balance += source.balance
        destination.prepaid_balance_in_cents += source.prepaid_balance_in_cents
        destination.subscribed = destination.subscribed or source.subscribed
        for name, value in source.values.items():
            if destination.values.get(name) in (None, ""):
                destination.values[name] = value
        for t in self.transactions:
            if t.contact_uuid == source_uuid:
                t.contact_uuid = destination_uuid
        for v in self.vouchers:
            if v.contact_uuid == source_uuid:
                v.contact_uuid = destination_uuid
        for b in self.bookings.values():
            if b.contact_uuid == source_uuid:
                b.contact_uuid = destination_uuid
        for card in self.cards.values():
            if card.contact_uuid == source_uuid:
                card.contact_uuid, card.default = destination_uuid, False
        self.login_codes.pop(source_uuid, None)
        del self.contacts[source_uuid]
        destination.updated_at = self.now()

    def create_contact(self, email: str) -> Contact:
        if self.find_contact(email) is not None:
            raise ApiError(60005)
        return self._new_contact(email, anonymous=False)

    def create_anonymous_contact(self, card_value: str | None) -> Contact:
        # The card must exist, be active and be nobody's yet (60003, 60004, 60014).
        card = usable_card(self, card_value) if card_value is not None else None
        if card is not None and card.contact_uuid is not None:
            raise ApiError(60014)
        serial = self.new_uuid("anonymous-email")[:6]
        contact = self._new_contact(f"anonymous-{serial}@anonymous.bonteboon.example", anonymous=True)
        if card is not None:
            link(self, card, contact.uuid)
        return contact

    def _new_contact(self, email: str, *, anonymous: bool) -> Contact:
        now = self.now()
        contact = Contact(
            id=self.new_id(),
            uuid=self.new_uuid("contact"),
            email=email,
            created_at=now,
            updated_at=now,
            balance_id=self.new_id(),
            is_anonymous=anonymous,
        )
        self.contacts[contact.uuid] = contact
        return contact

    def contacts_created(self, after: datetime | None, before: datetime | None, newest_first: bool) -> list[Contact]:
        found = [
            c
            for c in self.contacts.values()
            if (after is None or c.created_at >= after) and (before is None or c.created_at <= before)
        ]
        return sorted(found, key=lambda c: (c.created_at, c.id), reverse=newest_first)

    def schedule_deletion(self, contact_uuid: str, deletion_type: str) -> None:
        """Piggy schedules deletions ("this may take a few minutes"): the contact must exist now; it goes later."""
        self.contact(contact_uuid)
        self._schedule(lambda: self._delete(contact_uuid, deletion_type))

    def _delete(self, contact_uuid: str, deletion_type: str) -> None:
        contact = self.contacts.pop(contact_uuid, None)
        if contact is None:
            return  # merged away or deleted while the deletion was queued
        entry: dict[str, Any] = {"uuid": contact.uuid, "type": deletion_type, "at": self.now()}
        if deletion_type == "DEFAULT":
            entry.update(email=contact.email, balance=contact.balance, prepaid=contact.prepaid_balance_in_cents)
        self.deletions.append(entry)
        # Its credit balance and relations go with it.
        self.transactions = [t for t in self.transactions if t.contact_uuid != contact_uuid]
        self.bookings = {k: b for k, b in self.bookings.items() if b.contact_uuid != contact_uuid}
        for v in self.vouchers:
            if v.contact_uuid == contact_uuid:
                v.contact_uuid = None
        for card in self.cards.values():
            if card.contact_uuid == contact_uuid:
                card.contact_uuid, card.default = None, False
        self.login_codes.pop(contact_uuid, None)

    # Contact verification ---------------------------------------------------------------------

    def _require_portal(self) -> None:
        if not self.portal_enabled:
            raise ApiError(55032)

    def send_verification(self, email: str) -> Contact:
        self._require_portal()
        contact = self.contact_by_email(email)
        self.login_codes[contact.uuid] = LOGIN_CODE
        return contact

    def verify_login_code(self, email: str, code: str) -> Contact:
        self._require_portal()
        contact = self.contact_by_email(email)
        # Only a code that was sent and not used yet exists, as with Piggy's passcodes.
        if self.login_codes.get(contact.uuid) != code:
            raise ApiError(13010)
        del self.login_codes[contact.uuid]
        return contact

    def auth_token(self, contact_uuid: str) -> str:
        contact = self.contact(contact_uuid)
        return hashlib.sha256(f"{self.api_key}:{contact.uuid}".encode()).hexdigest()

    # Contact attributes -------------------------------------------------------------------------

    def create_attribute(
        self, name: str, label: str, data_type: str, description: str | None, options: list[dict[str, Any]]
    ) -> Attribute:
        if self.attribute(name) is not None:
            raise ApiError(60009)
        attribute = Attribute(self.new_id(), name, label, data_type, description, options)
        self.attributes.append(attribute)
        return attribute

    # Shops and credits --------------------------------------------------------------------------

    def shop(self, shop_uuid: str) -> Shop:
        found = self.shops.get(shop_uuid)
        if found is None:
            raise ApiError(1008)
        return found

    def unit(self, name: str | None) -> Unit:
        if name is None:
            default = next((u for u in self.units if u.is_default), None)
            if default is None:
                raise ApiError(55046)
            return default
        found = next((u for u in self.units if u.name == name), None)
        if found is None:
            raise ApiError(60007)
        return found

    def credit_reception(
        self,
        *,
        shop_uuid: str,
        contact_uuid: str,
        credits: int | None,
        unit_value: float | None,
        unit_name: str | None,
        contact_identifier_value: str | None,
        pos_transaction_uuid: str | None,
    ) -> Transaction:
        shop = self.shop(shop_uuid)
        contact = self.contact(contact_uuid)
        if contact_identifier_value is not None:
            raise ApiError(60003)  # the sandbox's contacts have no identifiers (cards)
        unit = self.unit(unit_name)
        if pos_transaction_uuid is not None and any(
            t.pos_transaction_uuid == pos_transaction_uuid for t in self.transactions
        ):
            raise ApiError(6001)
        amount = credits if credits is not None else credits_for(unit_value or 0.0)
        if abs(amount) > LOYALTY_PROGRAM["max_amount"]:
            raise ApiError(1015)
        reception = Transaction(
            id=self.new_id(),
            uuid=self.new_uuid("credit-reception"),
            type="credit_reception",
            contact_uuid=contact.uuid,
            shop_uuid=shop.uuid,
            credits=amount,
            created_at=self.now(),
            unit_value=unit_value,
            unit_name=unit.name if unit_value is not None else None,
            pos_transaction_uuid=pos_transaction_uuid,
        )
        self._book(contact, reception)
        self.webhooks.emit("credit_reception_created", credit_reception_data(reception, contact))
        return reception

    def reverse_credit_reception(self, reception_uuid: str) -> Transaction:
        original = next(
            (t for t in self.transactions if t.uuid == reception_uuid and t.type == "credit_reception"), None
        )
        if original is None:
            raise ApiError(1028)
        if original.reversed_by is not None or original.reversal_of is not None:
            # Decision D26: Piggy documents no code for reversing twice; refuse as invalid input.
            raise ApiError(
                1003,
                "This credit reception has already been reversed.",
                {"credit_reception_uuid": ["This credit reception cannot be reversed."]},
            )
        contact = self.contact(original.contact_uuid)
        reversal = Transaction(
            id=self.new_id(),
            uuid=self.new_uuid("credit-reception"),
            type="credit_reception",
            contact_uuid=contact.uuid,
            shop_uuid=original.shop_uuid,
            credits=-original.credits,
            created_at=self.now(),
            unit_value=-original.unit_value if original.unit_value is not None else None,
            unit_name=original.unit_name,
            reversal_of=original.uuid,
        )
        original.reversed_by = reversal.uuid
        self._book(contact, reversal)
        return reversal

    def _book(self, contact: Contact, transaction: Transaction) -> None:
        self.transactions.append(transaction)
        contact.balance += transaction.credits
        contact.updated_at = transaction.created_at

    def loyalty_transactions(
        self, contact_uuid: str | None, shop_uuid: str | None, kind: str | None
    ) -> list[Transaction]:
        if contact_uuid is not None:
            self.contact(contact_uuid)
        if shop_uuid is not None:
            self.shop(shop_uuid)
        wanted = _TRANSACTION_TYPES[kind] if kind else None
        found = [
            t
            for t in self.transactions
            if (contact_uuid is None or t.contact_uuid == contact_uuid)
            and (shop_uuid is None or t.shop_uuid == shop_uuid)
            and (wanted is None or t.type in wanted)
        ]
        return sorted(found, key=lambda t: (t.created_at, t.id), reverse=True)  # newest first

    # Rewards ------------------------------------------------------------------------------------

    def reward(self, reward_uuid: str) -> Reward:
        found = self.rewards.get(reward_uuid)
        if found is None:
            raise ApiError(6003)
        return found

    def list_rewards(self, shop_uuid: str | None, contact_uuid: str | None) -> list[Reward]:
        rewards = list(self.rewards.values())
        if shop_uuid is not None:
            self.shop(shop_uuid)
            rewards = [r for r in rewards if shop_uuid in r.shop_uuids]
        if contact_uuid is not None:
            balance = self.contact(contact_uuid).balance
            # "Only rewards this contact can claim": active, in stock and affordable.
            rewards = [r for r in rewards if r.is_active and r.stock != 0 and r.required_credits <= balance]
        return sorted(rewards, key=lambda r: (r.required_credits, r.id))

    def reward_reception(self, contact_uuid: str, reward_uuid: str, shop_uuid: str) -> Transaction:
        contact = self.contact(contact_uuid)
        shop = self.shop(shop_uuid)
        reward = self.reward(reward_uuid)
        if shop.uuid not in reward.shop_uuids:
            raise ApiError(6003, "Reward not found for this shop")
        if not reward.is_active:
            raise ApiError(1052)
        if reward.stock is not None and reward.stock <= 0:
            raise ApiError(1018)
        if contact.balance < reward.required_credits:
            raise ApiError(1017)
        now = self.now()
        digital = reward.reward_type == "DIGITAL"
        reception_uuid = self.new_uuid("reward-reception")
        reception = Transaction(
            id=self.new_id(),
            uuid=reception_uuid,
            type="digital_reward_reception" if digital else "reward_reception",
            contact_uuid=contact.uuid,
            shop_uuid=shop.uuid,
            credits=-reward.required_credits,
            created_at=now,
            reward_uuid=reward.uuid,
            expires_at=now + timedelta(days=reward.expiration_duration) if reward.expiration_duration else None,
            digital_reward_code=_code("BB5", reception_uuid) if digital else None,
        )
        if reward.stock is not None:
            reward.stock -= 1
        self._book(contact, reception)
        # Piggy documents no event for a reward reception: the balance changed (decision D64).
        self.webhooks.emit("contact_updated", contact_updated_data(contact, {"loyalty_balance": contact.balance}))
        return reception

    # Vouchers -----------------------------------------------------------------------------------

    def promotion(self, promotion_uuid: str) -> Promotion:
        found = self.promotions.get(promotion_uuid)
        if found is None:
            raise ApiError(80002)
        return found

    def voucher_status(self, voucher: Voucher) -> str:
        """The stored status, with time applied: a voucher past its dates reads as EXPIRED or INACTIVE."""
        if voucher.status != "ACTIVE":
            return voucher.status
        now = self.now()
        if voucher.expiration_date is not None and voucher.expiration_date < now:
            return "EXPIRED"
        if voucher.activation_date is not None and voucher.activation_date > now:
            return "INACTIVE"
        return "ACTIVE"

    def list_vouchers(self, contact_uuid: str | None, promotion_uuid: str | None, status: str | None) -> list[Voucher]:
        if contact_uuid is not None:
            self.contact(contact_uuid)
        if promotion_uuid is not None:
            self.promotion(promotion_uuid)
        return [
            v
            for v in self.vouchers
            if (contact_uuid is None or v.contact_uuid == contact_uuid)
            and (promotion_uuid is None or v.promotion_uuid == promotion_uuid)
            and (status is None or self.voucher_status(v) == status)
        ]

    def create_batch(
        self,
        promotion_uuid: str,
        quantity: int,
        contact_uuid: str | None,
        expiration_date: datetime | None,
        activation_date: datetime | None,
    ) -> VoucherBatch:
        promotion = self.promotion(promotion_uuid)
        if contact_uuid is not None:
            self.contact(contact_uuid)
        queued = sum(
            b.quantity for b in self.batches.values() if b.status == "PENDING" and b.promotion_uuid == promotion.uuid
        )
        existing = sum(1 for v in self.vouchers if v.promotion_uuid == promotion.uuid)
        if promotion.voucher_limit is not None and existing + queued + quantity > promotion.voucher_limit:
            raise ApiError(80008)
        if contact_uuid is not None and promotion.limit_per_contact is not None:
            owned = sum(
                1 for v in self.vouchers if v.promotion_uuid == promotion.uuid and v.contact_uuid == contact_uuid
            )
            if owned + quantity > promotion.limit_per_contact:
                raise ApiError(80008)
        batch = VoucherBatch(self.new_uuid("voucher-batch"), promotion.uuid, quantity, self.now())
        self.batches[batch.uuid] = batch

        def generate() -> None:
            now = self.now()
            activation = activation_date or now
            expiration = expiration_date or (
                now + timedelta(seconds=promotion.expiration_duration) if promotion.expiration_duration else None
            )
            prefix = "".join(ch for ch in promotion.name.upper() if ch.isalnum())[:7] or "VOUCHER"
            for _ in range(quantity):
                voucher_uuid = self.new_uuid("voucher")
                self.vouchers.append(
                    Voucher(
                        self.new_id(),
                        voucher_uuid,
                        _code(prefix, voucher_uuid),
                        promotion.uuid,
                        "ACTIVE",
                        activation,
                        expiration,
                        contact_uuid=contact_uuid,
                    )
                )
                batch.voucher_uuids.append(voucher_uuid)
            batch.status = "COMPLETED"  # decision D8: Piggy documents only PENDING

        self._schedule(generate)
        return batch

    def voucher_by_code(self, code: str) -> Voucher:
        found = next((v for v in self.vouchers if v.code.casefold() == code.casefold()), None)
        if found is None:
            raise ApiError(80004)
        return found

    def redeem(self, code: str, contact_uuid: str | None, shop_uuid: str | None) -> Voucher:
        voucher = self.voucher_by_code(code)
        if shop_uuid is not None:
            self.shop(shop_uuid)
        contact = self.contact(contact_uuid) if contact_uuid is not None else None
        status = self.voucher_status(voucher)
        refusal = {"REDEEMED": 80005, "EXPIRED": 80006, "DEACTIVATED": 80012, "INACTIVE": 80014, "LOCKED": 80017}
        if status in refusal:
            raise ApiError(refusal[status])
        if voucher.contact_uuid is None and contact is None:
            raise invalid("contact_uuid", "The contact uuid field is required when the voucher has no contact.")
        if voucher.contact_uuid is None and contact is not None:
            voucher.contact_uuid = contact.uuid
        voucher.status = "REDEEMED"
        voucher.redeemed_at = self.now()
        self.webhooks.emit("voucher_redeemed", voucher_redeemed_data(voucher))
        return voucher

    # Products and bookings ------------------------------------------------------------------------

    def create_products(self, items: Iterable[Mapping[str, Any]]) -> list[Product]:
        created = [
            Product(
                id=self.new_id(),
                uuid=self.new_uuid("product"),
                external_identifier=item["external_identifier"],
                name=item["name"],
                description=item.get("description"),
                categories=list(item.get("categories") or []),
            )
            for item in items
        ]
        self.products.extend(created)
        return created

    def booking(self, booking_uuid: str) -> Booking:
        found = self.bookings.get(booking_uuid)
        if found is None:
            raise ApiError(60013)  # decision D27: Piggy's generic "Model not found"
        return found

    def update_booking(self, booking_uuid: str, changes: Mapping[str, Any]) -> Booking:
        booking = self.booking(booking_uuid)
        starts = changes.get("starts_at", booking.starts_at)
        ends = changes.get("ends_at", booking.ends_at)
        if starts is not None and ends is not None and ends < starts:
            raise invalid("ends_at", "The ends at must be a date after starts at.")
        for name, value in changes.items():
            setattr(booking, name, value)
        return booking


def _code(prefix: str, seed: str) -> str:
    # Voucher and reward codes: readable, uppercase, derived from the uuid so they are stable per sandbox.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    digest = hashlib.sha256(seed.encode()).digest()
    return f"{prefix}-" + "".join(alphabet[b % len(alphabet)] for b in digest[:6])


def _value_problem(attribute: Attribute, value: Any) -> str | None:
    """Why `value` cannot be stored in `attribute`, or None. `None` always clears a value."""
    if value is None:
        return None
    kind, label = attribute.type, attribute.name
    allowed = {str(o.get("value")) for o in attribute.options}
    if kind == "boolean":
        return None if isinstance(value, bool) else f"The {label} must be true or false."
    if kind in ("number", "float"):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else f"The {label} must be a number."
    if kind in ("date", "birth_date", "date_time"):
        return None if isinstance(value, str) and parse_date(value) else f"The {label} is not a valid date."
    if kind == "select":
        return None if isinstance(value, str) and value in allowed else f"The selected {label} is invalid."
    if kind == "multi_select":
        ok = isinstance(value, list) and all(isinstance(v, str) and v in allowed for v in value)
        return None if ok else f"The selected {label} is invalid."
    if kind in ("text", "long_text", "rich_text", "phone", "email", "url", "color", "license_plate", "identifier"):
        return None if isinstance(value, str) else f"The {label} must be a string."
    return None
