"""One handler per Piggy endpoint: validate the input, apply the store's rules, shape Piggy's answer.

Handlers are synchronous (the store lives in memory) and return `(data, meta)` for the envelope; refusals are
raised as `ApiError`. `ROUTES` lists them with their method and path below `/api/v3/oauth/clients`.
"""

from __future__ import annotations

import re
import uuid as uuidlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from piggy_mcp.sandbox import automations, giftcards, identifiers, orders, prepaid, program, shapes, webhooks
from piggy_mcp.sandbox.errors import ApiError
from piggy_mcp.sandbox.inputs import Fields
from piggy_mcp.sandbox.state import ATTRIBUTE_TYPES, CHOICE_TYPES, TRANSACTION_FILTERS, VOUCHER_STATUSES, Store

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Call:
    store: Store
    path_params: Mapping[str, str]
    query: Mapping[str, str]
    body: Mapping[str, Any]
    url: str  # absolute URL without the query string, for paginator links


Result = tuple[Any, Any]
Handler = Callable[[Call], Result]


def _path_uuid(call: Call, not_found: int) -> str:
    # A path segment that is no uuid names nothing: answer as for an unknown uuid.
    try:
        return str(uuidlib.UUID(call.path_params["uuid"]))
    except ValueError:
        raise ApiError(not_found) from None


def _nest(outer: Fields, inner: Fields, prefix: str) -> None:
    # Errors of a list item are reported under Laravel's dotted key, e.g. "options.0.value".
    for key, messages in inner.errors.items():
        for message in messages:
            outer.fail(f"{prefix}.{key}", message.replace(f"The {key.replace('_', ' ')} ", f"The {prefix}.{key} "))


def _paging(f: Fields, *, default: int, maximum: int, minimum: int = 1) -> tuple[int, int]:
    page = f.integer("page", minimum=1)
    limit = f.integer("limit", minimum=minimum, maximum=maximum)
    return page or 1, default if limit is None else limit


# Contacts -------------------------------------------------------------------------------------------


def get_contact(call: Call) -> Result:
    s = call.store
    return shapes.contact(s, s.contact(_path_uuid(call, 55031))), []


def find_contact(call: Call) -> Result:
    f = Fields(call.query)
    email = f.email("email", required=True)
    f.check()
    assert email is not None
    s = call.store
    return shapes.contact(s, s.contact_by_email(email)), []


def update_contact(call: Call) -> Result:
    contact_uuid = _path_uuid(call, 55031)
    f = Fields(call.body)
    values = f.object("attributes", required=True)
    f.check()
    assert values is not None
    s = call.store
    return shapes.contact(s, s.update_contact(contact_uuid, values)), []


def credit_balance(call: Call) -> Result:
    return {"balance": call.store.contact(_path_uuid(call, 55031)).balance}, []


def claim_contact(call: Call) -> Result:
    contact_uuid = _path_uuid(call, 55031)
    f = Fields(call.body)
    # Decision D20: the docs mark `email` optional, but a claim without one has nothing to claim with.
    email = f.email("email", required=True)
    f.check()
    assert email is not None
    s = call.store
    return shapes.contact(s, s.claim(contact_uuid, email)), []


def merge_contacts(call: Call) -> Result:
    f = Fields(call.body)
    source = f.uuid("source_contact_uuid", required=True)
    destination = f.uuid("destination_contact_uuid", required=True)
    if source is not None and source == destination:
        f.fail("destination_contact_uuid", "The destination contact uuid and source contact uuid must be different.")
    f.check()
    assert source is not None and destination is not None
    call.store.schedule_merge(source, destination)
    # Decision D4: Piggy documents no body for a merge; `data: null` as for its other queued operations.
    return None, []


def create_contact(call: Call) -> Result:
    f = Fields(call.body)
    email = f.email("email", required=True)
    f.string("referral_code")
    f.check()
    assert email is not None
    return {"uuid": call.store.create_contact(email).uuid}, []


def create_anonymous_contact(call: Call) -> Result:
    f = Fields(call.body)
    card = f.string("contact_identifier_value")
    f.check()
    return {"uuid": call.store.create_anonymous_contact(card).uuid}, []


def list_contacts(call: Call) -> Result:
    f = Fields(call.query)
    sort = f.choice("sort", ("created_at", "-created_at"))
    # The range keys METORIAL uses (decision D50): created_at[gte] and created_at[lte].
    after, before = f.date("created_at[gte]"), f.date("created_at[lte]")
    page, limit = _paging(f, default=30, maximum=100)
    f.check()
    s = call.store
    found = s.contacts_created(after, before, newest_first=sort == "-created_at")
    items, meta = shapes.page_style_a(found, page, limit)
    return [shapes.contact(s, c) for c in items], {**meta, "limit": str(limit)}  # Piggy sends the limit as text


