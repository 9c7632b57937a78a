"""Contact attributes: the custom fields every contact profile carries."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from piggy_mcp.piggy.models import Attribute
from piggy_mcp.schema import unadvertised_limits
from piggy_mcp.tools.args import LongText, NonEmptyText
from piggy_mcp.tools.results import Result
from piggy_mcp.tools.runtime import api
from piggy_mcp.tools.toolset import READ, WRITE, Toolset

toolset = Toolset("attributes", "List contact profile fields and add custom ones.")


class ContactAttributes(Result):
    attributes: list[Attribute]


@toolset.tool(title="List contact attributes", annotations=READ, untrusted=("attributes",))
async def list_contact_attributes(ctx: Context[Any, Any]) -> ContactAttributes:
    """List the contact profile fields: name, label, type, select options, and whether update_contact may
    write them."""
    return ContactAttributes(attributes=await api(ctx).list_contact_attributes())


DataType = Literal[
    "url", "text", "date", "phone", "float", "color", "email", "number", "select", "boolean", "rich_text",
    "date_time", "long_text", "date_range", "time_range", "identifier", "birth_date", "file_upload",
    "media_upload", "multi_select", "license_plate",
]  # fmt: skip
CHOICE_TYPES = frozenset({"select", "multi_select"})


class Option(BaseModel):
    label: NonEmptyText
    value: NonEmptyText


# What Piggy created, as confirmation: the caller chose the rest (label, options) a moment ago.
class ContactAttribute(Result):
    name: str
    type: str | None = None


@toolset.tool(title="Create contact attribute", annotations=WRITE)
async def create_contact_attribute(
    name: Annotated[
        str,
        Field(pattern=r"^[a-z][a-z0-9_]*$", description="Unique internal name, snake_case."),
        unadvertised_limits(max_length=64),
    ],
    label: Annotated[NonEmptyText, Field(description="Display label.")],
    data_type: Annotated[DataType, Field(description="Kind of value the field holds.")],
    ctx: Context[Any, Any],
    description: Annotated[LongText | None, Field(description="What the field is for.")] = None,
    options: Annotated[
        list[Option] | None,
        Field(description="Choices {label, value} of a select or multi_select."),
        unadvertised_limits(min_length=1, max_length=100),
    ] = None,
) -> ContactAttribute:
    """Add a custom field to every contact profile, e.g. a "preferred category" select. Check
    list_contact_attributes first: Piggy refuses an existing name (60009). Set values per contact with
    update_contact."""
    if data_type in CHOICE_TYPES and not options:
        raise ToolError(f"A {data_type} attribute needs options: pass options as [{{label, value}}, ...].")
    if data_type not in CHOICE_TYPES and options:
        raise ToolError(f"Options apply only to select and multi_select, not {data_type}; leave options out.")
    created = await api(ctx).create_contact_attribute(
        name, label, data_type, description, [o.model_dump() for o in options] if options else None
    )
    return ContactAttribute(name=created.name, type=created.type)
