"""A write sent at most once per key, for the writes Piggy itself could apply twice (it has no idempotency keys).

The first call with a key records it as pending, sends the write, and records the result; a repeat, in this
process or any other of the deployment, answers with that result and sends nothing. A write whose outcome stayed
unknown stays pending: repeats are refused until someone has checked, since sending it again could apply it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from piggy_mcp.piggy import PiggyError
from piggy_mcp.piggy.errors import OutcomeUnknownError
from piggy_mcp.tools.args import NonEmptyText
from piggy_mcp.tools.runtime import runtime

log = logging.getLogger(__name__)

R = TypeVar("R", bound=BaseModel)

# How long a caller's idempotency key is remembered.
IDEMPOTENCY_TTL = 24 * 3600
# The argument of the money writes Piggy could apply twice, and what their results say of a repeat.
IdempotencyKey = Annotated[
    NonEmptyText | None, Field(description="Order or message id: a repeat in 24 h sends nothing.")
]
REPEAT_NOTE = " If this idempotency_key was used in the last 24 hours, nothing is sent and the first result returned."
ALREADY_PROCESSED = "Already processed with this idempotency_key: nothing was sent now; this is the first result."


async def at_most_once(
    ctx: Context[Any, Any],
    *,
    scope: str,
    key: str | None,
    ttl_seconds: int,
    send: Callable[[], Awaitable[R]],
    result_type: type[R],
    repeat: Mapping[str, Any],
) -> R:
    """`send()`'s result; or, when `key` was processed before within `scope`, its first result with the fields
    `repeat` names set, which tell the model nothing was sent now.

    Without a key the write is simply sent.
    """
    if key is None:
        return await send()
    processed = runtime(ctx).processed
    try:
        earlier = await processed.begin(scope, key, ttl_seconds)
    except Exception as exc:  # the store is down: a write must not go out unrecorded
        log.warning("could not read the record of writes already sent: %s", type(exc).__name__)
        raise ToolError(
            "The record of writes already sent could not be read, so nothing was sent. Try again soon."
        ) from None
    if earlier is not None:
        if earlier.result is None:
            raise ToolError(
                f"A call with this {scope} was sent before, and its outcome is not known (or it is still running). "
                "Nothing was sent now. Check in Piggy whether it took effect before doing anything else."
            )
        return result_type.model_validate(earlier.result).model_copy(update=dict(repeat))
    try:
        result = await send()
    except OutcomeUnknownError:
        raise  # it may have taken effect: the record stays pending
    except (PiggyError, ToolError):
        await processed.abandon(scope, key)  # refused or never sent: it may be sent again
        raise
    try:
        await processed.finish(scope, key, result.model_dump(mode="json"), ttl_seconds)
    except Exception as exc:  # the write is done; a repeat will find it pending and be refused
        log.warning("could not record a write that was sent: %s", type(exc).__name__)
    return result
