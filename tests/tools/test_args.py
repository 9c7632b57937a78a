"""Argument types shared by the tools (tools/args.py): a uuid or an email address is refused, with a message a
model can act on, before anything reaches Piggy."""

from __future__ import annotations

import pytest
import respx
from mcp import Client
from pydantic import TypeAdapter, ValidationError

from piggy_mcp.tools.args import Email, Uuid
from tests.conftest import CONTACT_A


@pytest.mark.parametrize("good", [CONTACT_A, CONTACT_A.upper(), "3f2a5c1e-8b7d-4c39-9a36-0d6f0b0c0a11"])
def test_the_uuid_type_accepts_uuids(good: str) -> None:
    assert TypeAdapter(Uuid).validate_python(good) == good


@pytest.mark.parametrize(
    "bad", ["", "not-a-uuid", CONTACT_A[:-1], CONTACT_A + "/claim", "../" + CONTACT_A, CONTACT_A.replace("-", "")]
)
def test_the_uuid_type_refuses_anything_else(bad: str) -> None:
    with pytest.raises(ValidationError, match="must be a uuid"):
        TypeAdapter(Uuid).validate_python(bad)


@pytest.mark.parametrize("bad", ["jane", "jane@", "@example.com", "jane@example", "jane doe@example.com", "a@b@c.com"])
def test_the_email_type_refuses_non_addresses(bad: str) -> None:
    assert TypeAdapter(Email).validate_python("jane.doe+loyalty@example.co.uk")
    with pytest.raises(ValidationError, match="must be an email address"):
        TypeAdapter(Email).validate_python(bad)


async def test_tool_rejects_path_like_uuid_without_calling_piggy(client: Client, piggy: respx.MockRouter) -> None:
    anything = piggy.route()
    result = await client.call_tool("get_contact_credit_balance", {"contact_uuid": "../contacts"})
    assert result.is_error
    assert anything.call_count == 0
