"""What Piggy returns, as typed records: the only place that knows the shapes of Piggy's answers.

Each record keeps what piggy-mcp uses and ignores the rest. Fields Piggy left without a value are left out
when a record is serialized: they would cost a model tokens and say nothing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    WithJsonSchema,
    model_serializer,
)

JSON = dict[str, Any]

# A uuid as Piggy gives them out: 36 characters, hex digits in groups of 8-4-4-4-12.
UUID_FORM = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and UUID_FORM.fullmatch(value) is not None


class Record(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @model_serializer(mode="wrap")
    def _without_nulls(self, serialize: SerializerFunctionWrapHandler) -> Any:
        data = serialize(self)
        return {key: value for key, value in data.items() if value is not None} if isinstance(data, dict) else data


R = TypeVar("R", bound=Record)


def mapping(value: Any) -> Mapping[str, Any]:
    """`value` if Piggy answered with an object there, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def _balance_of(raw: Mapping[str, Any]) -> int | None:
    balance = mapping(raw.get("credit_balance")).get("balance")
    return balance if isinstance(balance, int) else None


def _int(value: Any) -> int | None:
    # Piggy sends some counts as strings (e.g. per_page "30").
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# Contacts -----------------------------------------------------------------------------------------

# `current_values` mixes profile fields with system values and portal credentials (login links and codes):
# only profile fields are kept (decision D13). A denylist, since custom field names are the account's own; the
# secret hints catch credentials Piggy may add later.
_SYSTEM_VALUES = frozenset(
    {
        "uuid", "email", "status", "is_anonymous", "created_at", "updated_at", "prepaid_balance",
        "default_contact_identifier", "add_to_wallet", "subscription_preferences_url",
    }
)  # fmt: skip
_SYSTEM_PREFIXES = ("loyalty_", "previous_loyalty_", "double_opt_in_", "custom_app_")
_SECRET_HINTS = ("login", "token", "secret", "password")


def _is_profile_value(name: str) -> bool:
    return not (
        name in _SYSTEM_VALUES or name.startswith(_SYSTEM_PREFIXES) or any(hint in name for hint in _SECRET_HINTS)
    )


# One field of a contact's profile; results carry a list of these, not a map, since strict function calling has
# no free-form maps. Values of composite types (a date range, an upload) are given as their JSON text. The schema
# advertises any value: a list of types is again a form strict function calling refuses. (Comments, not a
# docstring, which would be sent in every output schema.)
class ProfileValue(Record):
    name: str
    value: Annotated[str | int | float | bool | list[str], WithJsonSchema({})]

    @classmethod
    def of(cls, name: str, value: Any) -> ProfileValue:
        plain = isinstance(value, str | int | float | bool) or (
            isinstance(value, list) and all(isinstance(item, str) for item in value)
        )
        return cls(name=name, value=value if plain else json.dumps(value, ensure_ascii=False))


class Contact(Record):
    uuid: str
    email: str | None = None
    credit_balance: int | None = None
    is_anonymous: bool | None = None
    tier: str | None = None
    attributes: list[ProfileValue] = Field(default_factory=list)

    @classmethod
    def from_piggy(cls, raw: Mapping[str, Any]) -> Contact:
        values = mapping(raw.get("current_values"))
        balance = _balance_of(raw)
        # The balance object is the documented source; current_values repeats it on some answers (decision D14).
        if balance is None and isinstance(values.get("loyalty_balance"), int):
            balance = values["loyalty_balance"]
        return cls(
            uuid=raw["uuid"],
            email=raw.get("email"),
            credit_balance=balance,
            is_anonymous=values.get("is_anonymous"),
            tier=mapping(raw.get("tier")).get("name"),
            attributes=[ProfileValue.of(k, v) for k, v in values.items() if v is not None and _is_profile_value(k)],
        )


class VerifiedContact(Record):
    uuid: str


# The answer to a contact create: only its uuid (§7.4).
class NewContact(Record):
    uuid: str


# A contact in a list: who, since when, and its balance; profile fields are left to get_contact.
class ListedContact(Record):
    uuid: str
    email: str | None = None
    is_anonymous: bool | None = None
    credit_balance: int | None = None
    created_at: str | None = None

    @classmethod
    def from_piggy(cls, raw: Mapping[str, Any]) -> JSON:
        """The fields of a listed contact, as `Page.from_piggy` validates them."""
        values = mapping(raw.get("current_values"))
        balance = _balance_of(raw)
        return {
            "uuid": raw["uuid"],
            "email": raw.get("email"),
            "is_anonymous": values.get("is_anonymous"),
            "credit_balance": balance if balance is not None else values.get("loyalty_balance"),
            "created_at": values.get("created_at") or raw.get("created_at"),
        }


