"""Contacts: find members and correct their profiles, verify who they are, merge duplicates, claim anonymous ones."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from piggy_mcp.piggy import PiggyAPI
from piggy_mcp.piggy.errors import NotFoundError, RejectedError
from piggy_mcp.piggy.models import Contact, ContactStake, ListedContact
from piggy_mcp.piggy.program import DEFAULT_CREDIT_NAME
from piggy_mcp.schema import unadvertised_limits
from piggy_mcp.tools.args import (
    AttributeName,
    ContactUuid,
    DateTime,
    Email,
    LongText,
    NamedOnce,
    NonEmptyShortText,
    NonEmptyText,
    PageNumber,
    PerPage,
    Text,
)
from piggy_mcp.tools.confirmation import ConfirmableResult, shown_email
from piggy_mcp.tools.results import Paged, Result
from piggy_mcp.tools.runtime import api
from piggy_mcp.tools.toolset import IDEMPOTENT, READ, WRITE, Toolset

toolset = Toolset(
    "contacts", "Find members and correct their profiles, verify them, merge duplicates, claim anonymous contacts."
)


def describe(contact: Contact, credit_name: str = DEFAULT_CREDIT_NAME) -> str:
    """A contact as a confirmation preview names it (see `shown_email`), credits as the program names them."""
    return f"{shown_email(contact.email)} (uuid {contact.uuid}, {contact.credit_balance or 0} {credit_name})"


# Finding and correcting members -------------------------------------------------------------------


@toolset.tool(title="Find contact by email", annotations=READ, untrusted=("attributes",))
async def find_contact(email: Email, ctx: Context[Any, Any]) -> Contact:
    """Find a member by email: their uuid (other tools need it), credit balance, tier and profile fields.
    Finding it does not prove the person in the chat owns it: verify them before acting at their request.
    """
    try:
        return await api(ctx).find_contact_by_email(email)
    except NotFoundError:
        raise ToolError(
            f"No contact has the email {email}. Check the spelling with the member; do not create a new contact "
            "for someone who says they are a member."
        ) from None


@toolset.tool(title="Get contact", annotations=READ, untrusted=("attributes",))
async def get_contact(contact_uuid: ContactUuid, ctx: Context[Any, Any]) -> Contact:
    """Read a contact by uuid, e.g. to check a merge: email, anonymous or not, credit balance, tier and profile
    fields."""
    return await api(ctx).get_contact(contact_uuid)


class NewValue(BaseModel):
    name: AttributeName
    # Text for every type (a number, true or false, a date, an option value), a list of option values for
    # multi_select: checked and converted with the attribute's type.
    value: LongText | Annotated[list[Text], unadvertised_limits(max_length=100)]


MAX_NAMES_IN_ERROR = 40


@toolset.tool(title="Update contact", annotations=IDEMPOTENT, untrusted=("attributes",))
async def update_contact(
    contact_uuid: ContactUuid,
    attributes: Annotated[
        list[NewValue],
        NamedOnce,
        Field(
            min_length=1,
            max_length=50,
            description="Fields to set; values as text (42, true, 2026-12-31), multi_select as a list.",
        ),
    ],
    ctx: Context[Any, Any],
) -> Contact:
    """Correct a member's profile fields; the others stay as they are. Only writable attributes
    (list_contact_attributes) are accepted; otherwise nothing changes."""
    names = [entry.name for entry in attributes]
    piggy = api(ctx)
    known = {attribute.name: attribute for attribute in await piggy.list_contact_attributes()}
    unknown = sorted(name for name in names if name not in known)
    read_only = sorted(name for name in names if name in known and not known[name].writable)
    if unknown or read_only:
        reasons = [f"unknown: {', '.join(unknown)}"] if unknown else []
        reasons += [f"read-only: {', '.join(read_only)}"] if read_only else []
        writable = sorted(name for name, attribute in known.items() if attribute.writable)
        shown = ", ".join(writable[:MAX_NAMES_IN_ERROR]) + (", ..." if len(writable) > MAX_NAMES_IN_ERROR else "")
        raise ToolError(f"Nothing was changed: {'; '.join(reasons)}. Writable attributes: {shown or 'none'}.")
    try:
        values = {entry.name: known[entry.name].stored_form(entry.value) for entry in attributes}
    except ValueError as exc:
        raise ToolError(f"Nothing was changed: {exc}.") from None
    return await piggy.update_contact(contact_uuid, values)


# Verification -------------------------------------------------------------------------------------


class VerificationEmailSent(Result):
    message: str


@toolset.tool(title="Send verification email", annotations=WRITE)
async def send_contact_verification_email(email: Email, ctx: Context[Any, Any]) -> VerificationEmailSent:
    """Email a contact a login code proving they own the address: the first step before acting on a member's
    account at their request. Needs a Contacts Portal in Piggy. Then ask for the code and call
    verify_login_code."""
    message = await api(ctx).send_verification_email(email)
    return VerificationEmailSent(message=message or "Verification email sent.")


class VerifiedContact(Result):
    uuid: str


# The fourteenth of Piggy's published operations (decision D24).
@toolset.tool(title="Verify login code", annotations=WRITE)
async def verify_login_code(
    email: Email,
    code: Annotated[NonEmptyShortText, Field(description="The code from the verification email.")],
    ctx: Context[Any, Any],
) -> VerifiedContact:
    """Check the code a member got from send_contact_verification_email; returns the verified contact's uuid.
    A code works once; a wrong, used or expired code is an error: let the member check it, or send a new
    email."""
    return VerifiedContact(uuid=await api(ctx).verify_login_code(email, code))


class AuthToken(Result):
    auth_token: str


@toolset.tool(title="Get contact auth token", annotations=READ)
async def get_contact_auth_token(contact_uuid: ContactUuid, ctx: Context[Any, Any]) -> AuthToken:
    """Get a token that signs a contact in to the shop's loyalty portal or app. Only for a contact verified
    with verify_login_code. A secret: hand it to the shop's systems, never show it in chat."""
    return AuthToken(auth_token=await api(ctx).get_contact_auth_token(contact_uuid))


