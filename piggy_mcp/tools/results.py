"""Base of what tools return to the model.

Result models carry comments rather than docstrings: a model's docstring would be sent in its output schema.
"""

from __future__ import annotations

from piggy_mcp.piggy.models import Record


class Result(Record):
    """A tool result: fields without a value are left out (see `Record`)."""


# What a model needs to page on: no echo of the page it asked for, nor last_page, which has_more already says.
class Paged(Result):
    total: int | None = None
    has_more: bool
    next_page: int | None = None
