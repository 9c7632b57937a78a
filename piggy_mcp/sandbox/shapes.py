"""Stored objects rendered as the JSON Piggy returns: contacts, balances, rewards, vouchers and the rest."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

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
from piggy_mcp.sandbox.seed import SEED
from piggy_mcp.sandbox.state import Store, VoucherBatch

JSON = dict[str, Any]
T = TypeVar("T")

PORTAL_URL = "https://portal.bonteboon.example"


def when(value: datetime | None) -> str | None:
    # Piggy's format: 2023-11-06T09:12:32+00:00
    return value.isoformat(timespec="seconds") if value is not None else None


# Contacts -----------------------------------------------------------------------------------------


def attribute(a: Attribute) -> JSON:
    return {
        "id": a.id,
        "name": a.name,
        "label": a.label,
        "type": a.type,
        "field_type": a.type,
        "description": a.description,
        "options": a.options,
        "is_piggy_defined": a.is_piggy_defined,
        "is_soft_read_only": a.is_soft_read_only,
        "is_hard_read_only": a.is_hard_read_only,
    }


def tier(t: Tier | None) -> JSON | None:
    if t is None:
        return None
    return {"uuid": t.uuid, "name": t.name, "description": t.description, "position": t.position, "media": None}


def current_values(store: Store, c: Contact) -> JSON:
    history = sorted(store.transactions_of(c.uuid), key=lambda t: (t.created_at, t.id))
    values: JSON = {a.name: c.values.get(a.name) for a in store.attributes}
    token = store.auth_token(c.uuid)
    values.update(
        {
            "uuid": c.uuid,
            "email": c.email,
            "status": c.status,
            "is_anonymous": c.is_anonymous,
            "created_at": when(c.created_at),
            "updated_at": when(c.updated_at),
            "loyalty_balance": c.balance,
            "previous_loyalty_balance": c.balance - history[-1].credits if history else 0,
            "loyalty_number_of_transactions": len(history),
            "loyalty_first_transaction_date": when(history[0].created_at) if history else None,
            "loyalty_last_transaction_date": when(history[-1].created_at) if history else None,
            "loyalty_total_credits_received": sum(t.credits for t in history if t.credits > 0),
            "loyalty_associated_shops": sorted({store.shops[t.shop_uuid].name for t in history}),
            "prepaid_balance": c.prepaid_balance_in_cents,
            "default_contact_identifier": None,
            "custom_app_login_url": f"{PORTAL_URL}/home?token={token}" if store.portal_enabled else None,
            "subscription_preferences_url": f"{PORTAL_URL}/subscriptions?token={token}",
        }
    )
    return values


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def contact(store: Store, c: Contact) -> JSON:
    values = current_values(store, c)
    newsletter = {
        "uuid": SEED.subscription_type,
        "id": 1,
        "name": "Newsletter",
        "description": "News from the roastery, about once a month.",
        "active": True,
        "strategy": "OPT_IN",
    }
    return {
        "id": c.id,
        "uuid": c.uuid,
        "email": c.email,
        "attributes": [{"value": values.get(a.name), "attribute": attribute(a)} for a in store.attributes],
        "tier": tier(store.tier_of(c)),
        "subscriptions": [
            {
                "is_subscribed": c.subscribed,
                "status": "SUBSCRIBED" if c.subscribed else "UNSUBSCRIBED",
                "subscription_type": newsletter,
            }
        ],
        "credit_balance": {"id": c.balance_id, "balance": c.balance},
        "prepaid_balance": {"balance_in_cents": c.prepaid_balance_in_cents},
        "current_values": values,
        "current_display_values": {name: _display(value) for name, value in values.items()},
    }


def contact_ref(c: Contact) -> JSON:
    return {"uuid": c.uuid, "email": c.email, "credit_balance": {"id": c.balance_id, "balance": c.balance}}


# Shops, loyalty -----------------------------------------------------------------------------------


def shop(s: Shop) -> JSON:
    return {"id": s.id, "uuid": s.uuid, "name": s.name, "type": s.type, "reference": s.reference}


def shop_full(s: Shop) -> JSON:
    return {**shop(s), "address": dict(s.address)}


def unit(u: Unit) -> JSON:
    return {"id": u.id, "name": u.name, "label": u.label, "prefix": u.prefix, "is_default": u.is_default}


def reward(r: Reward) -> JSON:
    return {
        "id": r.id,
        "uuid": r.uuid,
        "title": r.title,
        "description": r.description,
        "required_credits": r.required_credits,
        "reward_type": r.reward_type,
        "is_active": r.is_active,
        "media": {"type": "image", "value": r.media_url} if r.media_url else None,
        "pre_redeemable": False,
        "expiration_duration": r.expiration_duration,
        "stock": r.stock,
        "cost_price": r.cost_price,
        "attributes": {},
    }


def transaction(store: Store, t: Transaction) -> JSON:
    """A credit reception or a (digital) reward reception, as created and as listed."""
    owner = store.contacts[t.contact_uuid]
    common: JSON = {
        "type": t.type,
        "id": t.id,
        "uuid": t.uuid,
        "credits": t.credits,
        "created_at": when(t.created_at),
        "contact": contact_ref(owner),
        "shop": shop_full(store.shops[t.shop_uuid]),
        "contact_identifier": None,
        "channel": t.channel,
    }
    if t.type == "credit_reception":
        unit_json = next((unit(u) for u in store.units if u.name == t.unit_name), None)
        return {**common, "unit_value": t.unit_value, "unit": unit_json}
    r = store.rewards[t.reward_uuid] if t.reward_uuid else None
    received: JSON = {
        **common,
        "title": r.title if r else None,
        "reward": reward(r) if r else None,
        "expires_at": when(t.expires_at),
        "has_been_collected": True,
    }
    if t.digital_reward_code is not None:
        received["digital_reward_code"] = t.digital_reward_code
    return received


# Vouchers -----------------------------------------------------------------------------------------


def promotion(p: Promotion) -> JSON:
    return {
        "uuid": p.uuid,
        "name": p.name,
        "description": p.description,
        "voucher_limit": p.voucher_limit,
        "limit_per_contact": p.limit_per_contact,
        "expiration_duration": p.expiration_duration,
        "type": p.type,
        "redemptions_per_voucher": p.redemptions_per_voucher,
        "attributes": {},
    }


def voucher(store: Store, v: Voucher) -> JSON:
    p = store.promotions[v.promotion_uuid]
    owner = store.contacts.get(v.contact_uuid) if v.contact_uuid else None
    status = store.voucher_status(v)
    return {
        "uuid": v.uuid,
        "code": v.code,
        "status": status,
        "name": v.name or p.name,
        "description": v.description or p.description,
        "expiration_date": when(v.expiration_date),
        "activation_date": when(v.activation_date),
        "redeemed_at": when(v.redeemed_at),
        "is_redeemed": status == "REDEEMED",
        "attributes": {},
        "contact": {"uuid": owner.uuid, "email": owner.email} if owner else None,
        "promotion": promotion(p),
    }


def batch(b: VoucherBatch) -> JSON:
    # The one date Piggy formats differently: "2023-11-27, 17:59".
    return {
        "uuid": b.uuid,
        "type": "vouchers",
        "quantity": b.quantity,
        "status": "PENDING",
        "created_at": b.created_at.strftime("%Y-%m-%d, %H:%M"),
    }


# Catalog and bookings -----------------------------------------------------------------------------


def form(f: Form) -> JSON:
    return {"uuid": f.uuid, "name": f.name, "status": f.status, "type": f.type, "url": f.url}


def perk(p: Perk) -> JSON:
    return {"uuid": p.uuid, "label": p.label, "name": p.name, "data_type": p.data_type, "options": p.options}


def product(p: Product) -> JSON:
    return {
        "uuid": p.uuid,
        "external_identifier": p.external_identifier,
        "name": p.name,
        "description": p.description,
        "categories": p.categories,
    }


def booking(store: Store, b: Booking) -> JSON:
    owner = store.contacts.get(b.contact_uuid)
    s = store.shops[b.shop_uuid]
    return {
        "uuid": b.uuid,
        "contact": {"uuid": owner.uuid, "email": owner.email} if owner else None,
        "shop": {"uuid": s.uuid, "name": s.name},
        "external_id": b.external_id,
        "source": b.source,
        "starts_at": when(b.starts_at),
        "ends_at": when(b.ends_at),
        "checked_in_at": when(b.checked_in_at),
        "number_of_people": b.number_of_people,
        "company_name": b.company_name,
        "status": b.status,
        "prepaid_amount": b.prepaid_amount,
        "created_at": when(b.created_at),
    }


# Pagination ---------------------------------------------------------------------------------------


def page_style_a(items: Sequence[T], page: int, limit: int) -> tuple[list[T], JSON]:
    """Contacts, loyalty transactions, products: {page, limit, viewing_from, viewing_to, last_page, total}."""
    total = len(items)
    start = (page - 1) * limit
    chunk = list(items[start : start + limit])
    meta = {
        "page": page,
        "limit": limit,
        "viewing_from": start + 1 if chunk else 0,
        "viewing_to": start + len(chunk),
        "last_page": max(1, math.ceil(total / limit)) if limit else 1,
        "total": total,
    }
    return chunk, meta


def page_style_b(items: Sequence[T], page: int, limit: int, path: str, query: dict[str, str]) -> tuple[list[T], JSON]:
    """Vouchers: Laravel's paginator meta, with `per_page` as a string and page links."""
    total = len(items)
    last = max(1, math.ceil(total / limit)) if limit else 1
    start = (page - 1) * limit
    chunk = list(items[start : start + limit]) if limit else []

    def url(n: int) -> str:
        return f"{path}?{urlencode({**query, 'page': n})}"

    links = [{"url": url(page - 1) if page > 1 else None, "label": "&laquo; Previous", "active": False}]
    links += [{"url": url(n), "label": str(n), "active": n == page} for n in range(1, last + 1)]
    links.append({"url": url(page + 1) if page < last else None, "label": "Next &raquo;", "active": False})
    meta = {
        "current_page": page,
        "from": start + 1 if chunk else None,
        "last_page": last,
        "links": links,
        "path": path,
        "per_page": str(limit),
        "to": start + len(chunk) if chunk else None,
        "total": total,
    }
    return chunk, meta
