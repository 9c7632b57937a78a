"""Argument types shared by several tools, with the constraints Piggy imposes, so schemas reject bad input."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
DATE_TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"

ContactUuid = Annotated[str, Field(pattern=UUID_PATTERN, description="The contact's uuid.")]
ShopUuid = Annotated[str, Field(pattern=UUID_PATTERN, description="uuid of the shop where this happens.")]
Email = Annotated[str, Field(pattern=EMAIL_PATTERN, max_length=254, description="The contact's email address.")]
DateTime = Annotated[
    str,
    Field(pattern=DATE_TIME_PATTERN, description="ISO 8601 date-time, UTC or with offset, e.g. 2026-12-31T23:59:00Z."),
]
ConfirmationToken = Annotated[
    str | None,
    Field(
        max_length=200,
        description="Only when a previous call answered status=confirmation_required and the user agreed: "
        "the confirmation_token it returned, with the same other arguments.",
    ),
]
