"""Contacts: verify a member's identity, merge duplicate profiles, claim anonymous contacts."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Elicit, Resolve
from pydantic import Field

from piggy_mcp.piggy import PiggyAPI
from piggy_mcp.piggy.errors import NotFoundError
from piggy_mcp.schema import guard
from piggy_mcp.tools.args import ConfirmationToken, ContactUuid, Email
from piggy_mcp.tools.base import DESTRUCTIVE, READ, WRITE, Result, Toolset, api
from piggy_mcp.tools.confirm import (
    Confirm,
    ConfirmableResult,
    ask,
    unless_confirmed,
)

toolset = Toolset("contacts", "Verify members, merge duplicate contacts, claim anonymous contacts.")


class Contact(Result):
    uuid: str
    email: str | None = None
    credit_balance: int | None = None
    is_anonymous: bool | None = None

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Contact:
        values = raw.get("current_values") or {}
        balance = (raw.get("credit_balance") or {}).get("balance")
        return cls(
            uuid=raw["uuid"], email=raw.get("email"), credit_balance=balance, is_anonymous=values.get("is_anonymous")
        )

    def describe(self) -> str:
        return f"{self.email or 'no email'} (uuid {self.uuid}, {self.credit_balance or 0} credits)"


# Verification -----------------------------------------------------------------------------------


class VerificationEmailSent(Result):
    message: str


@toolset.tool(title="Send verification email", annotations=WRITE)
async def send_contact_verification_email(email: Email, ctx: Context[Any, Any]) -> VerificationEmailSent:
    """Email a contact a login code proving they own the address: the first step before acting on a member's
    account at their request. Needs an existing contact and a Contacts Portal in Piggy. Then ask for the code
    and call verify_login_code."""
    data = await api(ctx).send_verification_email(email)
    return VerificationEmailSent(message=str(data.get("message") or "Verification email sent."))


class VerifiedContact(Result):
    uuid: str


@toolset.tool(title="Verify login code", annotations=WRITE)
async def verify_login_code(
    email: Email,
    code: Annotated[
        str, Field(description="The code from the verification email."), guard(min_length=1, max_length=64)
    ],
    ctx: Context[Any, Any],
) -> VerifiedContact:
    """Check the code a member got from send_contact_verification_email; returns the verified contact's uuid
    and changes nothing in Piggy. A wrong or expired code is an error (13010): let the member check it, or send
    a new email."""
    return VerifiedContact.model_validate(await api(ctx).verify_login_code(email, code))


class AuthToken(Result):
    auth_token: str


@toolset.tool(title="Get contact auth token", annotations=READ)
async def get_contact_auth_token(contact_uuid: ContactUuid, ctx: Context[Any, Any]) -> AuthToken:
    """Get a secure token identifying a contact, to sign them in to the shop's loyalty portal or app. Only for a
    contact verified with verify_login_code. A secret: hand it to the shop's systems, never show it in chat."""
    return AuthToken(auth_token=await api(ctx).get_contact_auth_token(contact_uuid))


# Merge ------------------------------------------------------------------------------------------


class MergePreview(Result):
    source: Contact
    destination: Contact

    def describe(self) -> str:
        return (
            f"Merge contact {self.source.describe()} INTO {self.destination.describe()}. "
            "The source contact will stop existing; its credits and history move to the destination. "
            "This cannot be undone."
        )


async def _merge_preview(piggy: PiggyAPI, source_uuid: str, destination_uuid: str) -> MergePreview:
    source = await piggy.get_contact(source_uuid)
    destination = await piggy.get_contact(destination_uuid)
    return MergePreview(source=Contact.of(source), destination=Contact.of(destination))


async def _confirm_merge(
    ctx: Context[Any, Any],
    source_contact_uuid: str,
    destination_contact_uuid: str,
    confirmation_token: str | None,
) -> Elicit[Confirm] | Any:
    if source_contact_uuid.lower() == destination_contact_uuid.lower():
        raise ToolError("source_contact_uuid and destination_contact_uuid are the same contact; nothing to merge.")
    args = {"source_contact_uuid": source_contact_uuid, "destination_contact_uuid": destination_contact_uuid}
    return await ask(
        ctx,
        "merge_contacts",
        args,
        confirmation_token,
        lambda: _merge_preview(api(ctx), source_contact_uuid, destination_contact_uuid),
    )


