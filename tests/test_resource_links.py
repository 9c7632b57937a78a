"""Tool results that name a member or a voucher link to its resource, where the server serves it."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.types import ResourceLink

from piggy_mcp.resource_uris import contact_uri, voucher_uri
from piggy_mcp.sandbox.seed import SEED
from piggy_mcp.server import build_server
from tests.conftest import make_settings

pytestmark = pytest.mark.anyio


async def links(toolsets: list[str], tool: str, arguments: dict[str, Any]) -> list[str]:
    async with Client(build_server(make_settings(sandbox=True, toolsets=toolsets))) as client:
        result = await client.call_tool(tool, arguments)
    return [str(block.uri) for block in result.content if isinstance(block, ResourceLink)]


async def test_a_result_about_a_member_links_to_their_card() -> None:
    sanne = SEED.contacts.sanne_store
    assert await links(["contacts", "loyalty"], "get_contact_credit_balance", {"contact_uuid": sanne}) == [
        contact_uri(sanne)
    ]
    assert await links(["contacts"], "get_contact", {"contact_uuid": sanne}) == [contact_uri(sanne)]


async def test_a_voucher_found_by_code_links_to_itself_and_its_owner() -> None:
    found = await links(["contacts", "vouchers"], "find_voucher_by_code", {"code": SEED.codes.active})
    assert voucher_uri(SEED.codes.active) in found
    assert any(uri.startswith("piggy://contacts/") for uri in found)


async def test_no_link_to_a_resource_the_server_does_not_serve() -> None:
    sanne = SEED.contacts.sanne_store
    assert await links(["loyalty"], "get_contact_credit_balance", {"contact_uuid": sanne}) == []
    assert await links(["vouchers"], "find_voucher_by_code", {"code": SEED.codes.active}) == [
        voucher_uri(SEED.codes.active)
    ]


async def test_a_failed_call_links_nothing() -> None:
    unknown = "99999999-9999-4999-8999-999999999999"
    assert await links(["contacts", "loyalty"], "get_contact_credit_balance", {"contact_uuid": unknown}) == []
