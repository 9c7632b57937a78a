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
    """Email a contact a login code so they can prove they own the address.

    First step of verifying a member before acting on their account at their request. The contact
    must exist, and the Piggy account needs a Contacts Portal. Then ask the member for the code and
    call verify_login_code.
    """
    data = await api(ctx).send_verification_email(email)
    return VerificationEmailSent(message=str(data.get("message") or "Verification email sent."))


class VerifiedContact(Result):
    uuid: str


@toolset.tool(title="Verify login code", annotations=WRITE)
async def verify_login_code(
    email: Email,
    code: Annotated[str, Field(min_length=1, max_length=64, description="The code from the verification email.")],
    ctx: Context[Any, Any],
) -> VerifiedContact:
    """Check the code a member read from their verification email; returns the verified contact's uuid.

    Use after send_contact_verification_email. A wrong or expired code is an error (Piggy 13010):
    ask the member to check the code or send a new email. Checking changes nothing in Piggy.
    """
    return VerifiedContact.model_validate(await api(ctx).verify_login_code(email, code))


class AuthToken(Result):
    auth_token: str


@toolset.tool(title="Get contact auth token", annotations=READ)
async def get_contact_auth_token(contact_uuid: ContactUuid, ctx: Context[Any, Any]) -> AuthToken:
    """Get a secure token that identifies a contact, for signing them in to the shop's loyalty portal or app.

    Request it only for a contact whose identity was verified (verify_login_code). Treat it as a
    secret: hand it to the shop's systems, never show it in chat.
    """
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


class MergeResult(ConfirmableResult):
    preview: MergePreview | None = None


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
) -> MergeResult:
    """Merge a duplicate contact into another: IRREVERSIBLE. The source contact is deleted and its credits,
    history and data move to the destination.

    Use only with the member's consent, after verifying they own both email addresses. The user is asked
    to confirm first (status=confirmation_required: show the preview, then call again with the token).
    Piggy merges asynchronously: it may take a few minutes to show.
    """
    if (unsent := unless_confirmed(confirmation, MergeResult)) is not None:
        return unsent
    await api(ctx).merge_contacts(source_contact_uuid, destination_contact_uuid)
    return MergeResult(
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


class ClaimResult(ConfirmableResult):
    preview: ClaimPreview | None = None
    contact: Contact | None = None


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
    """Turn an anonymous contact (e.g. a loyalty card used in store) into a normal contact with a real email.

    If a contact with that email already exists, Piggy MERGES the two, irreversibly. The user is asked to
    confirm first (status=confirmation_required: show the preview, then call again with the token).
    """
    if (unsent := unless_confirmed(confirmation, ClaimResult)) is not None:
        return unsent
    contact = Contact.of(await api(ctx).claim_anonymous_contact(anonymous_contact_uuid, email))
    return ClaimResult(status="done", message="The contact was claimed.", contact=contact)
