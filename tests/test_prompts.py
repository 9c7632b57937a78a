"""Guidance for the model: the server instructions and the four member-story prompts, as a real client sees them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from mcp import Client
from mcp.server import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import TextContent
from mcp_types import INVALID_PARAMS

from piggy_mcp.config import Settings
from piggy_mcp.prompts import INSTRUCTIONS, register_prompts
from piggy_mcp.server import build_server
from piggy_mcp.tools.runtime import Runtime
from tests.helpers import EMAIL, EVERY_TOOL, MODES

# Each prompt: its arguments (name -> required), sample arguments, and the tools its plan names, in order.
PROMPTS: dict[str, tuple[dict[str, bool], dict[str, str], list[str]]] = {
    "verify_member": (
        {"email": True},
        {"email": EMAIL},
        ["find_contact", "send_contact_verification_email", "verify_login_code", "get_contact_auth_token"],
    ),
    "merge_duplicate_profiles": (
        {"first": True, "second": True},
        {"first": EMAIL, "second": "11111111-1111-4111-8111-111111111111"},
        ["find_contact", "get_contact", "send_contact_verification_email", "verify_login_code", "merge_contacts"],
    ),
    "add_profile_field": (
        {"name": True, "type": True, "options": False},
        {"name": "favourite_colour", "type": "select", "options": "red, blue"},
        ["list_contact_attributes", "create_contact_attribute", "update_contact"],
    ),
    "redeem_points": (
        {"email": True},
        {"email": EMAIL},
        [
            "find_contact",
            "send_contact_verification_email",
            "verify_login_code",
            "list_shops",
            "list_rewards",
            "redeem_reward",
            "list_loyalty_transactions",
        ],
    ),
    "refund_purchase": (
        {"order": True},
        {"order": "WEB-1001"},
        ["create_order_return", "list_loyalty_transactions"],
    ),
    "forget_member": (
        {"email": True},
        {"email": EMAIL},
        ["find_contact", "send_contact_verification_email", "verify_login_code", "delete_contact"],
    ),
}
# A name followed by "(" is a tool call in the prompts' plans.
CALLED = re.compile(r"\b([a-z][a-z_]+)\(")
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


@pytest.fixture
def prompt_server(settings: Settings) -> MCPServer[Runtime]:
    server = build_server(settings)
    register_prompts(server)
    return server


@pytest.fixture(params=MODES)
async def prompt_client(request: pytest.FixtureRequest, prompt_server: MCPServer[Runtime]) -> AsyncIterator[Client]:
    async with Client(prompt_server, mode=request.param) as connected:
        yield connected


async def render(client: Client, name: str, arguments: dict[str, str]) -> str:
    result = await client.get_prompt(name, arguments)
    assert len(result.messages) == 1
    message = result.messages[0]
    assert message.role == "user"
    assert isinstance(message.content, TextContent)
    return message.content.text


# prompts/list ---------------------------------------------------------------------------------------------


async def test_lists_the_four_prompts_with_titles_and_arguments(prompt_client: Client) -> None:
    prompts = {prompt.name: prompt for prompt in (await prompt_client.list_prompts()).prompts}
    assert list(prompts) == list(PROMPTS)
    for name, (arguments, _, _) in PROMPTS.items():
        prompt = prompts[name]
        assert prompt.title and prompt.title != name
        assert prompt.description and len(prompt.description) < 200
        listed = {arg.name: arg for arg in prompt.arguments or []}
        assert {arg: a.required for arg, a in listed.items()} == arguments, name
        assert all(a.description for a in listed.values()), name


# prompts/get ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PROMPTS))
async def test_each_prompt_names_its_tools_in_order(prompt_client: Client, name: str) -> None:
    _, arguments, tools = PROMPTS[name]
    text = await render(prompt_client, name, arguments)
    positions = [text.find(tool) for tool in tools]
    assert -1 not in positions, [tool for tool, at in zip(tools, positions, strict=True) if at == -1]
    assert positions == sorted(positions), f"{name} names its tools out of order"
    # Every tool call in the plan is a tool the server really has.
    assert set(CALLED.findall(text)) <= EVERY_TOOL
    for value in arguments.values():
        assert value in text
    assert len(text) < 1800, "a prompt is a short plan"


@pytest.mark.parametrize(
    ("name", "confirmed"),
    [
        ("merge_duplicate_profiles", "merge_contacts"),
        ("redeem_points", "redeem_reward"),
        ("forget_member", "delete_contact"),
        ("refund_purchase", "create_order_return"),
    ],
)
async def test_prompts_with_a_confirmed_step_explain_the_confirmation(
    prompt_client: Client, name: str, confirmed: str
) -> None:
    text = await render(prompt_client, name, PROMPTS[name][1])
    assert "status=confirmation_required" in text
    assert "confirmation_token" in text
    # And a member is verified before their account is touched.
    assert "verify_login_code" not in text or text.index("verify_login_code") < text.index(confirmed)


async def test_add_profile_field_without_options(prompt_client: Client) -> None:
    text = await render(prompt_client, "add_profile_field", {"name": "shoe_size", "type": "number"})
    assert 'Add a custom field "shoe_size" of type number to every contact profile.' in text
    assert "with the options" not in text


@pytest.mark.parametrize("name", ["verify_member", "redeem_points", "forget_member"])
async def test_a_bad_email_is_an_invalid_params_error(prompt_client: Client, name: str) -> None:
    with pytest.raises(MCPError) as raised:
        await prompt_client.get_prompt(name, {"email": "jane.doe@example"})
    assert raised.value.code == INVALID_PARAMS
    assert "must be an email address" in raised.value.message


# Instructions ---------------------------------------------------------------------------------------------


def test_instructions_are_a_short_orientation() -> None:
    # Sent on every session: it must stay short.
    assert len(INSTRUCTIONS) < 900
    for fact in (
        "uuid",
        "find_contact",
        "list_shops",
        "send_contact_verification_email",
        "verify_login_code",
        "status=confirmation_required",
        "confirmation_token",
        "irreversible and asynchronous",
    ):
        assert fact in INSTRUCTIONS, fact
    names = set(SNAKE.findall(INSTRUCTIONS)) - {"confirmation_token", "confirmation_required", "untrusted_fields"}
    assert names <= EVERY_TOOL, names - EVERY_TOOL


@pytest.mark.parametrize("mode", MODES)
async def test_the_server_sends_the_instructions(settings: Settings, mode: str) -> None:
    server = build_server(settings)
    if server.instructions != INSTRUCTIONS:
        pytest.skip("server.py does not pass prompts.INSTRUCTIONS yet")
    async with Client(server, mode=mode) as client:
        assert client.instructions == INSTRUCTIONS