def delete_contact(call: Call) -> Result:
    contact_uuid = _path_uuid(call, 55031)
    f = Fields(call.body)
    kind = f.choice("type", ("DEFAULT", "GDPR"), required=True)
    f.check()
    assert kind is not None
    call.store.schedule_deletion(contact_uuid, kind)
    return None, {}


# Contact verification -------------------------------------------------------------------------------


def send_verification(call: Call) -> Result:
    f = Fields(call.body)
    email = f.email("email", required=True)
    f.check()
    assert email is not None
    contact = call.store.send_verification(email)
    message = (
        f"An email containing a link to verify your email has been sent to {contact.email}. "
        "Please check your spam / junk as well."
    )
    return {"type": "Success", "message": message}, []


def verify_code(call: Call) -> Result:
    body = dict(call.body)
    if isinstance(body.get("code"), int) and not isinstance(body.get("code"), bool):
        body["code"] = str(body["code"])  # a numeric code sent as a JSON number is still the code
    f = Fields(body)
    email = f.email("email", required=True)
    code = f.string("code", required=True)
    f.check()
    assert email is not None and code is not None
    return {"uuid": call.store.verify_login_code(email, code).uuid}, {}


def auth_token(call: Call) -> Result:
    return {"auth_token": call.store.auth_token(_path_uuid(call, 55031))}, []


# Contact attributes ---------------------------------------------------------------------------------


def list_attributes(call: Call) -> Result:
    return [shapes.attribute(a) for a in call.store.attributes], []


def create_attribute(call: Call) -> Result:
    f = Fields(call.body)
    name = f.string("name", required=True)
    if name is not None and not _NAME.fullmatch(name):
        f.fail("name", "The name may only contain letters, numbers, dashes and underscores.")
    label = f.string("label")
    data_type = f.choice("data_type", ATTRIBUTE_TYPES, required=True)
    description = f.string("description", max_length=1000)
    raw_options = f.array("options")
    options: list[dict[str, Any]] = []
    if data_type in CHOICE_TYPES:
        if not raw_options:
            f.fail("options", f"The options field is required when data type is {data_type}.")
        for i, option in enumerate(raw_options or []):
            item = Fields(option if isinstance(option, Mapping) else {})
            value, text = item.string("value", required=True), item.string("label", required=True)
            _nest(f, item, f"options.{i}")
            options.append({"value": value, "label": text, "description": None, "media": None})
    f.check()
    assert name is not None and data_type is not None
    created = call.store.create_attribute(name, label or name, data_type, description, options)
    return shapes.attribute(created), []


# Shops, credits, rewards ---------------------------------------------------------------------------


def list_shops(call: Call) -> Result:
    return [shapes.shop(s) for s in call.store.shops.values()], []


def get_shop(call: Call) -> Result:
    return shapes.shop_full(call.store.shop(_path_uuid(call, 1008))), []


def create_credit_reception(call: Call) -> Result:
    f = Fields(call.body)
    shop_uuid = f.uuid("shop_uuid", required=True)
    contact_uuid = f.uuid("contact_uuid", required=True)
    credits = f.integer("credits")
    # Reversing is its own call; a negative purchase amount is refused, as Piggy advises.
    unit_value = f.number("unit_value", minimum=0)
    has_credits, has_value = f.present("credits"), f.present("unit_value")
    if not has_credits and not has_value:
        f.fail("credits", "The credits field is required when unit value is not present.")
        f.fail("unit_value", "The unit value field is required when credits is not present.")
    elif has_credits and has_value:
        f.fail("credits", "The credits field prohibits unit value from being present.")
    unit_name = f.string("unit_name")
    identifier = f.string("contact_identifier_value")
    pos_transaction = f.string("pos_transaction_uuid")
    f.check()
    assert shop_uuid is not None and contact_uuid is not None
    s = call.store
    reception = s.credit_reception(
        shop_uuid=shop_uuid,
        contact_uuid=contact_uuid,
        credits=credits,
        unit_value=unit_value,
        unit_name=unit_name,
        contact_identifier_value=identifier,
        pos_transaction_uuid=pos_transaction,
    )
    return shapes.transaction(s, reception), {}


def reverse_credit_reception(call: Call) -> Result:
    s = call.store
    return shapes.transaction(s, s.reverse_credit_reception(_path_uuid(call, 1028))), {}


