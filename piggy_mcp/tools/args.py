"""Argument types shared by several tools, with the constraints Piggy imposes, so bad input is refused early.

Schemas advertise the standard JSON Schema `format` (short, and understood by clients); the server checks the
value itself with a message a model can act on.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field, WithJsonSchema

from piggy_mcp.piggy.models import is_uuid
from piggy_mcp.schema import unadvertised_limits

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# C0 controls but tab, line feed and carriage return; DEL and the C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?")


def _uuid(value: str) -> str:
    if not is_uuid(value):
        raise ValueError("must be a uuid such as 3f2a5c1e-8b7d-4c39-9a36-0d6f0b0c0a11, as Piggy returned it")
    return value


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError("must be an email address")
    return value


def _printable(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters (such as NUL)")
    return value


def _date_time(value: str) -> str:
    if not _DATE_TIME.fullmatch(value):
        raise ValueError("must be an ISO 8601 date or date-time, e.g. 2026-12-31T23:59:00Z")
    return value


Uuid = Annotated[str, AfterValidator(_uuid), WithJsonSchema({"type": "string", "format": "uuid"})]
EmailAddress = Annotated[
    str, Field(max_length=254), AfterValidator(_email), WithJsonSchema({"type": "string", "format": "email"})
]
DateTime = Annotated[
    str,
    AfterValidator(_date_time),
    WithJsonSchema({"type": "string", "format": "date-time"}),
    Field(description="ISO 8601, UTC or with offset, e.g. 2026-12-31T23:59:00Z."),
]

# Free text sent to Piggy: bounded, and without control characters. The limits guard against garbage; no model
# needs to be told them.
# A code, unit or status.
ShortText = Annotated[str, unadvertised_limits(max_length=64), AfterValidator(_printable)]
NonEmptyShortText = Annotated[str, unadvertised_limits(min_length=1, max_length=64), AfterValidator(_printable)]
# A name, label or id.
Text = Annotated[str, unadvertised_limits(max_length=255), AfterValidator(_printable)]
NonEmptyText = Annotated[str, unadvertised_limits(min_length=1, max_length=255), AfterValidator(_printable)]
# A description.
LongText = Annotated[str, unadvertised_limits(max_length=5000), AfterValidator(_printable)]


def _attribute_name(value: str) -> str:
    if not _ATTRIBUTE_NAME.fullmatch(value):
        raise ValueError("attribute names are letters, digits and underscores, e.g. preferred_category")
    return value


_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
# An attribute's name, as Piggy names attributes.
AttributeName = Annotated[str, AfterValidator(_attribute_name)]


def _named_once(entries: list[Any]) -> list[Any]:
    names = [entry.name for entry in entries]
    if twice := sorted({name for name in names if names.count(name) > 1}):
        raise ValueError(f"must name each attribute once, but names {', '.join(twice)} twice")
    return entries


# For a list of name-and-value pairs: Piggy receives them as a map, which keeps one value per name.
NamedOnce = AfterValidator(_named_once)

ContactUuid = Annotated[Uuid, Field(description="The contact's uuid.")]
# Optional: without it, the operator's default shop (PIGGY_SHOP_UUID), if there is one.
ShopUuid = Annotated[Uuid | None, Field(description="Where it happens (list_shops).")]
Email = Annotated[EmailAddress, Field(description="The contact's email address.")]
ConfirmationToken = Annotated[
    str | None,
    Field(description="Given once the user agreed."),
    unadvertised_limits(max_length=200),
]
PageNumber = Annotated[
    int | None, Field(strict=True, ge=1, description="Page number (default 1)."), unadvertised_limits(le=10_000)
]
PerPage = Annotated[int | None, Field(strict=True, ge=1, le=100)]
