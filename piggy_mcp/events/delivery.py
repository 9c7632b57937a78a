"""Piggy's webhook deliveries as events: what the receiver verified, and what subscriptions match on.

A delivery is `{"type": "<event_type>", "data": {...}}` (the envelope WP's consumer reads; Piggy does not document
it). `data` is shopper and staff data, never instructions: it is kept as sent, except for the invisible and
direction-changing characters that could hide text from the person reading it. Unknown event types are kept: Piggy
may add some, and a subscriber may still want them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# The characters piggy/client.py removes from everything Piggy answers (soft hyphen, zero-width and bidi controls,
# tag characters): the same set for what Piggy sends us unasked.
INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\U000e0000-\U000e007f]")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_MAX_TYPE = 100
_MAX_CODE = 128
# Piggy's payloads are a few levels deep; a bound keeps the recursion below Python's limit on any body.
_MAX_DEPTH = 32


class MalformedDelivery(ValueError):
    """A verified body that is not a delivery; its message is one sentence, safe to answer with."""


def visible(value: Any, depth: int = 0) -> Any:
    """`value` (parsed JSON) with invisible and direction-changing characters removed from every key and string."""
    if depth > _MAX_DEPTH:
        raise MalformedDelivery(f"The delivery is nested more than {_MAX_DEPTH} levels deep.")
    if isinstance(value, str):
        return INVISIBLE.sub("", value)
    if isinstance(value, Mapping):
        return {INVISIBLE.sub("", str(key)): visible(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [visible(item, depth + 1) for item in value]
    return value


@dataclass(frozen=True)
class PiggyEvent:
    type: str  # Piggy's event type as sent; unknown types are kept, not dropped
    data: Mapping[str, Any]  # the delivery's `data`, as sent (shopper and staff data, never instructions)
    received_at: datetime  # UTC, when this server verified it
    contact_uuids: tuple[str, ...]  # the contacts it is about (lowercase)
    voucher_codes: tuple[str, ...]  # the vouchers it is about

    def to_json(self) -> str:
        """The event for other replicas; what it is about is worked out again by `from_json`, the one way."""
        wire = {"type": self.type, "data": dict(self.data), "received_at": self.received_at.isoformat()}
        return json.dumps(wire, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> PiggyEvent:
        try:
            wire = _json_object(text.encode())
            received_at = datetime.fromisoformat(wire["received_at"])
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedDelivery("The text is not an event that to_json wrote.") from exc
        return _event(wire, received_at)


def parse_delivery(body: bytes, *, now: datetime | None = None) -> PiggyEvent:
    """The event a verified delivery's raw body carries, received `now` (default: this instant): decision D59."""
    if now is not None and now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return _event(_json_object(body), now or datetime.now(UTC))


def about(data: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The contact uuids and voucher codes `data` is about: its contact (`contact.uuid`, `contact_uuid`), the
    contact of any object in it (`credit_reception.contact.uuid`), and its voucher (`voucher.code`)."""
    contacts = [_uuid_of(data.get("contact")), _uuid(data.get("contact_uuid"))]
    contacts += [_uuid_of(item.get("contact")) for item in data.values() if isinstance(item, Mapping)]
    voucher = data.get("voucher")
    codes = [_code(voucher.get("code"))] if isinstance(voucher, Mapping) else []
    return _distinct(contacts), _distinct(codes)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        # NaN and Infinity are not JSON: refused, so that to_json always writes JSON.
        parsed = json.loads(body, parse_constant=_no_constant)
    except RecursionError:
        raise MalformedDelivery(f"The delivery is nested more than {_MAX_DEPTH} levels deep.") from None
    except ValueError:  # also bytes that are not UTF-8
        raise MalformedDelivery("The body is not JSON.") from None
    if not isinstance(parsed, dict):
        raise MalformedDelivery("The body must be a JSON object.")
    return parsed


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _event(wire: Mapping[str, Any], received_at: datetime) -> PiggyEvent:
    kind, data = wire.get("type"), wire.get("data")
    if isinstance(kind, str):
        kind = INVISIBLE.sub("", kind)
    if not isinstance(kind, str) or not 0 < len(kind) <= _MAX_TYPE:
        raise MalformedDelivery(f'The delivery must have a "type": a string of 1 to {_MAX_TYPE} characters.')
    if not kind.isprintable():  # the type is logged: no line breaks or control characters
        raise MalformedDelivery('The delivery\'s "type" must be printable text.')
    if not isinstance(data, dict):
        raise MalformedDelivery('The delivery must have a "data" object.')
    if received_at.tzinfo is None:
        raise MalformedDelivery("received_at must be timezone-aware.")
    clean: dict[str, Any] = visible(data)
    contacts, codes = about(clean)
    return PiggyEvent(kind, clean, received_at.astimezone(UTC), contacts, codes)


def _uuid(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) and _UUID.fullmatch(value) else None


def _uuid_of(value: Any) -> str | None:
    return _uuid(value.get("uuid")) if isinstance(value, Mapping) else None


def _code(value: Any) -> str | None:
    ok = isinstance(value, str) and 0 < len(value) <= _MAX_CODE and value.isprintable() and value.strip() == value
    return value if ok else None


def _distinct(values: list[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for value in values if value is not None))
