"""Confirmation before irreversible writes: merge_contacts and claim_anonymous_contact.

Nothing may reach Piggy's write endpoints until the user agreed, either through elicitation (both protocol
eras) or, for a client without elicitation, through a signed confirmation_token on a second call.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import pytest
import respx
from mcp import Client
from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, ElicitRequestFormParams, ElicitResult, TextContent

from piggy_mcp.server import build_server
from piggy_mcp.signing import Signer
from piggy_mcp.tools.runtime import Runtime
from tests.conftest import CONTACT_A, CONTACT_B, SIGNING_KEY, make_settings

# The two protocol eras: "auto" speaks 2026-07-28 to an in-process server (input-required results and
# retries), "legacy" the initialize handshake with a mid-call elicitation/create request.
MODES = ["auto", "legacy"]
Mode = Literal["auto", "legacy"]

SOURCE_EMAIL = "old.address@example.com"
SOURCE_BALANCE = 49
DESTINATION_EMAIL = "jane.doe@example.com"
DESTINATION_BALANCE = 120

CLAIM_EMAIL = "jane.doe@example.com"
ANONYMOUS_BALANCE = 35
EXISTING_BALANCE = 120

MERGE_ARGS = {"source_contact_uuid": CONTACT_A, "destination_contact_uuid": CONTACT_B}
CLAIM_ARGS = {"anonymous_contact_uuid": CONTACT_A, "email": CLAIM_EMAIL}

# A uuid with hex letters, so that its upper-case spelling is a different string.
HEX_UUID = "abcdef01-2345-4678-89ab-cdef01234567"

NOT_FOUND_BODY = {"message": "Contact not found", "code": 55031, "status_code": 400}


def contact(uuid: str, email: str | None, balance: int, *, anonymous: bool = False) -> dict[str, Any]:
    return {
        "uuid": uuid,
        "email": email,
        "credit_balance": {"balance": balance, "id": 1},
        "current_values": {"is_anonymous": anonymous},
    }


def envelope(data: Any) -> dict[str, Any]:
    return {"data": data, "meta": []}


# Piggy, faked ------------------------------------------------------------------------------------


@dataclass
class MergeRoutes:
    source: respx.Route
    destination: respx.Route
    merge: respx.Route


@dataclass
class ClaimRoutes:
    anonymous: respx.Route
    find: respx.Route
    claim: respx.Route


def fake_merge(piggy: respx.MockRouter) -> MergeRoutes:
    return MergeRoutes(
        source=piggy.get(f"/contacts/{CONTACT_A}").respond(
            200, json=envelope(contact(CONTACT_A, SOURCE_EMAIL, SOURCE_BALANCE))
        ),
        destination=piggy.get(f"/contacts/{CONTACT_B}").respond(
            200, json=envelope(contact(CONTACT_B, DESTINATION_EMAIL, DESTINATION_BALANCE))
        ),
        # Piggy documents no body for a merge.
        merge=piggy.post("/contacts/merge").respond(200, json=envelope(None)),
    )


def fake_claim(piggy: respx.MockRouter, *, existing: bool = True, anonymous: bool = True) -> ClaimRoutes:
    find = piggy.get("/contacts/find-one-by", params={"email": CLAIM_EMAIL})
    if existing:
        find.respond(200, json=envelope(contact(CONTACT_B, CLAIM_EMAIL, EXISTING_BALANCE)))
    else:
        find.respond(400, json=NOT_FOUND_BODY)
    claimed = contact(CONTACT_A, CLAIM_EMAIL, ANONYMOUS_BALANCE, anonymous=False)
    return ClaimRoutes(
        anonymous=piggy.get(f"/contacts/{CONTACT_A}").respond(
            200,
            json=envelope(
                contact(CONTACT_A, None if anonymous else "known@example.com", ANONYMOUS_BALANCE, anonymous=anonymous)
            ),
        ),
        find=find,
        claim=piggy.put(f"/contacts/{CONTACT_A}/claim").respond(200, json=envelope(claimed)),
    )


def body(route: respx.Route) -> Any:
    request: httpx.Request = route.calls.last.request
    return json.loads(request.content)


# Clients -----------------------------------------------------------------------------------------


@dataclass
class User:
    """An elicitation callback: records what the user was shown and answers as told.

    `probe` runs when the question is shown, to record the state of the world at that moment (was the
    write already sent?).
    """

    action: Literal["accept", "decline", "cancel"]
    content: dict[str, Any] | None = None
    probe: Callable[[], Any] | None = None
    messages: list[str] = field(default_factory=list)
    schemas: list[dict[str, Any]] = field(default_factory=list)
    probed: list[Any] = field(default_factory=list)

    async def __call__(self, context: Any, params: Any) -> ElicitResult:
        assert isinstance(params, ElicitRequestFormParams)
        self.messages.append(params.message)
        self.schemas.append(params.requested_schema)
        if self.probe is not None:
            self.probed.append(self.probe())
        return ElicitResult(action=self.action, content=self.content)


ACCEPT = {"action": "accept", "content": {"confirm": True}}
ACCEPT_UNTICKED = {"action": "accept", "content": {"confirm": False}}
DECLINE = {"action": "decline"}
CANCEL = {"action": "cancel"}


@asynccontextmanager
async def connect(server: MCPServer[Runtime], mode: Mode, user: User | None = None) -> AsyncIterator[Client]:
    async with Client(server, mode=mode, elicitation_callback=user) as connected:
        # Each mode really speaks its era.
        assert (connected.protocol_version >= "2026-07-28") == (mode == "auto"), connected.protocol_version
        yield connected


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def structured(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text_of(result)
    data: dict[str, Any] | None = result.structured_content
    assert data is not None
    return data


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


# Merge through elicitation ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_merge_accepted_through_elicitation_sends_once(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_merge(piggy)
    user = User(**ACCEPT, probe=lambda: routes.merge.called)  # type: ignore[arg-type]
    async with connect(server, mode, user) as client:
        result = await client.call_tool("merge_contacts", MERGE_ARGS)

    data = structured(result)
    assert data["status"] == "done"
    assert "asynchronous" in data["message"]
    assert "confirmation_token" not in data

    # The user was asked exactly once, about what is really at stake, before anything was sent.
    assert len(user.messages) == 1
    message = user.messages[0]
    for fact in (SOURCE_EMAIL, DESTINATION_EMAIL, str(SOURCE_BALANCE), str(DESTINATION_BALANCE)):
        assert fact in message
    assert message.index(SOURCE_EMAIL) < message.index(DESTINATION_EMAIL)
    assert user.probed == [False]
    schema = user.schemas[0]
    assert schema["properties"]["confirm"]["type"] == "boolean"
    assert routes.source.called and routes.destination.called

    assert routes.merge.call_count == 1
    assert body(routes.merge) == MERGE_ARGS


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("answer", [ACCEPT_UNTICKED, DECLINE, CANCEL], ids=["unticked", "decline", "cancel"])
async def test_merge_not_confirmed_through_elicitation_sends_nothing(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode, answer: dict[str, Any]
) -> None:
    routes = fake_merge(piggy)
    user = User(**answer)
    async with connect(server, mode, user) as client:
        result = await client.call_tool("merge_contacts", MERGE_ARGS)

    data = structured(result)
    assert data["status"] == "cancelled"
    assert "Nothing was sent" in data["message"]
    assert "confirmation_token" not in data
    assert len(user.messages) == 1
    assert SOURCE_EMAIL in user.messages[0]
    assert not routes.merge.called


@pytest.mark.parametrize("mode", MODES)
async def test_merge_preview_failure_asks_nothing_and_sends_nothing(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_merge(piggy)
    piggy.get(f"/contacts/{CONTACT_B}").respond(400, json=NOT_FOUND_BODY)
    user = User(**ACCEPT)  # type: ignore[arg-type]
    async with connect(server, mode, user) as client:
        result = await client.call_tool("merge_contacts", MERGE_ARGS)

    assert result.is_error
    assert "55031" in text_of(result)
    assert user.messages == []
    assert not routes.merge.called


@pytest.mark.parametrize("mode", MODES)
async def test_merge_of_a_contact_into_itself_is_refused(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    merge = piggy.post("/contacts/merge").respond(200, json=envelope(None))
    user = User(**ACCEPT)  # type: ignore[arg-type]
    async with connect(server, mode, user) as client:
        result = await client.call_tool(
            "merge_contacts", {"source_contact_uuid": HEX_UUID, "destination_contact_uuid": HEX_UUID.upper()}
        )
    assert result.is_error
    assert "same contact" in text_of(result)
    assert user.messages == []
    assert not merge.called


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
    user = User(**ACCEPT, probe=lambda: routes.merge.called)  # type: ignore[arg-type]
    async with connect(server, "auto", user) as client:
        result = await client.call_tool("merge_contacts", MERGE_ARGS)

    assert structured(result)["status"] == "done"
    assert len(user.messages) == 2
    assert f"{SOURCE_BALANCE} credits" in user.messages[0]
    assert f"{SOURCE_BALANCE + 10} credits" in user.messages[1]
    assert user.probed == [False, False]
    assert routes.merge.call_count == 1


# Claim through elicitation -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_claim_accepted_through_elicitation_sends_once(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_claim(piggy, existing=True)
    user = User(**ACCEPT, probe=lambda: routes.claim.called)  # type: ignore[arg-type]
    async with connect(server, mode, user) as client:
        result = await client.call_tool("claim_anonymous_contact", CLAIM_ARGS)

    data = structured(result)
    assert data["status"] == "done"
    assert data["contact"] == {"uuid": CONTACT_A, "credit_balance": ANONYMOUS_BALANCE}

    assert len(user.messages) == 1
    message = user.messages[0]
    # The anonymous contact, the email, and the existing contact it will be merged with.
    for fact in (CONTACT_A, CLAIM_EMAIL, CONTACT_B, str(ANONYMOUS_BALANCE), str(EXISTING_BALANCE)):
        assert fact in message
    assert "MERGE" in message
    assert user.probed == [False]
    assert routes.anonymous.called and routes.find.called

    assert routes.claim.call_count == 1
    assert body(routes.claim) == {"email": CLAIM_EMAIL}


@pytest.mark.parametrize("mode", MODES)
async def test_claim_without_existing_contact_says_so_in_the_question(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_claim(piggy, existing=False)
    user = User(**ACCEPT, probe=lambda: routes.claim.called)  # type: ignore[arg-type]
    async with connect(server, mode, user) as client:
        result = await client.call_tool("claim_anonymous_contact", CLAIM_ARGS)

    assert structured(result)["status"] == "done"
    assert len(user.messages) == 1
    message = user.messages[0]
    assert CONTACT_A in message
    assert CLAIM_EMAIL in message
    assert "no contact has it" in message
    assert "MERGE" not in message
    assert user.probed == [False]
    assert routes.find.called
    assert routes.claim.call_count == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("answer", [ACCEPT_UNTICKED, DECLINE, CANCEL], ids=["unticked", "decline", "cancel"])
async def test_claim_not_confirmed_through_elicitation_sends_nothing(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode, answer: dict[str, Any]
) -> None:
    routes = fake_claim(piggy, existing=True)
    user = User(**answer)
    async with connect(server, mode, user) as client:
        result = await client.call_tool("claim_anonymous_contact", CLAIM_ARGS)

    data = structured(result)
    assert data["status"] == "cancelled"
    assert "Nothing was sent" in data["message"]
    assert "contact" not in data
    assert len(user.messages) == 1
    assert not routes.claim.called


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("elicits", [True, False], ids=["elicitation", "no-elicitation"])
async def test_claim_of_a_contact_that_is_not_anonymous_is_refused_before_anything_is_sent(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode, elicits: bool
) -> None:
    routes = fake_claim(piggy, anonymous=False)
    user = User(**ACCEPT) if elicits else None  # type: ignore[arg-type]
    async with connect(server, mode, user) as client:
        result = await client.call_tool("claim_anonymous_contact", CLAIM_ARGS)

    assert result.is_error
    text = text_of(result)
    assert "not anonymous" in text
    assert "Nothing was sent" in text
    assert "confirmation_token" not in text
    assert user is None or user.messages == []
    assert routes.anonymous.called
    assert not routes.claim.called


# Clients without elicitation: the confirmation token --------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_merge_without_elicitation_round_trips_through_a_token(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_merge(piggy)
    async with connect(server, mode) as client:
        first = await client.call_tool("merge_contacts", MERGE_ARGS)

        pending = structured(first)
        assert pending["status"] == "confirmation_required"
        assert "Nothing was sent" in pending["message"]
        assert pending["expires_in_seconds"] == 600
        token = pending["confirmation_token"]
        assert isinstance(token, str) and token
        # The preview is the text an elicitation would show: both contacts, source first.
        preview = pending["preview"]
        assert f"{SOURCE_EMAIL} (uuid {CONTACT_A}, {SOURCE_BALANCE} credits) INTO" in preview
        assert f"INTO {DESTINATION_EMAIL} (uuid {CONTACT_B}, {DESTINATION_BALANCE} credits)" in preview
        assert "cannot be undone" in preview
        # The same facts reach a model that reads only the text content.
        assert token in text_of(first)
        assert SOURCE_EMAIL in text_of(first)
        assert routes.source.called and routes.destination.called
        assert not routes.merge.called

        second = await client.call_tool("merge_contacts", {**MERGE_ARGS, "confirmation_token": token})

    done = structured(second)
    assert done["status"] == "done"
    assert "asynchronous" in done["message"]
    assert "confirmation_token" not in done
    assert routes.merge.call_count == 1
    assert body(routes.merge) == MERGE_ARGS


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("existing", [True, False], ids=["existing-contact", "new-email"])
async def test_claim_without_elicitation_round_trips_through_a_token(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode, existing: bool
) -> None:
    routes = fake_claim(piggy, existing=existing)
    async with connect(server, mode) as client:
        first = await client.call_tool("claim_anonymous_contact", CLAIM_ARGS)

        pending = structured(first)
        assert pending["status"] == "confirmation_required"
        assert pending["expires_in_seconds"] == 600
        token = pending["confirmation_token"]
        preview = pending["preview"]
        assert CONTACT_A in preview and CLAIM_EMAIL in preview
        if existing:
            assert f"uuid {CONTACT_A}, {ANONYMOUS_BALANCE} credits" in preview
            assert f"uuid {CONTACT_B}, {EXISTING_BALANCE} credits" in preview
            assert "MERGE" in preview
        else:
            assert "no contact has it yet" in preview and "MERGE" not in preview
        assert routes.find.called
        assert not routes.claim.called

        second = await client.call_tool("claim_anonymous_contact", {**CLAIM_ARGS, "confirmation_token": token})

    done = structured(second)
    assert done["status"] == "done"
    assert done["contact"]["uuid"] == CONTACT_A
    assert routes.claim.call_count == 1
    assert body(routes.claim) == {"email": CLAIM_EMAIL}


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
    assert "does not match" in text_of(result)
    assert "Nothing was sent" in text_of(result)
    assert not routes.merge.called


def _forged(tool: str, args: dict[str, str], *, key: str = SIGNING_KEY, issued_at: float = 1_000.0) -> str:
    # The server signs with a key derived from PIGGY_MCP_SIGNING_KEY for this purpose.
    derived = make_settings(mcp_signing_key=key).derived_key("confirmation")
    return Signer(derived, 600, clock=lambda: issued_at).issue(tool, args)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("tool", "args", "make_token", "expected"),
    [
        pytest.param("merge_contacts", MERGE_ARGS, lambda: "not-a-token", "not a token this server issued", id="junk"),
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
            lambda: _forged("merge_contacts", MERGE_ARGS),
            "expired",
            id="merge-expired",
        ),
        pytest.param(
            "merge_contacts",
            MERGE_ARGS,
            lambda: _forged("merge_contacts", MERGE_ARGS, key="another-key", issued_at=4_000_000_000),
            "does not match",
            id="merge-other-key",
        ),
        pytest.param(
            "claim_anonymous_contact",
            CLAIM_ARGS,
            lambda: _forged("claim_anonymous_contact", CLAIM_ARGS),
            "expired",
            id="claim-expired",
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
async def test_token_for_other_arguments_is_refused(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_merge(piggy)
    async with connect(server, mode) as client:
        token = structured(await client.call_tool("merge_contacts", MERGE_ARGS))["confirmation_token"]
        # The model swaps source and destination: the token was not issued for that merge.
        swapped = {"source_contact_uuid": CONTACT_B, "destination_contact_uuid": CONTACT_A}
        result = await client.call_tool("merge_contacts", {**swapped, "confirmation_token": token})
    assert result.is_error
    assert "does not match" in text_of(result)
    assert "Nothing was sent" in text_of(result)
    assert not routes.merge.called


@pytest.mark.parametrize("mode", MODES)
async def test_claim_token_for_another_email_is_refused(
    server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode
) -> None:
    routes = fake_claim(piggy)
    async with connect(server, mode) as client:
        token = structured(await client.call_tool("claim_anonymous_contact", CLAIM_ARGS))["confirmation_token"]
        result = await client.call_tool(
            "claim_anonymous_contact",
            {**CLAIM_ARGS, "email": "someone.else@example.com", "confirmation_token": token},
        )
    assert result.is_error
    assert "does not match" in text_of(result)
    assert not routes.claim.called


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
        version, expires, nonce, signature = token.split(".")
        longer = f"{version}.{int(expires) + 3600}.{nonce}.{signature}"
        result = await client.call_tool("merge_contacts", {**MERGE_ARGS, "confirmation_token": longer})
    assert result.is_error
    assert "does not match" in text_of(result)
    assert not routes.merge.called


# Signer, directly ---------------------------------------------------------------------------------------


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_signer_round_trip() -> None:
    signer = Signer("k", 600)
    token = signer.issue("merge_contacts", MERGE_ARGS)
    signer.check(token, "merge_contacts", MERGE_ARGS)
    assert signer.ttl_seconds == 600
    # Argument order does not matter, only their values.
    reordered = {"destination_contact_uuid": CONTACT_B, "source_contact_uuid": CONTACT_A}
    signer.check(token, "merge_contacts", reordered)
    # Another signer with the same key accepts it: nothing is remembered.
    Signer("k", 600).check(token, "merge_contacts", MERGE_ARGS)


def test_signer_expiry_with_an_injected_clock() -> None:
    clock = Clock(1_000_000.0)
    signer = Signer("k", 60, clock=clock)
    token = signer.issue("merge_contacts", MERGE_ARGS)
    assert token.split(".")[1] == "1000060"
    clock.now = 1_000_060.0
    signer.check(token, "merge_contacts", MERGE_ARGS)
    clock.now = 1_000_060.5
    with pytest.raises(ToolError, match="expired"):
        signer.check(token, "merge_contacts", MERGE_ARGS)
    clock.now = 1_100_000.0
    with pytest.raises(ToolError, match="expired"):
        signer.check(token, "merge_contacts", MERGE_ARGS)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: ".".join([t.split(".")[0], str(int(t.split(".")[1]) + 1), t.split(".")[2]]),
        lambda t: ".".join([t.split(".")[0], str(int(t.split(".")[1]) - 1), t.split(".")[2]]),
        lambda t: t + "A",
    ],
    ids=["signature", "later-expiry", "earlier-expiry", "longer-signature"],
)
def test_signer_refuses_tampered_tokens(tamper: Callable[[str], str]) -> None:
    signer = Signer("k", 600)
    token = signer.issue("merge_contacts", MERGE_ARGS)
    # A signature of the wrong length is malformed rather than mismatched; both are refused.
    with pytest.raises(ToolError, match=r"does not match|not a token this server issued"):
        signer.check(tamper(token), "merge_contacts", MERGE_ARGS)


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "c1",
        "c1.",
        "c1..sig",
        "c1.soon.sig",
        "c1.123.",
        "c2.123.sig",
        "garbage",
        "c1.-5.sig",
        # str.isdigit() accepts these, int() does not.
        "c1.\u00b2.sig",
        # hmac.compare_digest() refuses non-ASCII str.
        "c1.123.sig\u00e9",
    ],
)
def test_signer_refuses_malformed_tokens(junk: str) -> None:
    with pytest.raises(ToolError, match="not a token this server issued"):
        Signer("k", 600).check(junk, "merge_contacts", MERGE_ARGS)


def test_signer_refuses_another_tool() -> None:
    signer = Signer("k", 600)
    token = signer.issue("merge_contacts", CLAIM_ARGS)
    with pytest.raises(ToolError, match="does not match"):
        signer.check(token, "claim_anonymous_contact", CLAIM_ARGS)


@pytest.mark.parametrize(
    "changed",
    [
        {"source_contact_uuid": HEX_UUID, "destination_contact_uuid": CONTACT_A},
        {"source_contact_uuid": CONTACT_A, "destination_contact_uuid": CONTACT_A},
        {"source_contact_uuid": CONTACT_A, "destination_contact_uuid": CONTACT_B},
        {"source_contact_uuid": CONTACT_A, "destination_contact_uuid": HEX_UUID.upper()},
        {"source_contact_uuid": CONTACT_A},
        {"source_contact_uuid": CONTACT_A, "destination_contact_uuid": HEX_UUID, "extra": "x"},
        {},
    ],
    ids=["swapped", "same-twice", "other-value", "case", "missing", "extra", "empty"],
)
def test_signer_refuses_changed_arguments(changed: dict[str, str]) -> None:
    signer = Signer("k", 600)
    args = {"source_contact_uuid": CONTACT_A, "destination_contact_uuid": HEX_UUID}
    token = signer.issue("merge_contacts", args)
    signer.check(token, "merge_contacts", dict(args))
    with pytest.raises(ToolError, match="does not match"):
        signer.check(token, "merge_contacts", changed)


def test_signer_refuses_another_key() -> None:
    token = Signer("k", 600).issue("merge_contacts", MERGE_ARGS)
    with pytest.raises(ToolError, match="does not match"):
        Signer("other", 600).check(token, "merge_contacts", MERGE_ARGS)


def test_tokens_differ_by_call() -> None:
    clock = Clock(1_000.0)
    signer = Signer("k", 600, clock=clock)
    merge = signer.issue("merge_contacts", MERGE_ARGS)
    # Unique even for the same call at the same instant, so single use refuses only a replay.
    again = signer.issue("merge_contacts", MERGE_ARGS)
    assert again != merge
    signer.check(again, "merge_contacts", MERGE_ARGS)
    assert signer.issue("claim_anonymous_contact", MERGE_ARGS) != merge
    assert signer.issue("merge_contacts", {**MERGE_ARGS, "source_contact_uuid": CONTACT_B}) != merge
    assert Signer("other", 600, clock=clock).issue("merge_contacts", MERGE_ARGS) != merge
    # The token carries no argument values in the clear.
    assert CONTACT_A not in merge and CONTACT_B not in merge


@pytest.mark.parametrize("mode", MODES)
async def test_a_token_confirms_one_write_only(server: MCPServer[Runtime], piggy: respx.MockRouter, mode: Mode) -> None:
    routes = fake_merge(piggy)
    async with connect(server, mode) as client:
        token = structured(await client.call_tool("merge_contacts", MERGE_ARGS))["confirmation_token"]
        confirmed = {**MERGE_ARGS, "confirmation_token": token}
        assert structured(await client.call_tool("merge_contacts", confirmed))["status"] == "done"
        # A retry or a repeated message presents the same token again: refused, nothing sent twice.
        replay = await client.call_tool("merge_contacts", confirmed)
    assert replay.is_error
    assert "already used" in text_of(replay) and "Nothing was sent" in text_of(replay)
    assert routes.merge.call_count == 1


def test_signer_redeems_a_token_once_and_forgets_it_after_expiry() -> None:
    clock = Clock(1_000_000.0)
    signer = Signer("k", 60, clock=clock)
    token = signer.issue("merge_contacts", MERGE_ARGS)
    signer.redeem(token, "merge_contacts", MERGE_ARGS)
    with pytest.raises(ToolError, match="already used"):
        signer.redeem(token, "merge_contacts", MERGE_ARGS)
    other = signer.issue("claim_anonymous_contact", {"anonymous_contact_uuid": CONTACT_A, "email": "a@b.example"})
    signer.redeem(other, "claim_anonymous_contact", {"anonymous_contact_uuid": CONTACT_A, "email": "a@b.example"})
    clock.now = 1_000_061.0
    with pytest.raises(ToolError, match="expired"):
        signer.redeem(token, "merge_contacts", MERGE_ARGS)
