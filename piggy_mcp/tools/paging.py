"""Pagination for list tools: what page this is, and whether and how to get the next one.

Piggy paginates in two styles (shared/piggy-api.md §2.4): `page`/`last_page` (contacts, loyalty transactions)
and Laravel's `current_page`/`last_page` (vouchers). Both are read here, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from piggy_mcp.tools.base import Result

PageNumber = Annotated[int | None, Field(ge=1, le=10_000, description="Page number (default 1).")]


class Paged(Result):
    page: int
    last_page: int | None = None
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
        "page": current,
        "last_page": last,
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
