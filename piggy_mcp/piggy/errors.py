"""Typed errors for everything that can go wrong between us and Piggy.

Each error's text is written for the model that called the tool: what happened, Piggy's own
code and message when there is one, and what to do next. Piggy error codes are interpreted here
and nowhere else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

# Codes whose meaning is "the thing you named does not exist".
NOT_FOUND_CODES = frozenset(
    {55031, 55012, 60003, 55007, 1048, 1008, 1103, 60007, 1027, 1028, 6003, 80002, 80004, 110000, 80300, 60013, 55030}
    | {1100, 5001, 5010}  # gift cards
)

# What the model should do next, by Piggy code.
NEXT_STEP: Mapping[int, str] = {
    1003: "Correct the listed fields and call again.",
    7002: "The Piggy account is inactive; an operator must reactivate it.",
    7011: "The API key has no access to this account; the operator must check PIGGY_API_KEY.",
    60000: "The account has reached a usage limit of its plan; an operator must raise it in Piggy.",
    55031: "Check the contact uuid; find the contact by email first if you only have an address.",
    60016: "This contact is not anonymous, so it cannot be claimed; use it as it is.",
    60005: "A contact with this email already exists: find it with find_contact instead of creating it.",
    60003: "No card (contact identifier) has this value; check it, or create it with create_contact_identifier.",
    60004: "This card (contact identifier) is inactive; it cannot be used until it is activated in Piggy.",
    60006: "A card with this value already exists: find it with find_contact_identifier.",
    60014: "This card is already linked to a contact (find_contact_identifier says which); unlink it to move it.",
    60011: "This card is not linked to a contact; link it with link_contact_identifier.",
    55016: "This card is already linked to a member; unlink it first to move it.",
    60013: "Check the uuid: Piggy has nothing by that uuid (for automations: the uuid from list_automations).",
    1103: "The account has no loyalty program; an operator must set one up in Piggy.",
    55032: (
        "The Piggy account has no Contacts Portal configured, so verification emails cannot be sent. "
        "An operator must set one up in the Piggy dashboard; until then verify the member another way."
    ),
    13010: "The code is wrong or expired: ask the member to check the latest email, or send a new one.",
    1053: "Piggy could not sign the token (account secret invalid); an operator must check the account.",
    3000: "The token expired; request a new one.",
    1008: "Check the shop uuid; the account's shops are listed in the Piggy dashboard.",
    1102: "This shop is not linked to a loyalty program; use another shop or link it in Piggy.",
    55018: "The loyalty program is not active; an operator must activate it.",
    60001: "A credit reception for this contact is still being created; wait a moment, then check the balance.",
    1015: "The loyalty program's maximum credits per reception was exceeded; award fewer credits.",
    60007: "No unit of that name exists; omit unit_name to use the default unit.",
    55046: "The account has no default unit; pass unit_name explicitly.",
    6001: "This POS transaction already received credits; do not award them again.",
    60009: "An attribute with this name already exists; use it as it is or choose another name.",
    80002: "Check the promotion uuid.",
    80004: "No voucher has this code; check it with the member.",
    80008: "The promotion's voucher limit is reached; fewer or no more vouchers can be created.",
    6003: "Check the reward uuid.",
    1017: "The contact does not have enough credits.",
    1018: "This reward is out of stock; offer another one.",
    1019: "The contact reached this reward's claim limit; offer another one.",
    1052: "This reward is inactive; offer another one.",
    80005: "This voucher was already redeemed; do not redeem it again.",
    80006: "This voucher has expired.",
    80012: "This voucher is deactivated.",
    80014: "This voucher is not active yet or no longer active.",
    # Gift cards and prepaid.
    1100: "Check the gift card program uuid with list_giftcard_programs.",
    5001: "No gift card is known by this; check the hash or QR value with the holder, or the uuid.",
    5002: "This gift card has expired and cannot be used.",
    5003: "The gift card holds less than that: read its balance with find_giftcard and use at most that.",
    5006: "This gift card cannot be loaded again; only spend from it.",
    5007: "This gift card is not linked to a gift card program; it cannot be used.",
    5008: "That would exceed the program's maximum (max_amount_in_cents, list_giftcard_programs); use less.",
    5010: "Check the gift card transaction uuid (the one create_giftcard_transaction returned).",
    7010: "This gift card is not valid and cannot be used.",
    7015: "This shop has no access to the card's gift card program; use another shop.",
    1114: "Only non re-incrementable gift cards can be used through the API; use this card in Piggy itself.",
    55021: "Only digital gift cards can be created.",
    55025: (
        "Only a gift card's latest transaction can be reversed: reverse the later ones first, or book an opposite "
        "amount with create_giftcard_transaction."
    ),
}


class PiggyError(Exception):
    """Base class: a call to Piggy did not give the result asked for."""

    summary = "The call to Piggy failed."
    default_next_step = "Try again later; if it keeps failing, tell the user Piggy could not be reached."

    def __init__(
        self,
        detail: str | None = None,
        *,
        message: str | None = None,
        code: int | None = None,
        status: int | None = None,
        field_errors: Mapping[str, list[str]] | None = None,
        next_step: str | None = None,
    ) -> None:
        self.detail = detail  # our own words
        self.message = message  # Piggy's words
        self.code = code
        self.status = status
        self.field_errors = dict(field_errors or {})
        self.next_step = next_step or (NEXT_STEP.get(code) if code is not None else None) or self.default_next_step
        super().__init__(self.describe())

    def describe(self) -> str:
        parts = [self.summary]
        if self.detail:
            parts.append(f"{self.detail}.")
        if self.code is not None:
            parts.append(f"Piggy error {self.code}: {self.message or 'no message'}.")
        elif self.message:
            parts.append(f"Piggy says: {self.message}.")
        elif self.status is not None and not self.detail:
            parts.append(f"HTTP status {self.status}.")
        if self.field_errors:
            fields = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in sorted(self.field_errors.items()))
            parts.append(f"Fields: {fields}.")
        parts.append(f"Next: {self.next_step}")
        return " ".join(parts)


class NotConfiguredError(PiggyError):
    summary = "piggy-mcp has no Piggy API key."
    default_next_step = (
        "The operator must set the environment variable PIGGY_API_KEY to a Piggy Personal Access Token "
        "and restart the server. Tell the user this tool is not configured yet."
    )


class InvalidInputError(PiggyError):
    summary = "Piggy refused the input."
    default_next_step = "Correct the arguments and call again."


class NotFoundError(PiggyError):
    summary = "Piggy found nothing for what was named."
    default_next_step = "Check the identifiers and call again."


class RejectedError(PiggyError):
    """Piggy understood the request but its rules refuse it (conflicts, limits, states)."""

    summary = "Piggy refused the request."
    default_next_step = "Explain Piggy's reason to the user; do not repeat the same call unchanged."


class AuthenticationError(PiggyError):
    summary = "Piggy rejected the API key (it is wrong, revoked or expired)."
    default_next_step = (
        "The operator must check PIGGY_API_KEY (a Personal Access Token from the Piggy dashboard) "
        "and restart the server. Do not retry."
    )


class MaintenanceError(PiggyError):
    summary = "Piggy is in maintenance mode."
    default_next_step = "Nothing was changed. Try again in a few minutes."


class RateLimitedError(PiggyError):
    summary = "Piggy is rate limiting this account."

    def __init__(self, retry_after: float | None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        if retry_after is None:
            wait = "Wait a minute, then try again."
        elif retry_after > 0:
            wait = f"Wait {math.ceil(retry_after)} seconds, then try again."
        else:
            wait = "Try again in a moment."
        kwargs.setdefault("next_step", f"Nothing was changed. {wait}")
        super().__init__(**kwargs)


class BusyError(PiggyError):
    """This process already has as many requests to Piggy in flight as it allows."""

    summary = "piggy-mcp is busy: too many requests to Piggy are in flight. Nothing was sent."
    default_next_step = "Try again in a few seconds."


class OutOfTimeError(PiggyError):
    """The tool call's deadline came before its next request to Piggy could go out."""

    summary = "This call ran out of time before its next request to Piggy, which was not sent."
    default_next_step = "Piggy is slow right now: try again in a minute, and tell the user if it keeps happening."


