"""Members: find a contact, read and correct their profile, and read their loyalty history."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field, WithJsonSchema

from piggy_mcp.piggy.errors import NotFoundError
from piggy_mcp.tools.args import ContactUuid, Email
from piggy_mcp.tools.base import IDEMPOTENT, READ, Result, Toolset, api
from piggy_mcp.tools.contacts import Contact
from piggy_mcp.tools.paging import Paged, PageNumber, paging

toolset = Toolset("members", "Find members, read and correct their profiles, read their loyalty history.")

# current_values mixes profile fields with system values and portal credentials (login links and codes): only
# profile fields are shown. A denylist, since custom field names are the account's own; the secret hints catch
# credentials Piggy may add later.
_HIDDEN_VALUES = frozenset(
    {
        "uuid", "email", "status", "is_anonymous", "created_at", "updated_at", "prepaid_balance",
        "default_contact_identifier", "add_to_wallet", "subscription_preferences_url",
    }
)  # fmt: skip
_HIDDEN_PREFIXES = ("loyalty_", "previous_loyalty_", "double_opt_in_", "custom_app_")
_SECRET_HINTS = ("login", "token", "secret", "password")


def _profile_value(name: str) -> bool:
    return not (
        name in _HIDDEN_VALUES or name.startswith(_HIDDEN_PREFIXES) or any(hint in name for hint in _SECRET_HINTS)
    )


class Member(Contact):
    tier: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Member:
        contact = Contact.of(raw)
        values: Mapping[str, Any] = raw.get("current_values") or {}
        if contact.credit_balance is None and isinstance(values.get("loyalty_balance"), int):
            contact.credit_balance = values["loyalty_balance"]
        tier = raw.get("tier")
        return cls(
            **contact.model_dump(),
            tier=tier.get("name") if isinstance(tier, Mapping) else None,
            attributes={k: v for k, v in values.items() if v is not None and _profile_value(k)},
        )


@toolset.tool(title="Find contact by email", annotations=READ)
async def find_contact(email: Email, ctx: Context[Any, Any]) -> Member:
    """Find a member by email: their uuid (other tools need it), credit balance, tier and profile fields.
    Finding a contact does not prove the person in the chat owns it: verify them before acting at their request.
    """
    try:
        return Member.of(await api(ctx).find_contact_by_email(email))
    except NotFoundError:
        raise ToolError(
            f"No contact has the email {email}. Check the spelling with the member; do not create a new contact "
            "for someone who says they are a member."
        ) from None


@toolset.tool(title="Get contact", annotations=READ)
async def get_contact(contact_uuid: ContactUuid, ctx: Context[Any, Any]) -> Member:
    """Read a contact by uuid, e.g. to check a merge: email, anonymous or not, credit balance, tier and profile
    fields."""
    return Member.of(await api(ctx).get_contact(contact_uuid))


class AttributeOption(Result):
    value: Any = None
    label: str | None = None


class AttributeInfo(Result):
    name: str
    label: str | None = None
    type: str | None = None
    description: str | None = None
    options: list[AttributeOption] | None = None
    writable: bool


class ContactAttributes(Result):
    attributes: list[AttributeInfo]


# Built-in system fields, refused even if Piggy's flags were missing.
_SYSTEM_ATTRIBUTES = frozenset({"uuid", "age", "created_at", "updated_at"})


def _writable(raw: Mapping[str, Any]) -> bool:
    name = str(raw.get("name"))
    system = name in _SYSTEM_ATTRIBUTES or name.startswith(("loyalty_", "previous_loyalty_"))
    return not (system or raw.get("is_soft_read_only") or raw.get("is_hard_read_only"))


def _attribute_info(raw: dict[str, Any]) -> AttributeInfo:
    return AttributeInfo.model_validate({**raw, "options": raw.get("options") or None, "writable": _writable(raw)})


@toolset.tool(title="List contact attributes", annotations=READ)
async def list_contact_attributes(ctx: Context[Any, Any]) -> ContactAttributes:
    """List the contact profile fields: name, label, type, select options, and whether update_contact may
    write them (system fields such as loyalty_balance are read-only)."""
    raw = await api(ctx).list_contact_attributes()
    return ContactAttributes(attributes=[_attribute_info(item) for item in raw])


# Values Piggy stores for the 21 attribute types; multi_select takes a list. Advertised compactly.
AttributeValue = Annotated[
    str | int | float | bool | list[str],
    WithJsonSchema({"type": ["string", "number", "boolean", "array"], "items": {"type": "string"}}),
]
MAX_NAMES_IN_ERROR = 40


@toolset.tool(title="Update contact", annotations=IDEMPOTENT)
async def update_contact(
    contact_uuid: ContactUuid,
    attributes: Annotated[
        dict[str, AttributeValue],
        Field(
            min_length=1,
            max_length=50,
            description='Profile field values by attribute name, e.g. {"firstname": "Jane"}; '
            "multi_select takes a list of option values.",
        ),
    ],
    ctx: Context[Any, Any],
) -> Member:
    """Correct a member's profile fields; the others stay as they are. Only writable attributes
    (list_contact_attributes) are accepted: a call naming any other field is refused and changes nothing."""
    piggy = api(ctx)
    known = {str(item.get("name")): _writable(item) for item in await piggy.list_contact_attributes()}
    unknown = sorted(name for name in attributes if name not in known)
    read_only = sorted(name for name in attributes if known.get(name) is False)
    if unknown or read_only:
        reasons = [f"unknown: {', '.join(unknown)}"] if unknown else []
        reasons += [f"read-only: {', '.join(read_only)}"] if read_only else []
        writable = sorted(name for name, ok in known.items() if ok)
        shown = ", ".join(writable[:MAX_NAMES_IN_ERROR]) + (", ..." if len(writable) > MAX_NAMES_IN_ERROR else "")
        raise ToolError(f"Nothing was changed: {'; '.join(reasons)}. Writable attributes: {shown or 'none'}.")
    return Member.of(await piggy.update_contact(contact_uuid, attributes))


# Loyalty history ------------------------------------------------------------------------------------

TRANSACTIONS_DEFAULT_LIMIT = 10  # Piggy's default page size for loyalty transactions


class LoyaltyTransaction(Result):
    type: str | None = None
    uuid: str
    credits: int | None = None
    created_at: str | None = None
    unit_value: float | None = None
    title: str | None = None


class LoyaltyTransactions(Paged):
    transactions: list[LoyaltyTransaction]


@toolset.tool(title="List loyalty transactions", annotations=READ)
async def list_loyalty_transactions(
    contact_uuid: ContactUuid,
    ctx: Context[Any, Any],
    type: Annotated[
        Literal["credit_receptions", "reward_receptions"] | None,
        Field(description="Only credits received, or only rewards redeemed."),
    ] = None,
    page: PageNumber = None,
    limit: Annotated[int | None, Field(ge=1, le=100, description="Per page (default 10).")] = None,
) -> LoyaltyTransactions:
    """List a member's credit receptions and reward redemptions, e.g. to check whether a write with an unknown
    outcome went through before retrying it."""
    items, meta = await api(ctx).list_loyalty_transactions(contact_uuid, type, page, limit)
    return LoyaltyTransactions(
        transactions=[LoyaltyTransaction.model_validate(item) for item in items],
        **paging(meta, page, len(items), limit or TRANSACTIONS_DEFAULT_LIMIT),
    )