@toolset.tool(title="Merge two contacts", annotations=DESTRUCTIVE)
async def merge_contacts(
    source_contact_uuid: Annotated[ContactUuid, Field(description="The contact that will cease to exist.")],
    destination_contact_uuid: Annotated[ContactUuid, Field(description="The contact that remains.")],
    ctx: Context[Any, Any],
    confirmation: Annotated[ElicitationResult[Confirm], Resolve(_confirm_merge)],
    confirmation_token: ConfirmationToken = None,
) -> ConfirmableResult:
    """Merge a member's duplicate contact into their other one, IRREVERSIBLY: the source is deleted; its
    credits, history and data move to the destination. Only with the member's consent, once verified as owner
    of both emails. Asks the user to confirm first. Piggy merges in the background, within minutes."""
    if (unsent := unless_confirmed(confirmation, ConfirmableResult)) is not None:
        return unsent
    await api(ctx).merge_contacts(source_contact_uuid, destination_contact_uuid)
    return ConfirmableResult(
        status="done",
        message=(
            "Piggy accepted the merge and processes it asynchronously; it may take a few minutes. "
            "Then the source contact is gone and the destination holds both balances."
        ),
    )


# Claim ------------------------------------------------------------------------------------------


class ClaimPreview(Result):
    anonymous_contact: Contact
    email: str
    existing_contact: Contact | None = None

    def describe(self) -> str:
        if self.existing_contact is None:
            return (
                f"Give anonymous contact {self.anonymous_contact.uuid} the email {self.email}; no contact has it yet."
            )
        return (
            f"Claim anonymous contact {self.anonymous_contact.describe()} for {self.email}. A contact with that "
            f"email already exists, {self.existing_contact.describe()}: Piggy will MERGE the two into one. "
            "This cannot be undone."
        )


# The claimed contact: its uuid (the existing contact's, after a merge) and balance; the email is the caller's.
class ClaimedContact(Result):
    uuid: str
    credit_balance: int | None = None


class ClaimResult(ConfirmableResult):
    contact: ClaimedContact | None = None


async def _claim_preview(piggy: PiggyAPI, anonymous_uuid: str, email: str) -> ClaimPreview:
    anonymous = Contact.of(await piggy.get_contact(anonymous_uuid))
    if anonymous.is_anonymous is False:
        raise ToolError(
            f"Contact {anonymous_uuid} is not anonymous, so it cannot be claimed. Nothing was sent. "
            "Use the contact as it is."
        )
    try:
        existing: Contact | None = Contact.of(await piggy.find_contact_by_email(email))
    except NotFoundError:
        existing = None
    return ClaimPreview(anonymous_contact=anonymous, email=email, existing_contact=existing)


async def _confirm_claim(
    ctx: Context[Any, Any], anonymous_contact_uuid: str, email: str, confirmation_token: str | None
) -> Elicit[Confirm] | Any:
    args = {"anonymous_contact_uuid": anonymous_contact_uuid, "email": email}
    return await ask(
        ctx,
        "claim_anonymous_contact",
        args,
        confirmation_token,
        lambda: _claim_preview(api(ctx), anonymous_contact_uuid, email),
    )


@toolset.tool(title="Claim anonymous contact", annotations=DESTRUCTIVE)
async def claim_anonymous_contact(
    anonymous_contact_uuid: Annotated[ContactUuid, Field(description="uuid of the anonymous contact to claim.")],
    email: Annotated[Email, Field(description="The person's real email address.")],
    ctx: Context[Any, Any],
    confirmation: Annotated[ElicitationResult[Confirm], Resolve(_confirm_claim)],
    confirmation_token: ConfirmationToken = None,
) -> ClaimResult:
    """Give an anonymous contact (e.g. a loyalty card used in store) its owner's real email when they register,
    making it a normal contact. If a contact has that email already, Piggy MERGES the two, irreversibly. Asks
    the user to confirm first."""
    if (unsent := unless_confirmed(confirmation, ClaimResult)) is not None:
        return unsent
    claimed = Contact.of(await api(ctx).claim_anonymous_contact(anonymous_contact_uuid, email))
    contact = ClaimedContact(uuid=claimed.uuid, credit_balance=claimed.credit_balance)
    return ClaimResult(status="done", message="The contact was claimed.", contact=contact)