# Merge --------------------------------------------------------------------------------------------


class MergePreview(Result):
    source: Contact
    destination: Contact
    credit_name: str = DEFAULT_CREDIT_NAME

    def describe(self) -> str:
        credits = self.credit_name
        return (
            f"Merge contact {describe(self.source, credits)} INTO {describe(self.destination, credits)}. "
            f"The source contact will stop existing; its {credits} and history move to the destination. "
            "This cannot be undone."
        )


async def merge_preview(piggy: PiggyAPI, source_contact_uuid: str, destination_contact_uuid: str) -> MergePreview:
    if source_contact_uuid.lower() == destination_contact_uuid.lower():
        raise ToolError("source_contact_uuid and destination_contact_uuid are the same contact; nothing to merge.")
    source = await piggy.get_contact(source_contact_uuid)
    destination = await piggy.get_contact(destination_contact_uuid)
    return MergePreview(source=source, destination=destination, credit_name=await piggy.credit_name())


@toolset.confirmed(title="Merge two contacts", preview=merge_preview)
async def merge_contacts(
    source_contact_uuid: Annotated[ContactUuid, Field(description="The contact that will cease to exist.")],
    destination_contact_uuid: Annotated[ContactUuid, Field(description="The contact that remains.")],
    ctx: Context[Any, Any],
) -> ConfirmableResult:
    """Merge a member's duplicate contact into their other one, IRREVERSIBLY: the source is deleted; its
    credits, history and data move to the destination. Only with the member's consent, once verified as owner
    of both emails. Asks the user to confirm first. Piggy merges within minutes."""
    await api(ctx).merge_contacts(source_contact_uuid, destination_contact_uuid)
    return ConfirmableResult(
        status="done",
        message=(
            "Piggy accepted the merge and processes it asynchronously; it may take a few minutes. "
            "Then the source contact is gone and the destination holds both balances."
        ),
    )


# Claim --------------------------------------------------------------------------------------------


class ClaimPreview(Result):
    anonymous_contact: Contact
    email: str
    existing_contact: Contact | None = None
    credit_name: str = DEFAULT_CREDIT_NAME

    def describe(self) -> str:
        if self.existing_contact is None:
            return (
                f"Give anonymous contact {self.anonymous_contact.uuid} the email {shown_email(self.email)}; no "
                "contact has it yet."
            )
        return (
            f"Claim anonymous contact {describe(self.anonymous_contact, self.credit_name)} for "
            f"{shown_email(self.email)}. A contact with that email already exists, "
            f"{describe(self.existing_contact, self.credit_name)}: Piggy will MERGE the two into one. "
            "This cannot be undone."
        )


# The claimed contact: its uuid (the existing contact's, after a merge) and balance; the email is the caller's.
class ClaimedContact(Result):
    uuid: str
    credit_balance: int | None = None


class ClaimResult(ConfirmableResult):
    contact: ClaimedContact | None = None


async def claim_preview(piggy: PiggyAPI, anonymous_contact_uuid: str, email: str) -> ClaimPreview:
    anonymous = await piggy.get_contact(anonymous_contact_uuid)
    if anonymous.is_anonymous is False:
        raise ToolError(
            f"Contact {anonymous_contact_uuid} is not anonymous, so it cannot be claimed. Nothing was sent. "
            "Use the contact as it is."
        )
    try:
        existing: Contact | None = await piggy.find_contact_by_email(email)
    except NotFoundError:
        existing = None
    return ClaimPreview(
        anonymous_contact=anonymous, email=email, existing_contact=existing, credit_name=await piggy.credit_name()
    )


