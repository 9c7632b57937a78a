"""Catalog: forms, perks and products."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from piggy_mcp.piggy.models import Form, Perk, Product
from piggy_mcp.tools.args import LongText, NonEmptyText
from piggy_mcp.tools.results import Result
from piggy_mcp.tools.runtime import api
from piggy_mcp.tools.toolset import IDEMPOTENT, READ, Toolset

toolset = Toolset("catalog", "List forms and perks; keep products in sync.")


class Forms(Result):
    forms: list[Form]


@toolset.tool(title="List forms", annotations=READ, untrusted=("forms",))
async def list_forms(
    ctx: Context[Any, Any],
    status: Annotated[
        Literal["PUBLISHED", "DRAFT", "BIN"] | None, Field(description="Only forms in this state.")
    ] = None,
    type: Annotated[Literal["PUBLIC", "PRIVATE"] | None, Field(description="Only forms of this kind.")] = None,
) -> Forms:
    """List the account's forms (sign-up, survey...) with their public URLs, e.g. to send a member a link."""
    return Forms(forms=await api(ctx).list_forms(status, type))


class Perks(Result):
    perks: list[Perk]


@toolset.tool(title="List perks", annotations=READ, untrusted=("perks",))
async def list_perks(ctx: Context[Any, Any]) -> Perks:
    """List the loyalty program's perks (tier benefits) and their options, e.g. to explain what a tier gives."""
    return Perks(perks=await api(ctx).list_perks())


class ProductInput(BaseModel):
    external_identifier: Annotated[NonEmptyText, Field(description="The product's id in the shop's system.")]
    name: Annotated[NonEmptyText, Field(description="Product name.")]
    description: Annotated[LongText | None, Field(description="Product description.")] = None


class Products(Result):
    products: list[Product]


@toolset.tool(title="Find or create products", annotations=IDEMPOTENT)
async def find_or_create_products(
    products: Annotated[
        list[ProductInput],
        Field(min_length=1, max_length=100, description="Products to ensure exist, by external_identifier."),
    ],
    ctx: Context[Any, Any],
) -> Products:
    """Make sure the shop's catalog products exist in Piggy, e.g. before orders name them: each is matched by
    external_identifier and created if missing; existing ones stay unchanged. Says which were created."""
    unique = {p.external_identifier: p.model_dump() for p in products}
    return Products(products=await api(ctx).find_or_create_products(list(unique.values())))
