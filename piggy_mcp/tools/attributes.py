"""Contact attributes: the custom fields every contact profile carries."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from piggy_mcp.schema import guard
from piggy_mcp.tools.args import NonEmptyText
from piggy_mcp.tools.base import WRITE, Result, Toolset, api

toolset = Toolset("attributes", "Add custom fields to contact profiles.")

DataType = Literal[
    "url", "text", "date", "phone", "float", "color", "email", "number", "select", "boolean", "rich_text",
    "date_time", "long_text", "date_range", "time_range", "identifier", "birth_date", "file_upload",
    "media_upload", "multi_select", "license_plate",
]  # fmt: skip
CHOICE_TYPES = frozenset({"select", "multi_select"})


class Option(BaseModel):
    label: Annotated[NonEmptyText, Field(description="Shown to people.")]
    value: Annotated[NonEmptyText, Field(description="Stored on the contact.")]


class AttributeOption(Result):
    label: str | None = None
    value: str | None = None


# What Piggy created, minus the label the caller just chose.
class ContactAttribute(Result):
    name: str
    type: str | None = None
    options: list[AttributeOption] | None = None


@toolset.tool(title="Create contact attribute", annotations=WRITE)
async def create_contact_attribute(
    name: Annotated[
        str,
        Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64, description="Unique internal name, snake_case."),
    ],
    label: Annotated[NonEmptyText, Field(description="Display label.")],
    data_type: Annotated[DataType, Field(description="Kind of value the field holds.")],
    ctx: Context[Any, Any],
    description: Annotated[str | None, Field(description="What the field is for."), guard(max_length=1000)] = None,
    options: Annotated[
        list[Option] | None,
        Field(min_length=1, max_length=100, description="The choices; required for select and multi_select only."),
    ] = None,
) -> ContactAttribute:
    """Add a new custom field to every contact profile, e.g. a "preferred category" select. Check
    list_contact_attributes first: Piggy refuses a name that already exists (60009). Values are then set per
    contact with update_contact."""
    if data_type in CHOICE_TYPES and not options:
        raise ToolError(f"A {data_type} attribute needs options: pass options as [{{label, value}}, ...].")
    if data_type not in CHOICE_TYPES and options:
        raise ToolError(f"Options apply only to select and multi_select, not {data_type}; leave options out.")
    created = await api(ctx).create_contact_attribute(
        name, label, data_type, description, [o.model_dump() for o in options] if options else None
    )
    return ContactAttribute.model_validate(created)
