"""Links from tool results to the resources they name: a result about one member points to its card, a voucher
tool's result to the voucher, so that a client can read it again later or subscribe to it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

from piggy_mcp.audit import json_form
from piggy_mcp.resource_uris import (
    ServedResources,
    contact_uri,
    contact_uuid_problem,
    voucher_code_problem,
    voucher_uri,
)
from piggy_mcp.tools import ToolSpec


class ResourceLinks:
    """Middleware: a successful tool result naming one contact (`contact_uuid`, or a contact tool's `uuid`) or, from a
    voucher tool, one voucher (`code`, in the result or the arguments) ends with a resource link to it, where this
    server serves that resource."""

    def __init__(self, specs: Iterable[ToolSpec], served: ServedResources) -> None:
        self._toolsets = {spec.name: spec.toolset for spec in specs}
        self._served = served

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        if ctx.method != "tools/call":
            return result
        wire = json_form(result)
        named = wire.get("structuredContent")
        if wire.get("isError") or "content" not in wire or not isinstance(named, dict):
            return result
        params = ctx.params or {}
        arguments = params.get("arguments")
        given = arguments if isinstance(arguments, dict) else {}
        links = self._links(self._toolsets.get(str(params.get("name"))), {**given, **named})
        return {**wire, "content": [*wire["content"], *links]} if links else result

    def _links(self, toolset: str | None, named: dict[str, Any]) -> list[dict[str, Any]]:
        """`named`: the call's arguments, and over them its result's fields."""
        links = []
        contact = named.get("contact_uuid") or (named.get("uuid") if toolset == "contacts" else None)
        if self._served.contacts and isinstance(contact, str) and contact_uuid_problem(contact) is None:
            links.append(_link(contact_uri(contact), "contact", "Member card"))
        code = named.get("code") if toolset == "vouchers" else None
        if self._served.vouchers and isinstance(code, str) and voucher_code_problem(code) is None:
            links.append(_link(voucher_uri(code), "voucher", "Voucher"))
        return links


def _link(uri: str, name: str, title: str) -> dict[str, Any]:
    return {"type": "resource_link", "uri": uri, "name": name, "title": title, "mimeType": "application/json"}