# What deleting a contact loses: its credits and prepaid balance, both embedded in the Contact object (§2.8).
class ContactStake(Record):
    uuid: str
    email: str | None = None
    credit_balance: int = 0
    prepaid_balance_in_cents: int = 0

    @classmethod
    def from_piggy(cls, raw: Mapping[str, Any]) -> ContactStake:
        values = mapping(raw.get("current_values"))
        prepaid = mapping(raw.get("prepaid_balance")).get("balance_in_cents", values.get("prepaid_balance"))
        return cls(
            uuid=raw["uuid"],
            email=raw.get("email"),
            credit_balance=_balance_of(raw) or values.get("loyalty_balance") or 0,
            prepaid_balance_in_cents=prepaid if isinstance(prepaid, int) else 0,
        )


def verification_message(data: Any) -> str | None:
    """Piggy's words about the verification email it sent, if it gave any."""
    message = mapping(data).get("message")
    return str(message) if message else None


def auth_token(data: Any) -> str:
    # The docs wrap the token as {"auth_token": ...}; the PHP SDK reads a bare string (decision D2).
    token = mapping(data).get("auth_token") if isinstance(data, Mapping) else data
    if not isinstance(token, str):
        raise ValueError("no auth token in the answer")
    return token


class AttributeOption(Record):
    value: Any = None
    label: str | None = None


# Built-in system fields, treated as read-only even where Piggy's flags are missing (decision D15).
_SYSTEM_ATTRIBUTES = frozenset({"uuid", "age", "created_at", "updated_at"})


class Attribute(Record):
    name: str
    label: str | None = None
    type: str | None = None
    description: str | None = None
    options: list[AttributeOption] | None = None
    writable: bool

    @classmethod
    def from_piggy(cls, raw: Mapping[str, Any]) -> Attribute:
        name = raw["name"]
        system = name in _SYSTEM_ATTRIBUTES or name.startswith(("loyalty_", "previous_loyalty_"))
        writable = not (system or raw.get("is_soft_read_only") or raw.get("is_hard_read_only"))
        return cls.model_validate({**raw, "options": raw.get("options") or None, "writable": writable})

    def stored_form(self, value: str | Sequence[str]) -> Any:
        """`value`, as a model gives it (text, or a list for multi_select), in the form Piggy stores for this
        attribute's type (decision D29). A ValueError says, in a sentence, why the value does not fit."""
        if self.type == "multi_select":
            values = [value] if isinstance(value, str) else list(value)
            self._check_options(values)
            return values
        if not isinstance(value, str):
            raise ValueError(f"{self.name} takes one value, not a list")
        if self.type == "select":
            self._check_options([value])
        elif self.type in ("number", "float"):
            return _number(self.name, value)
        elif self.type == "boolean":
            if value.lower() not in ("true", "false"):
                raise ValueError(f"{self.name} is a yes/no field: give true or false")
            return value.lower() == "true"
        return value

    def _check_options(self, values: list[str]) -> None:
        allowed = [str(option.value) for option in self.options or [] if option.value is not None]
        wrong = [value for value in values if allowed and value not in allowed]
        if wrong:
            raise ValueError(f"{self.name} takes only its option values ({', '.join(allowed)}), not {wrong[0]!r}")


def _number(name: str, value: str) -> int | float:
    try:
        return int(value)
    except ValueError:
        pass
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ValueError(f"{name} is a number field: give a number such as 42 or 4.5, not {value!r}")
    return number


# Loyalty ------------------------------------------------------------------------------------------


class CreditBalance(Record):
    balance: int

    @classmethod
    def of(cls, data: Any) -> int:
        """The balance in a credit-balance answer."""
        return cls.model_validate(data).balance


class Shop(Record):
    uuid: str
    name: str | None = None
    type: str | None = None
    reference: str | None = None


class CreditReception(Record):
    uuid: str
    credits: int
    balance_after: int | None = None

    @classmethod
    def from_piggy(cls, raw: Mapping[str, Any]) -> CreditReception:
        return cls.model_validate({**raw, "balance_after": _balance_of(mapping(raw.get("contact")))})


class Reversal(Record):
    uuid: str | None = None
    credits: int | None = None
    balance_after: int | None = None


