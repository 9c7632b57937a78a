"""The resources' URIs, the one form of each that updates are published under, and which ones a server serves.

Subscriptions match URIs as exact strings, so every URI is built here from its template (a voucher code is
percent-encoded as RFC 6570 says, a contact uuid is lowercase as Piggy gives it out), and a subscription to
another spelling of the same resource is refused rather than honoured and never notified.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mcp.server.mcpserver.resources import DEFAULT_RESOURCE_SECURITY
from mcp.shared.uri_template import UriTemplate

from piggy_mcp.piggy.models import is_uuid
from piggy_mcp.tools import ToolSpec

CONTACT = "piggy://contacts/{contact_uuid}"
VOUCHER = "piggy://vouchers/{code}"
RECENT_EVENTS = "piggy://events/recent"

MAX_CODE = 128  # as events.py bounds the codes an event is about
_MAX_SHOWN = 80  # of a refused URI, in the refusal

_CONTACT = UriTemplate.parse(CONTACT)
_VOUCHER = UriTemplate.parse(VOUCHER)


def contact_uri(contact_uuid: str) -> str:
    return _CONTACT.expand({"contact_uuid": contact_uuid.lower()})


def voucher_uri(code: str) -> str:
    return _VOUCHER.expand({"code": code})


def contact_uuid_problem(value: str) -> str | None:
    """Why `value` cannot name a contact, in one sentence; None if it can."""
    if is_uuid(value):
        return None
    return "A contact is named by its uuid, such as 3f2a5c1e-8b7d-4c39-9a36-0d6f0b0c0a11, as Piggy returned it."


def voucher_code_problem(value: str) -> str | None:
    """Why `value` cannot be a voucher code, in one sentence; None if it can."""
    if 0 < len(value) <= MAX_CODE and value.isprintable() and value.strip() == value:
        return None
    return f"A voucher code is 1 to {MAX_CODE} printable characters, without spaces around it."


@dataclass(frozen=True)
class ServedResources:
    """Which resources one server serves, as the operator's selection says, and whether they are ever updated."""

    contacts: bool = False  # piggy://contacts/{contact_uuid}, with the contacts toolset
    vouchers: bool = False  # piggy://vouchers/{code}, with the vouchers toolset
    events: bool = False  # piggy://events/recent, and updates to all three: only with an event source

    @classmethod
    def of(cls, specs: Iterable[ToolSpec], *, events: bool) -> ServedResources:
        """A toolset counts as served when any of its tools is (read-only mode keeps its reads)."""
        toolsets = {spec.toolset for spec in specs}
        return cls(contacts="contacts" in toolsets, vouchers="vouchers" in toolsets, events=events)

    def refusal(self, uri: str) -> str | None:
        """Why a subscription to `uri` is refused, in one sentence; None if this server sends its updates."""
        shown = uri if len(uri) <= _MAX_SHOWN else uri[:_MAX_SHOWN] + "..."
        if not self.events:
            return f"Cannot subscribe to {shown}: this server receives no Piggy events, so it never sends updates."
        if uri == RECENT_EVENTS:
            return None
        for served, pattern, template, name, problem, canonical_of in (
            (self.contacts, CONTACT, _CONTACT, "contact_uuid", contact_uuid_problem, contact_uri),
            (self.vouchers, VOUCHER, _VOUCHER, "code", voucher_code_problem, voucher_uri),
        ):
            params = template.match(uri)
            value = params.get(name) if params is not None else None
            if params is None or not isinstance(value, str):
                continue
            if not served:
                return f"Cannot subscribe to {shown}: this server does not serve {pattern}."
            if DEFAULT_RESOURCE_SECURITY.validate(params) is not None:  # what reading it would refuse too
                return f"Cannot subscribe to {shown}: no resource of this server has that URI."
            reason = problem(value)
            if reason is not None:
                return f"Cannot subscribe to {shown}: {reason[0].lower()}{reason[1:]}"
            canonical = canonical_of(value)
            if canonical != uri:
                return f"Cannot subscribe to {shown}: its updates are sent for {canonical}, spelled exactly so."
            return None
        return f"Cannot subscribe to {shown}: no resource of this server has that URI."
