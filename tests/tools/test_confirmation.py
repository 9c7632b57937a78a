"""The confirmation mechanism (tools/confirmation.py), beyond what tests/tools/test_confirmation_contract.py checks
for every confirmed tool: the confirmation is no argument the model can fill, a modern retry asks again when the
stake changed, the token's lifetime follows the setting, replicas sharing the signing key honour each other's
tokens and others do not, a malformed, tampered or other tool's token is refused before anything is sent, and a
write Piggy accepted but answered oddly is still done.

What each confirmed tool's preview says, and what it refuses, is tested beside the tool.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import respx
from mcp.server import MCPServer

from piggy_mcp.server import build_server
from piggy_mcp.signing import Signer
from piggy_mcp.tools.runtime import Runtime
from tests.conftest import CONTACT_A, SIGNING_KEY, make_settings
from tests.helpers import (
    ACCEPT,
    CLAIM_ARGS,
    CLAIM_EMAIL,
    MERGE_ARGS,
    MODES,
    RECEPTION,
    REDEEM_ARGS,
    REVERSE_ARGS,
    SOURCE_BALANCE,
    SOURCE_EMAIL,
    Mode,
    User,
    connect,
    contact,
    envelope,
    fake_merge,
    fake_redeem,
    fake_reverse,
    structured,
    text_of,
)

# The tools' shape ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_confirmation_is_not_an_argument_the_model_can_fill(server: MCPServer[Runtime], mode: Mode) -> None:
    async with connect(server, mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    for name, own in [("merge_contacts", set(MERGE_ARGS)), ("claim_anonymous_contact", set(CLAIM_ARGS))]:
        tool = tools[name]
        properties = set(tool.input_schema["properties"])
        assert properties == own | {"confirmation_token"}
        assert "confirmation" not in properties
        assert set(tool.input_schema.get("required", [])) == own
        assert tool.annotations is not None
        assert tool.annotations.destructive_hint is True
        assert tool.annotations.read_only_hint is False


@pytest.mark.parametrize("mode", MODES)
async def test_confirmation_is_not_an_argument_the_model_can_fill_when_spending_credits(
    server: MCPServer[Runtime], mode: Mode
) -> None:
    async with connect(server, mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    # (tool, its arguments, the required ones); reverse's contact_uuid only enriches the preview, and a
    # redemption's shop may be the operator's default.
    for name, own, required in [
        ("redeem_reward", set(REDEEM_ARGS), set(REDEEM_ARGS) - {"shop_uuid"}),
        ("reverse_credit_reception", set(REVERSE_ARGS), {"credit_reception_uuid"}),
    ]:
        tool = tools[name]
        assert set(tool.input_schema["properties"]) == own | {"confirmation_token"}
        assert set(tool.input_schema.get("required", [])) == required
        assert tool.annotations is not None
        assert tool.annotations.destructive_hint is True
        assert tool.annotations.read_only_hint is False
        assert tool.annotations.idempotent_hint is False


# Elicitation -----------------------------------------------------------------------------------------


async def test_modern_retry_asks_again_when_the_stake_changed_meanwhile(
    server: MCPServer[Runtime], piggy: respx.MockRouter
) -> None:
    """On 2026-07-28 the resolver re-reads the preview on the retry that carries the answer; if what is at
    stake changed in between (a balance moved), the SDK discards the answer and the user is asked again."""
    routes = fake_merge(piggy)
    balances = iter([SOURCE_BALANCE, SOURCE_BALANCE + 10])

    def source(_: httpx.Request) -> httpx.Response:
        balance = next(balances, SOURCE_BALANCE + 10)
        return httpx.Response(200, json=envelope(contact(CONTACT_A, SOURCE_EMAIL, balance)))

    routes.source.side_effect = source
    user = User(**ACCEPT, probe=lambda: routes.merge.called)
    async with connect(server, "auto", user) as client:
        result = await client.call_tool("merge_contacts", MERGE_ARGS)

    assert structured(result)["status"] == "done"
    assert len(user.messages) == 2
    assert f"{SOURCE_BALANCE} credits" in user.messages[0]
    assert f"{SOURCE_BALANCE + 10} credits" in user.messages[1]
    assert user.probed == [False, False]
    assert routes.merge.call_count == 1


# Tokens ------------------------------------------------------------------------------------------------


async def test_token_lifetime_follows_the_configured_ttl(piggy: respx.MockRouter) -> None:
    fake_merge(piggy)
    server = build_server(make_settings(confirmation_ttl=120))
    async with connect(server, "auto") as client:
        data = structured(await client.call_tool("merge_contacts", MERGE_ARGS))
    assert data["expires_in_seconds"] == 120


@pytest.mark.parametrize("mode", MODES)
async def test_token_is_accepted_by_another_server_with_the_same_key(piggy: respx.MockRouter, mode: Mode) -> None:
    routes = fake_merge(piggy)
    async with connect(build_server(make_settings(mcp_signing_key="shared-key")), mode) as client:
        token = structured(await client.call_tool("merge_contacts", MERGE_ARGS))["confirmation_token"]
    assert not routes.merge.called

    # A different replica (fresh process state, same key) accepts it: the token needs no server memory.
    async with connect(build_server(make_settings(mcp_signing_key="shared-key")), mode) as client:
        result = await client.call_tool("merge_contacts", {**MERGE_ARGS, "confirmation_token": token})
    assert structured(result)["status"] == "done"
    assert routes.merge.call_count == 1


@pytest.mark.parametrize("mode", MODES)
async def test_token_is_refused_by_a_server_with_another_key(piggy: respx.MockRouter, mode: Mode) -> None:
    routes = fake_merge(piggy)
    async with connect(build_server(make_settings(mcp_signing_key="key-one")), mode) as client:
        token = structured(await client.call_tool("merge_contacts", MERGE_ARGS))["confirmation_token"]

    async with connect(build_server(make_settings(mcp_signing_key="key-two")), mode) as client:
        result = await client.call_tool("merge_contacts", {**MERGE_ARGS, "confirmation_token": token})
    assert result.is_error
    assert "signed with another key" in text_of(result)
    assert "Nothing was sent" in text_of(result)
    assert not routes.merge.called


def _forged(tool: str, args: dict[str, str], *, key: str = SIGNING_KEY, issued_at: float = 1_000.0) -> str:
    # The server signs with a key derived from PIGGY_MCP_SIGNING_KEY for this purpose.
    derived = make_settings(mcp_signing_key=key).derived_key("confirmation")
    return Signer(derived, 600, clock=lambda: issued_at).issue(tool, args, "the preview")


# Garbage and expired tokens are the contract's; these are the malformed ones a parser might let through, and a
# token signed with another key.
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("tool", "args", "make_token", "expected"),
    [
        pytest.param(
            "merge_contacts", MERGE_ARGS, lambda: "c1.\u00b2.sig", "not a token this server issued", id="odd-digit"
        ),
        pytest.param(
            "claim_anonymous_contact",
            CLAIM_ARGS,
            lambda: "c1.4000000000.sig\u00e9",
            "not a token this server issued",
            id="non-ascii-signature",
        ),
        pytest.param(
            "merge_contacts",
            MERGE_ARGS,
            lambda: _forged("merge_contacts", MERGE_ARGS, key="another-key", issued_at=4_000_000_000),
            "signed with another key",
            id="merge-other-key",
        ),
    ],
)
async def test_bad_token_is_a_clear_error_and_sends_nothing(
    server: MCPServer[Runtime],
    piggy: respx.MockRouter,
    mode: Mode,
    tool: str,
    args: dict[str, str],
    make_token: Callable[[], str],
    expected: str,
) -> None:
    merge = fake_merge(piggy).merge
    claim = piggy.put(f"/contacts/{CONTACT_A}/claim").respond(200, json=envelope(contact(CONTACT_A, "x@y.z", 0)))
    token = make_token()
    async with connect(server, mode) as client:
        result = await client.call_tool(tool, {**args, "confirmation_token": token})
    assert result.is_error
    text = text_of(result)
    assert expected in text
    assert "Nothing was sent" in text
    assert not merge.called
    assert not claim.called


@pytest.mark.parametrize("mode", MODES)
async def test_merge_token_cannot_confirm_a_claim(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    merge = fake_merge(piggy).merge
    claim = piggy.put(f"/contacts/{CONTACT_A}/claim").respond(200, json=envelope(contact(CONTACT_A, CLAIM_EMAIL, 0)))
    async with connect(server, mode) as client:
        token = structured(await client.call_tool("merge_contacts", MERGE_ARGS))["confirmation_token"]
        result = await client.call_tool("claim_anonymous_contact", {**CLAIM_ARGS, "confirmation_token": token})
    assert result.is_error
    assert "does not match" in text_of(result)
    assert "Nothing was sent" in text_of(result)
    assert not claim.called
    assert not merge.called


@pytest.mark.parametrize("mode", MODES)
async def test_tampered_token_is_refused(server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode) -> None:
    routes = fake_merge(piggy)
    async with connect(server, mode) as client:
        token = structured(await client.call_tool("merge_contacts", MERGE_ARGS))["confirmation_token"]
        version, expires, *rest = token.split(".")
        longer = ".".join([version, str(int(expires) + 3600), *rest])
        result = await client.call_tool("merge_contacts", {**MERGE_ARGS, "confirmation_token": longer})
    assert result.is_error
    assert "does not match" in text_of(result)
    assert not routes.merge.called


# After the write -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "args", "path"),
    [
        ("redeem_reward", REDEEM_ARGS, "/reward-receptions"),
        ("reverse_credit_reception", REVERSE_ARGS, f"/credit-receptions/{RECEPTION}/reverse"),
    ],
)
async def test_an_undocumented_success_answer_is_still_done(
    server: MCPServer[Runtime], piggy: respx.MockRouter, tool: str, args: dict[str, str], path: str
) -> None:
    """After Piggy accepted the write, an odd answer must not read as a failure the model would retry."""
    fake_redeem(piggy)
    fake_reverse(piggy)
    write = piggy.post(path).respond(204)
    user = User(**ACCEPT)
    async with connect(server, "auto", user) as client:
        data = structured(await client.call_tool(tool, args))
    assert data["status"] == "done"
    assert write.call_count == 1