class UpstreamError(PiggyError):
    """Piggy or the network failed before an answer could be trusted (5xx, timeouts, refused connections)."""

    summary = "Piggy could not be reached or failed to answer."


class OutcomeUnknownError(UpstreamError):
    """A write may have reached Piggy, but no answer came back: repeating it could apply it twice."""

    summary = "The request was sent to Piggy but no answer came back, so it is unknown whether it took effect."
    default_next_step = "Check the current state in Piggy before trying again; do not simply repeat the call."


class WriteAppliedError(OutcomeUnknownError):
    """Piggy accepted a write (HTTP 2xx), but its answer could not be read: the write most likely took effect."""

    summary = "Piggy accepted the request, so it most likely took effect, but its answer could not be read."
    default_next_step = "Do not repeat the call: check the current state in Piggy first."


def from_response(status: int, body: Any, retry_after: float | None = None) -> PiggyError:
    """Turn an unsuccessful HTTP answer into the matching error, by Piggy code first and HTTP status second.

    A body is Piggy's error only with all of message, code and status_code (decision D12); what 404, 422 and 429
    mean without a code is undocumented (decision D16).
    """
    message: str | None = None
    code: int | None = None
    field_errors: dict[str, list[str]] = {}
    if isinstance(body, Mapping) and {"message", "code", "status_code"} <= body.keys():
        message = str(body["message"])
        code = _as_int(body["code"])
        field_errors = _field_errors(body.get("errors"))
    elif isinstance(body, Mapping) and isinstance(body.get("message"), str):
        message = body["message"]

    kwargs: dict[str, Any] = {"message": message, "code": code, "status": status, "field_errors": field_errors}
    if code == 1003:
        return InvalidInputError(**kwargs)
    if code in NOT_FOUND_CODES:
        return NotFoundError(**kwargs)
    if code == 7011 or status == 401:
        return AuthenticationError(**kwargs)
    if status == 429:
        return RateLimitedError(retry_after, **kwargs)
    if status == 503:
        return MaintenanceError(**kwargs)
    if status >= 500:
        return UpstreamError(**kwargs)
    if code is None and status == 404:
        return NotFoundError(**kwargs)
    if code is None and status == 422:
        return InvalidInputError(**kwargs)
    return RejectedError(**kwargs)


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _field_errors(raw: Any) -> dict[str, list[str]]:
    if not isinstance(raw, Mapping):
        return {}
    return {str(name): [str(m) for m in msgs] if isinstance(msgs, list) else [str(msgs)] for name, msgs in raw.items()}
