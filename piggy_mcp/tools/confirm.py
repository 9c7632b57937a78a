"""Confirmation before irreversible writes (merge, claim), for clients with and without elicitation.

A destructive tool takes a parameter `Annotated[ElicitationResult[Confirm], Resolve(resolver)]` whose
resolver calls `ask()`. `ask()` reads what is at stake (the preview) and then either
- asks the user through elicitation (SDK `Elicit`: serves both protocol eras with one code path), or
- for a client without elicitation, hands the tool a `Pending` with a signed confirmation token; the tool
  returns it to the model, which shows the preview to the user and calls again with the token, or
- accepts a valid token from such a second call without asking again.
`unless_confirmed()` turns whichever of these arrived into what the tool body should do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import Elicit
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field

from piggy_mcp.piggy import PiggyError
from piggy_mcp.tools.base import Result, runtime, tool_error


class Confirm(BaseModel):
    """The question asked through elicitation. Flat, as elicitation schemas must be."""

    confirm: bool = Field(title="Go ahead", description="Tick to confirm.")


class Preview(Protocol):
    """What is at stake, shown to the user before they decide."""

    def describe(self) -> str: ...


@dataclass(frozen=True)
class Pending:
    """No question could be asked: the model must show `preview` and call again with `token`."""

    preview: Preview
    token: str
    expires_in_seconds: int


@dataclass(frozen=True)
class _TokenApproved:
    pass


async def ask(
    ctx: Context[Any, Any],
    tool: str,
    args: Mapping[str, Any],
    token: str | None,
    preview: Callable[[], Awaitable[Preview]],
) -> Elicit[Confirm] | Pending | _TokenApproved:
    """The body of a destructive tool's confirmation resolver; see the module docstring."""
    signer = runtime(ctx).signer
    if token is not None:
        signer.redeem(token, tool, args)
        return _TokenApproved()
    try:
        stake = await preview()
    except PiggyError as exc:
        raise tool_error(exc) from None
    if _can_elicit(ctx):
        return Elicit(f"{stake.describe()}\n\nGo ahead?", Confirm)
    return Pending(stake, signer.issue(tool, args), signer.ttl_seconds)


ResultT = TypeVar("ResultT", bound="ConfirmableResult")


# Fields every confirmed tool returns besides its own. (A comment: a docstring would be sent in the output schema.)
class ConfirmableResult(Result):
    status: Literal["done", "confirmation_required", "cancelled"]
    message: str
    # What is at stake, worded for the user: the very text an elicitation shows, so both ways to confirm agree.
    preview: str | None = None
    confirmation_token: str | None = None
    expires_in_seconds: int | None = None


def unless_confirmed(outcome: ElicitationResult[Any], result_type: type[ResultT]) -> ResultT | None:
    """The result a confirmed tool returns instead of sending its write, or None when the user agreed.

    Pending (no way to ask): the preview and a token for the model to show and send back. Declined,
    cancelled or unticked: a cancelled result. Nothing is sent to Piggy in either case.
    """
    if isinstance(outcome, AcceptedElicitation):
        data = outcome.data
        if isinstance(data, Pending):
            return result_type.model_validate(
                {
                    "status": "confirmation_required",
                    "message": (
                        "Nothing was sent yet. Show the preview to the user; only if they agree, call this tool "
                        "again with the same arguments plus confirmation_token."
                    ),
                    "confirmation_token": data.token,
                    "expires_in_seconds": data.expires_in_seconds,
                    "preview": data.preview.describe(),
                }
            )
        if isinstance(data, _TokenApproved) or (isinstance(data, Confirm) and data.confirm):
            return None
    return result_type(status="cancelled", message="The user did not confirm. Nothing was sent to Piggy.")


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