def list_loyalty_transactions(call: Call) -> Result:
    f = Fields(call.query)
    contact_uuid = f.uuid("contact_uuid")
    shop_uuid = f.uuid("shop_uuid")
    kind = f.choice("type", TRANSACTION_FILTERS)
    page, limit = _paging(f, default=10, maximum=100)
    f.check()
    s = call.store
    items, meta = shapes.page_style_a(s.loyalty_transactions(contact_uuid, shop_uuid, kind), page, limit)
    return [shapes.transaction(s, t) for t in items], meta


def list_rewards(call: Call) -> Result:
    f = Fields(call.query)
    shop_uuid = f.uuid("shop_uuid")
    contact_uuid = f.uuid("contact_uuid")
    f.check()
    return [shapes.reward(r) for r in call.store.list_rewards(shop_uuid, contact_uuid)], []


def get_reward(call: Call) -> Result:
    return shapes.reward(call.store.reward(_path_uuid(call, 6003))), []


def create_reward_reception(call: Call) -> Result:
    f = Fields(call.body)
    contact_uuid = f.uuid("contact_uuid", required=True)
    reward_uuid = f.uuid("reward_uuid", required=True)
    shop_uuid = f.uuid("shop_uuid", required=True)
    identifier = f.string("contact_identifier_value")
    f.check()
    assert contact_uuid is not None and reward_uuid is not None and shop_uuid is not None
    s = call.store
    if identifier is not None:
        raise ApiError(60003)  # the sandbox's contacts have no identifiers (cards)
    return shapes.transaction(s, s.reward_reception(contact_uuid, reward_uuid, shop_uuid)), {}


# Promotions and vouchers ---------------------------------------------------------------------------


def list_promotions(call: Call) -> Result:
    return [shapes.promotion(p) for p in call.store.promotions.values()], []


def get_promotion(call: Call) -> Result:
    return shapes.promotion(call.store.promotion(_path_uuid(call, 80002))), []


def list_vouchers(call: Call) -> Result:
    f = Fields(call.query)
    contact_uuid = f.uuid("contact_uuid")
    promotion_uuid = f.uuid("promotion_uuid")
    status = f.choice("status", VOUCHER_STATUSES)
    page, limit = _paging(f, default=30, maximum=500, minimum=0)
    f.check()
    s = call.store
    found = s.list_vouchers(contact_uuid, promotion_uuid, status)
    filters = {k: v for k, v in call.query.items() if k != "page"}
    items, meta = shapes.page_style_b(found, page, limit, call.url, filters)
    return [shapes.voucher(s, v) for v in items], meta


def create_vouchers_batch(call: Call) -> Result:
    f = Fields(call.body)
    promotion_uuid = f.uuid("promotion_uuid", required=True)
    quantity = f.integer("quantity", required=True, minimum=1, maximum=500)
    contact_uuid = f.uuid("contact_uuid")
    expiration = f.date("expiration_date")
    activation = f.date("activation_date")
    if expiration is not None and activation is not None and expiration <= activation:
        f.fail("expiration_date", "The expiration date must be a date after activation date.")
    f.array("custom_attributes")
    f.check()
    assert promotion_uuid is not None and quantity is not None
    batch = call.store.create_batch(promotion_uuid, quantity, contact_uuid, expiration, activation)
    return shapes.batch(batch), []


def find_voucher(call: Call) -> Result:
    f = Fields(call.query)
    code = f.string("code", required=True)
    f.check()
    assert code is not None
    s = call.store
    return shapes.voucher(s, s.voucher_by_code(code)), []


def redeem_voucher(call: Call) -> Result:
    f = Fields(call.body)
    code = f.string("code", required=True)
    contact_uuid = f.uuid("contact_uuid")
    shop_uuid = f.uuid("shop_uuid")
    f.string("release_key")
    f.check()
    assert code is not None
    s = call.store
    return shapes.voucher(s, s.redeem(code, contact_uuid, shop_uuid)), []


# Catalog and bookings ------------------------------------------------------------------------------


def list_forms(call: Call) -> Result:
    f = Fields(call.query)
    status = f.choice("status", ("PUBLISHED", "DRAFT", "BIN"))
    kind = f.choice("type", ("PUBLIC", "PRIVATE"))
    f.check()
    forms = [x for x in call.store.forms if (status is None or x.status == status) and (kind is None or x.type == kind)]
    return [shapes.form(x) for x in forms], []


def list_perks(call: Call) -> Result:
    return [shapes.perk(p) for p in call.store.perks], []


