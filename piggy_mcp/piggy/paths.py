"""What every endpoint module does to arguments before they go into a request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from piggy_mcp.piggy.errors import InvalidInputError
from piggy_mcp.piggy.models import is_uuid


def path_id(value: str) -> str:
    """A path segment (or reference) that must be a UUID: anything else could change the URL's path."""
    if is_uuid(value):
        return value.lower()
    raise InvalidInputError(f"{value!r} is not a UUID", next_step="Pass the uuid exactly as Piggy gave it.")


def optional_path_id(value: str | None) -> str | None:
    return path_id(value) if value is not None else None


def compact(body: Mapping[str, Any]) -> dict[str, Any]:
    """Drop arguments that were not given, so Piggy applies its own defaults."""
    return {k: v for k, v in body.items() if v is not None}