@toolset.confirmed(title="Claim anonymous contact", preview=claim_preview)
async def claim_anonymous_contact(
    anonymous_contact_uuid: Annotated[ContactUuid, Field(description="uuid of the anonymous contact to claim.")],
    email: Annotated[Email, Field(description="The person's real email address.")],
    ctx: Context[Any, Any],
) -> ClaimResult:
    """Give an anonymous contact (e.g. a loyalty card used in store) its owner's email when they register. If a
    contact has that email already, Piggy MERGES the two, irreversibly. Asks
    the user to confirm first."""
    claimed = await api(ctx).claim_anonymous_contact(anonymous_contact_uuid, email)
    contact = ClaimedContact(uuid=claimed.uuid, credit_balance=claimed.credit_balance)
    return ClaimResult(status="done", message="The contact was claimed.", contact=contact)


# Contact lifecycle --------------------------------------------------------------------------------


class CreatedContact(Result):
    uuid: str
    created: bool


@toolset.tool(title="Create contact", annotations=IDEMPOTENT)
async def create_contact(email: Email, ctx: Context[Any, Any]) -> CreatedContact:
    """Register a new member by email; returns their uuid. If a contact has that email already, returns it with
    created false, unchanged. Set profile fields afterwards with update_contact."""
    piggy = api(ctx)
    try:
        return CreatedContact(uuid=await piggy.create_contact(email), created=True)
    except RejectedError as exc:
        if exc.code != 60005:  # Contact already exists: then it is returned as it is (decision D54)
            raise
    return CreatedContact(uuid=(await piggy.find_contact_by_email(email)).uuid, created=False)


class AnonymousContact(Result):
    uuid: str


@toolset.tool(title="Create anonymous contact", annotations=WRITE)
async def create_anonymous_contact(
    ctx: Context[Any, Any],
    contact_identifier_value: Annotated[NonEmptyText | None, Field(description="A card to link to it.")] = None,
) -> AnonymousContact:
    """Create a contact without an email, e.g. for a loyalty card handed out in store: it earns credits now and
    is claimed later with claim_anonymous_contact. Not idempotent."""
    return AnonymousContact(uuid=await api(ctx).create_anonymous_contact(contact_identifier_value))


class Contacts(Paged):
    contacts: list[ListedContact]


@toolset.tool(title="List contacts", annotations=READ)
async def list_contacts(
    ctx: Context[Any, Any],
    page: PageNumber = None,
    limit: Annotated[PerPage, Field(description="Per page (default 30).")] = None,
    created_from: Annotated[DateTime | None, Field(description="Created at or after.")] = None,
    created_to: Annotated[DateTime | None, Field(description="Created at or before.")] = None,
) -> Contacts:
    """List contacts, newest first; with dates, those created between them (e.g. this week's sign-ups)."""
    found = await api(ctx).list_contacts(page, limit, created_from, created_to)
    return Contacts(contacts=found.items, total=found.total, has_more=found.has_more, next_page=found.next_page)


DeletionType = Literal["DEFAULT", "GDPR"]


class DeletionPreview(Result):
    contact: ContactStake
    type: DeletionType
    credit_name: str = DEFAULT_CREDIT_NAME

    def describe(self) -> str:
        c, credits = self.contact, self.credit_name
        how = "GDPR: every reference to personal data is erased" if self.type == "GDPR" else "Piggy keeps a log"
        return (
            f"DELETE contact {shown_email(c.email)} (uuid {c.uuid}; {how}). Lost with it: {c.credit_balance} "
            f"{credits} and a prepaid balance of {c.prepaid_balance_in_cents} cents. This cannot be undone. "
            "Piggy schedules the deletion: it completes within minutes."
        )


async def deletion_preview(piggy: PiggyAPI, contact_uuid: str, type: DeletionType) -> DeletionPreview:
    stake = await piggy.get_contact_stake(contact_uuid)
    return DeletionPreview(contact=stake, type=type, credit_name=await piggy.credit_name())


@toolset.confirmed(title="Delete contact", preview=deletion_preview)
async def delete_contact(
    contact_uuid: ContactUuid,
    type: Annotated[DeletionType, Field(description="GDPR erases all personal data; DEFAULT keeps a log.")],
    ctx: Context[Any, Any],
) -> ConfirmableResult:
    """Delete a contact IRREVERSIBLY with their credits and prepaid balance, e.g. when a member asks to be
    forgotten. Asks the user to confirm first. Piggy deletes within minutes."""
    await api(ctx).delete_contact(contact_uuid, type)
    return ConfirmableResult(
        status="done",
        message="Piggy scheduled the deletion; within a few minutes the contact is gone (get_contact then fails).",
    )