def list_products(call: Call) -> Result:
    f = Fields(call.query)
    page, limit = _paging(f, default=30, maximum=100)
    f.check()
    items, meta = shapes.page_style_a(call.store.products, page, limit)
    return [shapes.product(p) for p in items], meta


def create_products(call: Call) -> Result:
    f = Fields(call.body)
    raw = f.array("products", required=True)
    f.check()
    assert raw is not None
    taken = {p.external_identifier for p in call.store.products}
    items: list[dict[str, Any]] = []
    for i, product in enumerate(raw):
        item = Fields(product if isinstance(product, Mapping) else {})
        ident = item.string("external_identifier", required=True)
        name = item.string("name", required=True)
        description = item.string("description", max_length=5000)
        categories = item.array("categories")
        if ident is not None and ident in taken:
            item.fail("external_identifier", "The external identifier has already been taken.")
        for key, messages in item.errors.items():
            for message in messages:
                f.fail(
                    f"products.{i}.{key}", message.replace(f"The {key.replace('_', ' ')} ", f"The products.{i}.{key} ")
                )
        if ident is not None:
            taken.add(ident)
        items.append({"external_identifier": ident, "name": name, "description": description, "categories": categories})
    f.check()
    return [shapes.product(p) for p in call.store.create_products(items)], []


def update_booking(call: Call) -> Result:
    booking_uuid = _path_uuid(call, 60013)
    f = Fields(call.body)
    for fixed in ("shop_uuid", "contact_uuid"):
        if fixed in call.body:
            f.fail(fixed, f"The {fixed.replace('_', ' ')} of a booking cannot be changed.")
    changes: dict[str, Any] = {}
    for name in ("external_id", "source", "company_name", "status"):
        if name in call.body:
            changes[name] = f.string(name)
    for name in ("starts_at", "ends_at", "checked_in_at"):
        if name in call.body:
            changes[name] = f.date(name)
    if "number_of_people" in call.body:
        changes["number_of_people"] = f.integer("number_of_people", minimum=1)
    if "prepaid_amount" in call.body:
        changes["prepaid_amount"] = f.integer("prepaid_amount", minimum=0)
    f.check()
    s = call.store
    return shapes.booking(s, s.update_booking(booking_uuid, changes)), []


# Literal paths come before the {uuid} paths they would otherwise be taken for.
ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/contacts/find-one-by", find_contact),
    ("POST", "/contacts/merge", merge_contacts),
    ("GET", "/contacts", list_contacts),
    ("POST", "/contacts", create_contact),
    ("POST", "/contacts/anonymous", create_anonymous_contact),
    ("POST", "/contacts/{uuid}/delete", delete_contact),
    ("GET", "/contacts/{uuid}", get_contact),
    ("PUT", "/contacts/{uuid}", update_contact),
    ("GET", "/contacts/{uuid}/credit-balance", credit_balance),
    ("PUT", "/contacts/{uuid}/claim", claim_contact),
    ("POST", "/contact-verification/send", send_verification),
    ("POST", "/contact-verification/verify", verify_code),
    ("GET", "/contact-verification/auth-token/{uuid}", auth_token),
    ("GET", "/contact-attributes", list_attributes),
    ("POST", "/contact-attributes", create_attribute),
    ("GET", "/shops", list_shops),
    ("GET", "/shops/{uuid}", get_shop),
    ("POST", "/credit-receptions", create_credit_reception),
    ("POST", "/credit-receptions/{uuid}/reverse", reverse_credit_reception),
    ("GET", "/loyalty-transactions", list_loyalty_transactions),
    ("GET", "/rewards", list_rewards),
    ("GET", "/rewards/{uuid}", get_reward),
    ("POST", "/reward-receptions", create_reward_reception),
    ("GET", "/promotions", list_promotions),
    ("GET", "/promotions/{uuid}", get_promotion),
    ("GET", "/vouchers", list_vouchers),
    ("POST", "/vouchers/batch", create_vouchers_batch),
    ("GET", "/vouchers/find", find_voucher),
    ("POST", "/vouchers/redeem", redeem_voucher),
    ("GET", "/forms", list_forms),
    ("GET", "/perks", list_perks),
    ("GET", "/products", list_products),
    ("POST", "/products/batch", create_products),
    ("PUT", "/bookings/{uuid}", update_booking),
]
# The domains with handlers of their own.
ROUTES += orders.ROUTES
ROUTES += giftcards.ROUTES + prepaid.ROUTES
ROUTES += identifiers.ROUTES + program.ROUTES + automations.ROUTES
ROUTES += webhooks.ROUTES
