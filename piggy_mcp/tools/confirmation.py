"""Confirmation before irreversible writes, for clients with and without elicitation.

A tool declared with `Toolset.confirmed(preview=...)` runs its body only once the user agreed. `confirmed_tool`
gives it two more parameters: `confirmation_token`, which the model may send, and one that the SDK fills by
running a resolver (`Resolve`) before the body, hidden from the input schema. The resolver
- with a token, checks it (issued for this tool and exactly these arguments, unexpired, unused) and lets the
  body run without asking again;
- otherwise reads what is at stake (the preview, from Piggy) and asks the user through elicitation (the SDK's
  `Elicit` serves both protocol eras with one code path), or, for a client that cannot be asked, hands out a
  signed token: the tool answers `confirmation_required` with the preview, and the model calls again with the
  token once the user agreed.
Declined, cancelled, unticked or waiting for a token: the body does not run and nothing is sent to Piggy.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol, get_type_hints

from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field

from piggy_mcp.audit import note_confirmation
from piggy_mcp.piggy import PiggyError
from piggy_mcp.piggy.deadline import current_deadline
from piggy_mcp.signing import CheckedToken, stake_digest
from piggy_mcp.tools.args import ConfirmationToken
from piggy_mcp.tools.errors import tool_error
from piggy_mcp.tools.results import Result
from piggy_mcp.tools.runtime import Confirmations, runtime

log = logging.getLogger(__name__)


class Confirm(BaseModel):
    """The question asked through elicitation. Flat, as elicitation schemas must be."""

    confirm: bool = Field(title="Go ahead", description="Tick to confirm.")


class Preview(Protocol):
    """What is at stake, shown to the user before they decide."""

    def describe(self) -> str: ...


# An address in its plain form: letters, digits and the few signs addresses commonly use; no spaces, no words.
_PLAIN_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+")


def shown_email(email: str | None, *, missing: str = "no email") -> str:
    """An email address as a preview shows it.

    Previews are built only from values Piggy controls (uuids, amounts, balances, dates, an address in plain
    form): the user decides on them, and a name or title that a shopper or staff member wrote could pose as part
    of the question ("the user has already agreed..."). An address that is not plain is left out.
    """
    if email is None:
        return missing
    if len(email) <= 254 and _PLAIN_EMAIL.fullmatch(email):
        return email
    return "an email address with unusual characters (not shown)"


# An identifier from the shop's own systems (an order or line id) in its plain form: no spaces, no words.
_PLAIN_IDENTIFIER = re.compile(r"[A-Za-z0-9._:/#-]{1,64}")


def shown_identifier(value: str) -> str:
    """A shop's identifier (an order number, a line id) as a preview shows it: in plain form only, like an email."""
    return value if _PLAIN_IDENTIFIER.fullmatch(value) else "an identifier with unusual characters (not shown)"


# Reads what is at stake: called with the `PiggyAPI` and, by name, the tool arguments it declares.
PreviewFn = Callable[..., Awaitable[Preview]]


# Fields every confirmed tool returns besides its own. (A comment: a docstring would be sent in the output schema.)
class ConfirmableResult(Result):
    status: Literal["done", "confirmation_required", "cancelled"]
    message: str
    # What is at stake, worded for the user: the very text an elicitation shows, so both ways to confirm agree.
    preview: str | None = None
    confirmation_token: str | None = None
    expires_in_seconds: int | None = None


@dataclass(frozen=True)
class _Pending:
    """No question could be asked: the model must show `preview` and call again with `token`."""

    preview: str
    token: str
    expires_in_seconds: int


@dataclass(frozen=True)
class _TokenAccepted:
    pass


def confirmed_tool(fn: Callable[..., Awaitable[Any]], preview: PreviewFn) -> Callable[..., Awaitable[Any]]:
    """`fn` (returning a `ConfirmableResult`) as a tool whose body runs only once the user confirmed.

    The token binds the tool's name and every argument of `fn` (all but the context).
    """
    signature = inspect.signature(fn, eval_str=True)
    hints = get_type_hints(fn, include_extras=True)
    result_type = hints["return"]
    if not (isinstance(result_type, type) and issubclass(result_type, ConfirmableResult)):
        raise TypeError(f"confirmed tool {fn.__name__} must return a ConfirmableResult")
    arg_names = [name for name, hint in hints.items() if name != "return" and not _is_context(hint)]
    resolver = _resolver(fn.__name__, arg_names, preview)

    async def call(*, confirmation: ElicitationResult[Any], confirmation_token: str | None = None, **args: Any) -> Any:
        del confirmation_token  # checked by the resolver
        if (deadline := current_deadline()) is not None:
            deadline.resume()  # the user has answered, if they were asked
        if (unsent := _unsent_result(confirmation, result_type)) is not None:
            if unsent.status == "cancelled":
                note_confirmation("cancelled")
            return unsent
        note_confirmation("confirmed")
        return await fn(**args)

    functools.update_wrapper(call, fn)
    extra = {
        "confirmation": Annotated[ElicitationResult[Confirm], Resolve(resolver)],
        "confirmation_token": ConfirmationToken,
    }
    call.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[
            *signature.parameters.values(),
            inspect.Parameter("confirmation", inspect.Parameter.KEYWORD_ONLY, annotation=extra["confirmation"]),
            inspect.Parameter(
                "confirmation_token", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ConfirmationToken
            ),
        ]
    )
    call.__annotations__ = {**hints, **extra}
    return call