class LoyaltyTransaction(Record):
    type: str | None = None
    uuid: str
    credits: int | None = None
    created_at: str | None = None
    unit_value: float | None = None
    title: str | None = None


# Rewards ------------------------------------------------------------------------------------------


class Reward(Record):
    uuid: str
    title: str | None = None
    description: str | None = None
    required_credits: int | None = None
    reward_type: str | None = None
    is_active: bool | None = None
    stock: int | None = None


class RewardReception(Record):
    uuid: str | None = None
    credits: int | None = None
    balance_after: int | None = None
    expires_at: str | None = None
    digital_reward_code: str | None = None


def after_write(model: type[R], data: Any) -> R:  # decision D23
    """The answer to a write Piggy accepted, shaped without ever failing: the write has been applied, so an
    answer in an unexpected form must not read as a failure that the model would repeat."""
    raw = mapping(data)
    try:
        return model.model_validate({**raw, "balance_after": _balance_of(mapping(raw.get("contact")))})
    except ValidationError:
        return model.model_validate({"uuid": raw.get("uuid")} if isinstance(raw.get("uuid"), str) else {})


# Vouchers -----------------------------------------------------------------------------------------


class Promotion(Record):
    uuid: str
    name: str | None = None
    description: str | None = None
    type: str | None = None
    voucher_limit: int | None = None
    limit_per_contact: int | None = None
    expiration_duration: int | None = None


class Voucher(Record):
    code: str | None = None
    status: str | None = None
    name: str | None = None
    description: str | None = None
    redeemed_at: str | None = None
    activation_date: str | None = None
    expiration_date: str | None = None
    promotion_uuid: str | None = None
    promotion_name: str | None = None
    contact_uuid: str | None = None

    @classmethod
    def from_piggy(cls, raw: Mapping[str, Any]) -> Voucher:
        promotion, contact = mapping(raw.get("promotion")), mapping(raw.get("contact"))
        return cls.model_validate(
            {
                **raw,
                "promotion_uuid": promotion.get("uuid"),
                "promotion_name": promotion.get("name"),
                "contact_uuid": contact.get("uuid"),
            }
        )

    @classmethod
    def redeemed(cls, data: Any, code: str) -> Voucher:
        """The answer to a redemption, whose shape is undocumented (decision D5): its text fields if it has any,
        and the code redeemed, never a failure after Piggy accepted the redemption."""
        fields = {k: v for k, v in mapping(data).items() if isinstance(v, str)}
        return cls.model_validate({**fields, "code": fields.get("code") or code})


class VoucherBatch(Record):
    uuid: str
    status: str


# Catalog ------------------------------------------------------------------------------------------


# Forms and perks are kept without their uuid: no tool takes one.
class Form(Record):
    name: str
    status: str | None = None
    type: str | None = None
    url: str | None = None


class PerkOption(Record):
    label: str
    value: Any = None
    default: bool | None = None


class Perk(Record):
    name: str
    label: str | None = None
    data_type: str | None = None
    options: list[PerkOption] | None = None


class Product(Record):
    uuid: str | None = None
    external_identifier: str
    created: bool


# What Piggy holds after an update: the times (the other fields echo the caller's own values).
class Booking(Record):
    uuid: str
    starts_at: str | None = None
    ends_at: str | None = None
    checked_in_at: str | None = None


# Pages --------------------------------------------------------------------------------------------


class Page(BaseModel, Generic[R]):
    """One page of a list, and where the next one is."""

    items: list[R]
    total: int | None = None
    has_more: bool
    next_page: int | None = None

    @classmethod
    def from_piggy(cls, item_type: type[R], data: Any, meta: Any, *, page: int | None, limit: int) -> Page[R]:
        """Items of `item_type` from a page asked with `page` and (effective) `limit`.

        Piggy paginates in two styles (decision D1): `page`/`last_page` (contacts, loyalty transactions,
        products) and Laravel's `current_page`/`last_page` (vouchers). Both are read here, and nowhere else.
        """
        items = [item_type.model_validate(item) for item in data] if isinstance(data, list) else []
        info = mapping(meta)  # Piggy sends [] when there is nothing to say
        current = _int(info.get("page")) or _int(info.get("current_page")) or page or 1
        last = _int(info.get("last_page"))
        # Without last_page, a full page suggests there may be more: say so rather than hide items.
        has_more = current < last if last is not None else len(items) >= limit > 0
        return cls(
            items=items, total=_int(info.get("total")), has_more=has_more, next_page=current + 1 if has_more else None
        )
