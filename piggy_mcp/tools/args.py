"""Argument types shared by several tools, with the constraints Piggy imposes, so bad input is refused early.

Schemas advertise the standard JSON Schema `format` (short, and understood by clients); the server checks the
value itself with a message a model can act on.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, WithJsonSchema

from piggy_mcp.piggy.models import is_uuid
from piggy_mcp.schema import unadvertised_limits

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?")


def _uuid(value: str) -> str:
    if not is_uuid(value):
        raise ValueError("must be a uuid such as 3f2a5c1e-8b7d-4c39-9a36-0d6f0b0c0a11, as Piggy returned it")
    return value


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError("must be an email address")
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

# A name, label, id or code. Its limits guard against garbage; no model needs to be told them.
Text = Annotated[str, unadvertised_limits(max_length=255)]
NonEmptyText = Annotated[str, unadvertised_limits(min_length=1, max_length=255)]

ContactUuid = Annotated[Uuid, Field(description="The contact's uuid.")]
ShopUuid = Annotated[Uuid, Field(description="Where it happens (list_shops).")]
Email = Annotated[EmailAddress, Field(description="The contact's email address.")]
ConfirmationToken = Annotated[
    str | None,
    Field(description="From confirmation_required, once the user agreed."),
    unadvertised_limits(max_length=200),
]
PageNumber = Annotated[int | None, Field(ge=1, description="Page number (default 1)."), unadvertised_limits(le=10_000)]
