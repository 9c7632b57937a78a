"""The sandbox's stored objects: plain mutable dataclasses, rendered to Piggy's JSON by `shapes.py`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Shop:
    id: int
    uuid: str
    name: str
    type: str  # "physical" or "web", as Piggy lists them
    reference: str
    address: dict[str, str | None]


@dataclass
class Unit:
    id: int
    name: str
    label: str
    prefix: str | None
    is_default: bool


@dataclass
class Attribute:
    id: int
    name: str
    label: str
    type: str
    description: str | None = None
    options: list[dict[str, Any]] = field(default_factory=list)
    is_piggy_defined: bool = False
    is_soft_read_only: bool = False
    is_hard_read_only: bool = False

    @property
    def read_only(self) -> bool:
        return self.is_soft_read_only or self.is_hard_read_only


@dataclass
class Contact:
    id: int
    uuid: str
    email: str
    created_at: datetime
    updated_at: datetime
    balance: int = 0
    balance_id: int = 0
    is_anonymous: bool = False
    status: str = "ACTIVE"
    prepaid_balance_in_cents: int = 0
    subscribed: bool = False
    values: dict[str, Any] = field(default_factory=dict)  # writable attribute values, by attribute name


@dataclass
class Transaction:
    """One loyalty transaction: a credit reception or a (digital) reward reception."""

    id: int
    uuid: str
    type: str  # credit_reception, reward_reception or digital_reward_reception
    contact_uuid: str
    shop_uuid: str
    credits: int  # signed: reward receptions are negative
    created_at: datetime
    unit_value: float | None = None
    unit_name: str | None = None
    pos_transaction_uuid: str | None = None
    reversed_by: str | None = None  # uuid of the reception that reversed this one
    reversal_of: str | None = None  # set on a reversal: the reception it reverses
    channel: str = "api"
    reward_uuid: str | None = None
    expires_at: datetime | None = None
    digital_reward_code: str | None = None


@dataclass
class Reward:
    id: int
    uuid: str
    title: str
    description: str
    required_credits: int
    reward_type: str  # PHYSICAL or DIGITAL
    shop_uuids: list[str]
    is_active: bool = True
    stock: int | None = None  # None: unlimited
    cost_price: int | None = None  # cents
    expiration_duration: int | None = None  # days the reception stays collectable
    media_url: str | None = None


@dataclass
class Promotion:
    id: int
    uuid: str
    name: str
    description: str
    voucher_limit: int | None
    limit_per_contact: int | None
    expiration_duration: int | None  # seconds
    type: str = "SINGLE_USE"
    redemptions_per_voucher: int = 1


@dataclass
class Voucher:
    id: int
    uuid: str
    code: str
    promotion_uuid: str
    status: str
    activation_date: datetime | None
    expiration_date: datetime | None
    contact_uuid: str | None = None
    redeemed_at: datetime | None = None
    name: str | None = None
    description: str | None = None


@dataclass
class Form:
    uuid: str
    name: str
    status: str  # PUBLISHED, DRAFT, BIN
    type: str  # PUBLIC, PRIVATE
    url: str


@dataclass
class Perk:
    uuid: str
    name: str
    label: str
    data_type: str  # single_select or boolean
    options: list[dict[str, Any]]


@dataclass
class Product:
    id: int
    uuid: str
    external_identifier: str
    name: str
    description: str | None = None
    categories: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Booking:
    id: int
    uuid: str
    contact_uuid: str
    shop_uuid: str
    created_at: datetime
    external_id: str | None = None
    source: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    checked_in_at: datetime | None = None
    number_of_people: int | None = None
    company_name: str | None = None
    status: str | None = None
    prepaid_amount: int | None = None


@dataclass
class Tier:
    uuid: str
    name: str
    description: str
    position: int
    min_credits: int  # lifetime credits received needed to reach it


# Orders --------------------------------------------------------------------------------------------


@dataclass
class Line:
    external_identifier: str
    quantity: int
    total_amount: int  # cents


@dataclass
class Order:
    uuid: str
    external_identifier: str
    contact_uuid: str
    shop_uuid: str
    status: str
    payment_status: str
    total_order_amount: int
    lines: dict[str, Line]
    points: int
    points_returned: int = 0
    quantities_returned: dict[str, int] = field(default_factory=dict)


@dataclass
class OrderBook:
    """The sandbox's orders by external identifier, and the external identifiers of its returns."""

    orders: dict[str, Order] = field(default_factory=dict)
    returns: set[str] = field(default_factory=set)
