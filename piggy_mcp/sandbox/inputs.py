"""Input validation in the style of Laravel's validator: collect every field's errors, then refuse with 1003.

Query strings deliver every value as a string, form bodies too, so numbers are accepted as numeric strings
(as Laravel's `integer`/`numeric` rules do).
"""

from __future__ import annotations

import re
import uuid as uuidlib
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from piggy_mcp.sandbox.errors import ApiError

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_INT = re.compile(r"[+-]?\d+")


def _label(name: str) -> str:
    # Laravel writes "The shop uuid field ..." for the key shop_uuid.
    return name.replace("_", " ")


class Fields:
    """Reads one request's input; every accessor records a message instead of raising, `check()` raises."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, list[str]] = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def check(self) -> None:
        if self.errors:
            raise ApiError(1003, errors=self.errors)

    def present(self, name: str) -> bool:
        return self.data.get(name) not in (None, "")

    def _raw(self, name: str, required: bool) -> Any:
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                self.fail(name, f"The {_label(name)} field is required.")
            return None
        return value

    def string(self, name: str, *, required: bool = False, max_length: int = 255) -> str | None:
        value = self._raw(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(name, f"The {_label(name)} must be a string.")
            return None
        if len(value) > max_length:
            self.fail(name, f"The {_label(name)} may not be greater than {max_length} characters.")
            return None
        return value

    def uuid(self, name: str, *, required: bool = False) -> str | None:
        value = self.string(name, required=required)
        if value is None:
            return None
        try:
            return str(uuidlib.UUID(value))
        except ValueError:
            self.fail(name, f"The {_label(name)} must be a valid UUID.")
            return None

    def email(self, name: str, *, required: bool = False) -> str | None:
        value = self.string(name, required=required)
        if value is not None and not _EMAIL.fullmatch(value):
            self.fail(name, f"The {_label(name)} must be a valid email address.")
            return None
        return value

    def integer(
        self, name: str, *, required: bool = False, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        value = self._raw(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not (
            isinstance(value, int) or (isinstance(value, str) and _INT.fullmatch(value))
        ):
            self.fail(name, f"The {_label(name)} must be an integer.")
            return None
        number = int(value)
        return number if self._in_range(name, number, minimum, maximum) else None

    def number(self, name: str, *, required: bool = False, minimum: float | None = None) -> float | None:
        value = self._raw(name, required)
        if value is None:
            return None
        try:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ValueError
            number = float(value)
        except ValueError:
            self.fail(name, f"The {_label(name)} must be a number.")
            return None
        return number if self._in_range(name, number, minimum, None) else None

    def _in_range(self, name: str, number: float, minimum: float | None, maximum: float | None) -> bool:
        if minimum is not None and number < minimum:
            self.fail(name, f"The {_label(name)} must be at least {minimum:g}.")
            return False
        if maximum is not None and number > maximum:
            self.fail(name, f"The {_label(name)} may not be greater than {maximum:g}.")
            return False
        return True

    def choice(self, name: str, allowed: Collection[str], *, required: bool = False) -> str | None:
        value = self.string(name, required=required)
        if value is not None and value not in allowed:
            self.fail(name, f"The selected {_label(name)} is invalid.")
            return None
        return value

    def date(self, name: str) -> datetime | None:
        value = self.string(name)
        if value is None:
            return None
        parsed = parse_date(value)
        if parsed is None:
            self.fail(name, f"The {_label(name)} is not a valid date.")
        return parsed

    def object(self, name: str, *, required: bool = False) -> Mapping[str, Any] | None:
        value = self._raw(name, required)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.fail(name, f"The {_label(name)} must be an array.")  # Laravel calls objects arrays
            return None
        return value

    def array(self, name: str, *, required: bool = False) -> list[Any] | None:
        value = self._raw(name, required)
        if value is None:
            return None
        if not isinstance(value, list):
            self.fail(name, f"The {_label(name)} must be an array.")
            return None
        return value


def parse_date(value: str) -> datetime | None:
    """ISO 8601 date or date-time; without an offset it is taken as UTC, as Piggy stores it."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
