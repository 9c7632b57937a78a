"""Pagination for list tools: what page this is, and whether and how to get the next one.

Piggy paginates in two styles (shared/piggy-api.md §2.4): `page`/`last_page` (contacts, loyalty transactions)
and Laravel's `current_page`/`last_page` (vouchers). Both are read here, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from piggy_mcp.schema import guard
from piggy_mcp.tools.base import Result

PageNumber = Annotated[int | None, Field(ge=1, description="Page number (default 1)."), guard(le=10_000)]


# What a model needs to page on: no echo of the page it asked for, nor last_page, which has_more already says.
class Paged(Result):
    total: int | None = None
    has_more: bool
    next_page: int | None = None


def paging(meta: Mapping[str, Any], page: int | None, count: int, limit: int) -> dict[str, Any]:
    """The `Paged` fields for a page of `count` items asked with `page` and (effective) `limit`."""
    current = _int(meta.get("page")) or _int(meta.get("current_page")) or page or 1
    last = _int(meta.get("last_page"))
    # Without last_page, a full page suggests there may be more: say so rather than hide items.
    has_more = current < last if last is not None else count >= limit > 0
    return {
        "total": _int(meta.get("total")),
        "has_more": has_more,
        "next_page": current + 1 if has_more else None,
    }


def _int(value: Any) -> int | None:
    # Piggy sends some counts as strings (e.g. per_page "30").
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
