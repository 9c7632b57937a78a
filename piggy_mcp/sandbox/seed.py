"""The sandbox's shop, the same on every start: Bonte Boon, a small coffee roaster in Utrecht.

Every uuid is derived from a readable name (uuid5 in a fixed namespace), every date is fixed, and `SEED`
names the objects tests and demos refer to, e.g. `SEED.contacts.sanne_store`.

The story worth knowing: Sanne de Vries has two profiles, one from the store's register
(`sanne_store`) and one from the web shop (`sanne_online`), with different emails, each holding credits
and transactions: the duplicates to merge. `anonymous` is a loyalty card used in store that nobody has
claimed yet (a fictional email, `current_values.is_anonymous` true).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from piggy_mcp.sandbox.records import (
    Attribute,
    Booking,
    Contact,
    Form,
    Perk,
    Product,
    Promotion,
    Reward,
    Shop,
    Tier,
    Transaction,
    Unit,
    Voucher,
)

NAMESPACE = uuid.UUID("6b1f3c2e-0d4a-4e8b-9a51-2f7c8d9e0a1b")

# "Now" when the sandbox starts; its clock runs on from here (see state.SandboxClock).
EPOCH = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)


def sandbox_uuid(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass(frozen=True)
class _Shops:
    store: str = sandbox_uuid("shop:store")
    web: str = sandbox_uuid("shop:web")


@dataclass(frozen=True)
class _Contacts:
    sanne_store: str = sandbox_uuid("contact:sanne_store")
    sanne_online: str = sandbox_uuid("contact:sanne_online")
    anonymous: str = sandbox_uuid("contact:anonymous")
    daan: str = sandbox_uuid("contact:daan")
    emma: str = sandbox_uuid("contact:emma")
    lucas: str = sandbox_uuid("contact:lucas")
    julia: str = sandbox_uuid("contact:julia")
    noah: str = sandbox_uuid("contact:noah")
    fleur: str = sandbox_uuid("contact:fleur")
    milan: str = sandbox_uuid("contact:milan")


@dataclass(frozen=True)
class _Emails:
    sanne_store: str = "sanne.devries@example.com"
    sanne_online: str = "s.devries82@example.net"
    anonymous: str = "anonymous-2c91f7@anonymous.bonteboon.example"
    daan: str = "daan.jansen@example.org"
    emma: str = "emma.bakker@example.com"
    lucas: str = "lucas.visser@example.net"
    julia: str = "julia.smit@example.org"
    noah: str = "noah.meijer@example.com"
    fleur: str = "fleur.bos@example.net"
    milan: str = "milan.mulder@example.org"


@dataclass(frozen=True)
class _Rewards:
    espresso: str = sandbox_uuid("reward:espresso")  # 50, store
    cappuccino: str = sandbox_uuid("reward:cappuccino")  # 90, store
    beans_bag: str = sandbox_uuid("reward:beans_bag")  # 250, both shops, stock 12
    web_discount: str = sandbox_uuid("reward:web_discount")  # 150, DIGITAL, web shop
    workshop: str = sandbox_uuid("reward:workshop")  # 1000, sold out (stock 0)
    mug: str = sandbox_uuid("reward:mug")  # 400, inactive


@dataclass(frozen=True)
class _Promotions:
    welcome: str = sandbox_uuid("promotion:welcome")  # limit 1000, 1 per contact
    beans10: str = sandbox_uuid("promotion:beans10")  # limit 500, no per-contact limit


@dataclass(frozen=True)
class _Vouchers:
    active: str = sandbox_uuid("voucher:active")
    redeemed: str = sandbox_uuid("voucher:redeemed")
    expired: str = sandbox_uuid("voucher:expired")
    unassigned: str = sandbox_uuid("voucher:unassigned")  # no contact: redeeming needs contact_uuid


@dataclass(frozen=True)
class _Codes:
    active: str = "WELCOME-7Q4K2M"
    redeemed: str = "WELCOME-9XPD4R"
    expired: str = "WELCOME-3HNA8T"
    unassigned: str = "BEANS10-K8W2ZL"


@dataclass(frozen=True)
class _Forms:
    join: str = sandbox_uuid("form:join")  # PUBLISHED, PUBLIC
    survey: str = sandbox_uuid("form:survey")  # PUBLISHED, PRIVATE
    winter: str = sandbox_uuid("form:winter")  # DRAFT, PUBLIC
    old_signup: str = sandbox_uuid("form:old_signup")  # BIN, PUBLIC


@dataclass(frozen=True)
class _Perks:
    free_refill: str = sandbox_uuid("perk:free_refill")
    birthday_treat: str = sandbox_uuid("perk:birthday_treat")


@dataclass(frozen=True)
class _Products:
    espresso_beans: str = sandbox_uuid("product:espresso_beans")
    filter_beans: str = sandbox_uuid("product:filter_beans")
    mug: str = sandbox_uuid("product:mug")
    dripper: str = sandbox_uuid("product:dripper")
    cold_brew: str = sandbox_uuid("product:cold_brew")


@dataclass(frozen=True)
class _Bookings:
    cupping: str = sandbox_uuid("booking:cupping")


@dataclass(frozen=True)
class _Giftcards:
    program: str = sandbox_uuid("giftcard-program:bonte-boon")
    card: str = sandbox_uuid("giftcard:1")
    card_hash: str = "BB0GIFT2500CARD1"  # the code on the seeded card, holding 2500 cents


# Emma paid 25 euros into her prepaid balance at the store.
PREPAID_SEED = {"emma": 2500}


@dataclass(frozen=True)
class Seed:
    shops: _Shops = field(default_factory=_Shops)
    contacts: _Contacts = field(default_factory=_Contacts)
    emails: _Emails = field(default_factory=_Emails)
    rewards: _Rewards = field(default_factory=_Rewards)
    promotions: _Promotions = field(default_factory=_Promotions)
    vouchers: _Vouchers = field(default_factory=_Vouchers)
    codes: _Codes = field(default_factory=_Codes)
    forms: _Forms = field(default_factory=_Forms)
    perks: _Perks = field(default_factory=_Perks)
    products: _Products = field(default_factory=_Products)
    bookings: _Bookings = field(default_factory=_Bookings)
    giftcards: _Giftcards = field(default_factory=_Giftcards)
    subscription_type: str = sandbox_uuid("subscription-type:newsletter")
    custom_attribute: str = "favourite_brew"  # the one custom contact attribute (a select)


SEED = Seed()

LOYALTY_PROGRAM: dict[str, Any] = {
    "id": 1,
    "name": "Bonte Boon Beans",
    "max_amount": 1000,  # most credits one reception may award (code 1015 above it)
    "custom_credit_name": "credits",  # what previews and the demo call them; tests set their own name
}


@dataclass
class SeedData:
    """Fresh, mutable copies of everything the sandbox starts with."""

    shops: list[Shop]
    units: list[Unit]
    attributes: list[Attribute]
    contacts: list[Contact]
    transactions: list[Transaction]
    rewards: list[Reward]
    promotions: list[Promotion]
    vouchers: list[Voucher]
    forms: list[Form]
    perks: list[Perk]
    products: list[Product]
    bookings: list[Booking]
    tiers: list[Tier]


def _shops() -> list[Shop]:
    s = SEED.shops
    store_address: dict[str, str | None] = {
        "street": "Oudegracht",
        "housenumber": "158",
        "postalcode": "3511 AZ",
        "city": "Utrecht",
        "state": "Utrecht",
        "country": "NL",
    }
    return [
        Shop(1, s.store, "Bonte Boon Oudegracht", "physical", "BB-UTR-01", store_address),
        Shop(2, s.web, "Bonte Boon Webshop", "web", "BB-WEB", dict.fromkeys(store_address)),
    ]


def _attributes() -> list[Attribute]:
    def system(i: int, name: str, label: str, type_: str, *, soft: bool = False, hard: bool = False) -> Attribute:
        return Attribute(i, name, label, type_, is_piggy_defined=True, is_soft_read_only=soft, is_hard_read_only=hard)

    brew_options = [
        {"value": "espresso", "label": "Espresso", "description": None, "media": None},
        {"value": "filter", "label": "Filter", "description": None, "media": None},
        {"value": "cold_brew", "label": "Cold brew", "description": None, "media": None},
        {"value": "tea", "label": "Tea, actually", "description": None, "media": None},
    ]
    return [
        system(1, "firstname", "First name", "text"),
        system(2, "lastname", "Last name", "text"),
        system(3, "email", "Email", "email", soft=True),  # changed through claim, not through an update
        system(4, "phonenumber", "Phone number", "phone"),
        system(5, "birthdate", "Birth date", "birth_date"),
        system(6, "address", "Address", "text"),
        system(7, "locale", "Language", "text"),
        system(8, "channel", "Channel", "text", hard=True),
        system(9, "avatar", "Avatar", "media_upload"),
        system(10, "loyalty_balance", "Loyalty balance", "number", hard=True),
        system(11, "previous_loyalty_balance", "Previous loyalty balance", "number", hard=True),
        system(12, "loyalty_number_of_transactions", "Number of loyalty transactions", "number", hard=True),
        system(13, "loyalty_first_transaction_date", "First loyalty transaction", "date_time", hard=True),
        system(14, "loyalty_last_transaction_date", "Last loyalty transaction", "date_time", hard=True),
        Attribute(
            15,
            SEED.custom_attribute,
            "Favourite brew",
            "select",
            description="How the member likes their coffee; the baristas use it for birthday treats.",
            options=brew_options,
        ),
    ]


# (key, first, last, created, channel, locale, birthdate, favourite brew, newsletter)
_PEOPLE: list[tuple[str, str | None, str | None, str, str, str, str | None, str | None, bool]] = [
    ("sanne_store", "Sanne", "de Vries", "2024-03-09T10:14:00", "in_store", "nl_NL", "1982-07-21", "filter", False),
    ("sanne_online", "Sanne", "de Vries", "2024-11-02T20:41:00", "webshop", "nl_NL", None, None, True),
    ("anonymous", None, None, "2025-05-28T08:02:00", "in_store", "nl_NL", None, None, False),
    ("daan", "Daan", "Jansen", "2023-10-17T09:30:00", "in_store", "nl_NL", "1990-02-03", "espresso", True),
    ("emma", "Emma", "Bakker", "2025-04-20T13:05:00", "webshop", "en_GB", None, "cold_brew", True),
    ("lucas", "Lucas", "Visser", "2025-05-30T16:47:00", "webshop", "nl_NL", None, None, False),
    ("julia", "Julia", "Smit", "2022-09-01T08:12:00", "in_store", "nl_NL", "1975-12-09", "espresso", True),
    ("noah", "Noah", "Meijer", "2025-03-02T11:22:00", "in_store", "en_GB", None, "tea", False),
    ("fleur", "Fleur", "Bos", "2024-06-15T15:58:00", "webshop", "nl_NL", "1996-05-30", "filter", True),
    ("milan", "Milan", "Mulder", "2025-05-18T12:00:00", "in_store", "nl_NL", None, None, False),
]

# (contact key, shop, when, euros spent, reward): credits = floor(euros); a reward reception costs its credits.
_HISTORY: list[tuple[str, str, str, float | None, str | None]] = [
    ("sanne_store", "store", "2025-02-14T09:12:32", 42.50, None),
    ("sanne_store", "store", "2025-03-22T10:05:10", 61.10, None),
    ("sanne_store", "store", "2025-04-30T08:47:55", 77.95, None),
    ("sanne_online", "web", "2025-01-18T21:03:40", 54.20, None),
    ("sanne_online", "web", "2025-05-11T19:26:02", 41.00, None),
    ("anonymous", "store", "2025-05-28T08:02:00", 23.80, None),
    ("daan", "store", "2025-01-09T07:58:12", 212.40, None),
    ("daan", "store", "2025-03-03T08:15:00", None, "espresso"),
    ("daan", "store", "2025-04-14T07:49:30", 150.00, None),
    ("emma", "web", "2025-04-20T13:07:44", 48.90, None),
    ("julia", "store", "2024-12-20T10:30:00", 600.00, None),
    ("julia", "store", "2025-02-01T09:00:00", None, "cappuccino"),
    ("julia", "store", "2025-05-02T09:41:17", 740.35, None),
    ("julia", "store", "2025-05-20T09:44:03", None, "espresso"),
    ("noah", "store", "2025-03-02T11:25:00", 75.60, None),
    ("fleur", "web", "2025-02-27T22:10:09", 260.00, None),
    ("milan", "store", "2025-05-18T12:03:00", 15.25, None),
]


def _rewards() -> list[Reward]:
    r, s = SEED.rewards, SEED.shops
    return [
        Reward(1, r.espresso, "Free espresso", "A double espresso from the bar, any time.", 50, "PHYSICAL", [s.store]),
        Reward(2, r.cappuccino, "Cappuccino on the house", "Any size, any milk.", 90, "PHYSICAL", [s.store]),
        Reward(
            3,
            r.beans_bag,
            "Bag of house blend (250 g)",
            "Our Bonte Boon house blend, whole beans.",
            250,
            "PHYSICAL",
            [s.store, s.web],
            stock=12,
            cost_price=420,
            expiration_duration=30,
        ),
        Reward(4, r.web_discount, "€5 webshop discount", "A one-time code for the webshop.", 150, "DIGITAL", [s.web]),
        Reward(
            5,
            r.workshop,
            "Barista workshop",
            "Two hours behind the bar with our head barista.",
            1000,
            "PHYSICAL",
            [s.store],
            stock=0,
            cost_price=3500,
        ),
        Reward(6, r.mug, "Bonte Boon mug", "Stoneware, made in Utrecht.", 400, "PHYSICAL", [s.store], is_active=False),
    ]


def _vouchers() -> list[Voucher]:
    v, c, p, codes = SEED.vouchers, SEED.contacts, SEED.promotions, SEED.codes
    return [
        Voucher(
            1,
            v.active,
            codes.active,
            p.welcome,
            "ACTIVE",
            _at("2025-04-20T13:07:44"),
            _at("2025-12-31T23:59:59"),
            contact_uuid=c.emma,
        ),
        Voucher(
            2,
            v.redeemed,
            codes.redeemed,
            p.welcome,
            "REDEEMED",
            _at("2025-03-01T00:00:00"),
            _at("2025-12-31T23:59:59"),
            contact_uuid=c.daan,
            redeemed_at=_at("2025-04-03T08:21:09"),
        ),
        Voucher(
            3,
            v.expired,
            codes.expired,
            p.welcome,
            "EXPIRED",
            _at("2025-03-02T11:25:00"),
            _at("2025-05-01T00:00:00"),
            contact_uuid=c.noah,
        ),
        Voucher(
            4,
            v.unassigned,
            codes.unassigned,
            p.beans10,
            "ACTIVE",
            _at("2025-05-01T00:00:00"),
            _at("2025-09-30T23:59:59"),
        ),
    ]


def build() -> SeedData:
    """A fresh copy of the seeded shop (objects are mutable, so every sandbox gets its own)."""
    s, c = SEED.shops, SEED.contacts
    contacts: list[Contact] = []
    for i, (key, first, last, joined, channel, locale, birthdate, brew, newsletter) in enumerate(_PEOPLE, 1):
        values: dict[str, Any] = {"firstname": first, "lastname": last, "channel": channel, "locale": locale}
        if birthdate:
            values["birthdate"] = birthdate
        if brew:
            values[SEED.custom_attribute] = brew
        contacts.append(
            Contact(
                id=1000 + i,
                uuid=getattr(c, key),
                email=getattr(SEED.emails, key),
                created_at=_at(joined),
                updated_at=_at(joined),
                balance_id=2000 + i,
                is_anonymous=key == "anonymous",
                subscribed=newsletter,
                values=values,
            )
        )
    by_key = {key: contacts[i] for i, (key, *_rest) in enumerate(_PEOPLE)}
    for key, cents in PREPAID_SEED.items():
        by_key[key].prepaid_balance_in_cents = cents

    rewards = _rewards()
    reward_by_key = {name: getattr(SEED.rewards, name) for name in vars(SEED.rewards)}
    required = {r.uuid: r.required_credits for r in rewards}
    transactions: list[Transaction] = []
    for i, (key, shop, when, euros, reward) in enumerate(_HISTORY, 1):
        contact = by_key[key]
        shop_uuid = getattr(s, shop)
        created = _at(when)
        channel = "register" if shop == "store" else "webshop"
        if reward is None:
            assert euros is not None
            credits = int(euros)
            transactions.append(
                Transaction(
                    i,
                    sandbox_uuid(f"transaction:{i}"),
                    "credit_reception",
                    contact.uuid,
                    shop_uuid,
                    credits,
                    created,
                    unit_value=euros,
                    unit_name="purchase_amount",
                    channel=channel,
                )
            )
        else:
            reward_uuid = reward_by_key[reward]
            credits = -required[reward_uuid]
            transactions.append(
                Transaction(
                    i,
                    sandbox_uuid(f"transaction:{i}"),
                    "reward_reception",
                    contact.uuid,
                    shop_uuid,
                    credits,
                    created,
                    reward_uuid=reward_uuid,
                    channel=channel,
                )
            )
        contact.balance += credits  # balances are the sum of the history, by construction

    f, pk, pr = SEED.forms, SEED.perks, SEED.products
    forms_base = "https://forms.bonteboon.example"
    beans = {"uuid": sandbox_uuid("category:beans"), "name": "Coffee beans"}
    gear = {"uuid": sandbox_uuid("category:gear"), "name": "Brewing gear"}
    return SeedData(
        shops=_shops(),
        units=[Unit(1, "purchase_amount", "Purchase amount", "€", True)],
        attributes=_attributes(),
        contacts=contacts,
        transactions=transactions,
        rewards=rewards,
        promotions=[
            Promotion(
                1,
                SEED.promotions.welcome,
                "Welcome cookie",
                "A free cookie with your first coffee.",
                voucher_limit=1000,
                limit_per_contact=1,
                expiration_duration=30 * 86400,
            ),
            Promotion(
                2,
                SEED.promotions.beans10,
                "10% off a bag of beans",
                "Ten percent off any 250 g or 1 kg bag.",
                voucher_limit=500,
                limit_per_contact=None,
                expiration_duration=60 * 86400,
            ),
        ],
        vouchers=_vouchers(),
        forms=[
            Form(f.join, "Join Bonte Boon Beans", "PUBLISHED", "PUBLIC", f"{forms_base}/join"),
            Form(f.survey, "Coffee taste survey", "PUBLISHED", "PRIVATE", f"{forms_base}/taste-survey"),
            Form(f.winter, "Winter menu feedback", "DRAFT", "PUBLIC", f"{forms_base}/winter-menu"),
            Form(f.old_signup, "Summer 2024 sign-up", "BIN", "PUBLIC", f"{forms_base}/summer-2024"),
        ],
        perks=[
            Perk(
                pk.free_refill,
                "free_refill",
                "Free filter refill",
                "boolean",
                [
                    {"label": "Yes", "value": True, "default": False},
                    {"label": "No", "value": False, "default": True},
                ],
            ),
            Perk(
                pk.birthday_treat,
                "birthday_treat",
                "Birthday treat",
                "single_select",
                [
                    {"label": "None", "value": "none", "default": True},
                    {"label": "Cookie", "value": "cookie", "default": False},
                    {"label": "Slice of cake", "value": "cake", "default": False},
                ],
            ),
        ],
        products=[
            Product(
                1,
                pr.espresso_beans,
                "SKU-ESP-250",
                "House blend espresso beans 250 g",
                "Chocolate, hazelnut, a little cherry.",
                [beans],
            ),
            Product(
                2,
                pr.filter_beans,
                "SKU-FLT-250",
                "Ethiopia Yirgacheffe filter beans 250 g",
                "Jasmine and lemon.",
                [beans],
            ),
            Product(3, pr.mug, "SKU-MUG-01", "Bonte Boon stoneware mug", None, [gear]),
            Product(4, pr.dripper, "SKU-V60-02", "Hario V60 dripper, size 02", None, [gear]),
            Product(5, pr.cold_brew, "SKU-CB-1L", "Cold brew concentrate 1 L", "Dilute one to one.", []),
        ],
        bookings=[
            Booking(
                1,
                SEED.bookings.cupping,
                c.julia,
                s.store,
                _at("2025-05-26T14:03:00"),
                external_id="RES-2025-0612",
                source="website",
                starts_at=_at("2025-06-14T15:00:00"),
                ends_at=_at("2025-06-14T16:30:00"),
                number_of_people=4,
                status="created",
            )
        ],
        tiers=[
            Tier(sandbox_uuid("tier:bronze"), "Bronze", "Welcome to Bonte Boon Beans.", 1, 0),
            Tier(sandbox_uuid("tier:silver"), "Silver", "Free filter refills.", 2, 250),
            Tier(sandbox_uuid("tier:gold"), "Gold", "Free refills and a birthday treat.", 3, 1000),
        ],
    )