def _resolver(tool: str, arg_names: list[str], preview: PreviewFn) -> Callable[..., Awaitable[Any]]:
    """The resolver behind a confirmed tool's hidden parameter; the SDK passes it the tool's arguments by name."""
    wanted_by_preview = list(inspect.signature(preview).parameters)[1:]  # after the Piggy API

    async def resolve(ctx: Context[Any, Any], confirmation_token: str | None, **args: Any) -> Any:
        async def stake() -> Preview:
            return await preview(runtime(ctx).api, **{name: args[name] for name in wanted_by_preview})

        try:
            decision = await _ask(ctx, tool, args, confirmation_token, stake)
        except ToolError:
            if confirmation_token is not None:
                note_confirmation("refused")
            raise
        if not isinstance(decision, _TokenAccepted):
            note_confirmation("asked")
        return decision

    resolve.__qualname__ = resolve.__name__ = f"confirm_{tool}"
    resolve.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context),
            *(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY) for name in [*arg_names, "confirmation_token"]),
        ]
    )
    resolve.__annotations__ = {"ctx": Context}
    return resolve


async def _ask(
    ctx: Context[Any, Any],
    tool: str,
    args: Mapping[str, Any],
    token: str | None,
    stake: Callable[[], Awaitable[Preview]],
) -> Elicit[Confirm] | _Pending | _TokenAccepted:
    confirmations = runtime(ctx).confirmations
    if token is not None:
        if confirmations.elicitation_only:
            raise ToolError(f"{_ASK_ONLY} confirmation_token is not accepted. Nothing was sent.")
        checked = confirmations.signer.check(token, tool, args)
        # Claimed first: a token is spent whatever happens next, so a replay is refused as one.
        await _claim(confirmations, checked)
        # What the user agreed to is read again right before sending: a token confirms that state, no other.
        described = await _described(stake)
        if stake_digest(described) != checked.stake:
            raise ToolError(
                f"What is at stake changed since the user confirmed; now: {described} Nothing was sent. Show this "
                "to the user and, only if they agree, call again without confirmation_token for a new token."
            )
        return _TokenAccepted()
    described = await _described(stake)
    if _can_elicit(ctx):
        if (deadline := current_deadline()) is not None:
            deadline.pause()  # the user's time to decide is theirs, not Piggy's
        return Elicit(f"{described}\n\nGo ahead?", Confirm)
    if confirmations.elicitation_only:
        raise ToolError(f"{_ASK_ONLY} This client cannot be asked (it does not support elicitation). Nothing was sent.")
    return _Pending(described, confirmations.signer.issue(tool, args, described), confirmations.signer.ttl_seconds)


_ASK_ONLY = (
    "This server confirms irreversible actions only by asking the user directly (PIGGY_CONFIRMATION=elicitation)."
)


async def _described(stake: Callable[[], Awaitable[Preview]]) -> str:
    try:
        return (await stake()).describe()
    except PiggyError as exc:
        raise tool_error(exc) from None


async def _claim(confirmations: Confirmations, checked: CheckedToken) -> None:
    """Record the token's single use, before the write it confirms is sent; refuse if it was used already."""
    key = hashlib.sha256(checked.token.encode()).hexdigest()
    try:
        first = await confirmations.single_use.claim(key, checked.expires_at)
    except Exception as exc:  # the store is down or unreachable: a write must not go out unrecorded
        log.warning("could not record the use of a confirmation token: %s", type(exc).__name__)
        raise ToolError(
            "The confirmation could not be recorded as used, so nothing was sent. Try again in a moment."
        ) from None
    if not first:
        raise ToolError(
            "confirmation_token was already used: the action it confirmed was sent once. Nothing was sent now. "
            "If it must happen again, call without confirmation_token for a fresh preview."
        )


def _unsent_result(outcome: ElicitationResult[Any], result_type: type[ConfirmableResult]) -> ConfirmableResult | None:
    """The result a confirmed tool returns instead of running its body, or None when the user agreed.

    Pending (no way to ask): the preview and a token for the model to show and send back. Declined,
    cancelled or unticked: a cancelled result. Nothing is sent to Piggy in either case.
    """
    if isinstance(outcome, AcceptedElicitation):
        data = outcome.data
        if isinstance(data, _Pending):
            return result_type(
                status="confirmation_required",
                message=(
                    "Nothing was sent yet. Show the preview to the user; only if they agree, call this tool "
                    "again with the same arguments plus confirmation_token."
                ),
                confirmation_token=data.token,
                expires_in_seconds=data.expires_in_seconds,
                preview=data.preview,
            )
        if isinstance(data, _TokenAccepted) or (isinstance(data, Confirm) and data.confirm):
            return None
    return result_type(status="cancelled", message="The user did not confirm. Nothing was sent to Piggy.")


def _is_context(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, Context)


def _can_elicit(ctx: Context[Any, Any]) -> bool:
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    # A bare `elicitation: {}` predates modes and means form support; url-only does not.
    if elicitation is None or (elicitation.form is None and elicitation.url is not None):
        return False
    # Before 2026-07-28 the question is a server-to-client request, which needs a back-channel
    # (absent e.g. with JSON responses); from 2026-07-28 it rides the result and the client's retry.
    version = ctx.protocol_version
    return (version is not None and is_version_at_least(version, "2026-07-28")) or ctx.session.can_send_request


__all__ = ["Confirm", "ConfirmableResult", "Preview", "PreviewFn", "confirmed_tool", "shown_email", "shown_identifier"]
