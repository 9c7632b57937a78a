"""Piggy's failures as the model reads them (piggy/errors.py): each error's text names what happened, Piggy's own
code and message, and what to do next. Piggy is faked with respx; the calls go through the tools."""

from __future__ import annotations

import httpx
import pytest
import respx
from mcp import Client

from piggy_mcp.config import Settings
from tests.helpers import BALANCE_PATH, award, balance, piggy_error, text_of


async def test_invalid_input_1003_lists_every_field_and_its_message(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.post("/credit-receptions").mock(
        return_value=piggy_error(
            1003,
            "Invalid input",
            errors={
                "credits": ["The credits must be an integer.", "The credits may not be greater than 1000."],
                "shop_uuid": "The selected shop uuid is invalid.",
            },
        )
    )
    result = await award(client)
    text = text_of(result)
    assert result.is_error
    assert "1003" in text
    assert "Invalid input" in text
    assert "credits" in text
    assert "The credits must be an integer." in text
    assert "The credits may not be greater than 1000." in text
    assert "shop_uuid" in text
    assert "The selected shop uuid is invalid." in text
    assert "Correct the listed fields" in text
    assert route.call_count == 1


async def test_contact_not_found_55031(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get(BALANCE_PATH).mock(return_value=piggy_error(55031, "Contact not found"))
    result = await balance(client)
    text = text_of(result)
    assert result.is_error
    assert "55031" in text
    assert "Contact not found" in text
    assert "Check the contact uuid" in text
    # A definite "not found" is not transient: asking again would give the same answer.
    assert route.call_count == 1


async def test_no_contacts_portal_55032(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.post("/contact-verification/send").mock(return_value=piggy_error(55032, "User app not found"))
    result = await client.call_tool("send_contact_verification_email", {"email": "ann@example.com"})
    text = text_of(result)
    assert result.is_error
    assert "55032" in text
    assert "User app not found" in text
    assert "no Contacts Portal configured" in text
    assert "Next:" in text
    assert route.call_count == 1


async def test_http_401_tells_to_check_the_api_key_and_is_not_retried(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get(BALANCE_PATH).respond(401, json={"error": "invalid_token", "message": "Unauthenticated."})
    result = await balance(client)
    text = text_of(result)
    assert result.is_error
    assert "Unauthenticated." in text
    assert "PIGGY_API_KEY" in text
    assert "rejected the API key" in text
    assert route.call_count == 1


async def test_piggy_code_7011_is_an_authentication_problem(client: Client, piggy: respx.MockRouter) -> None:
    piggy.get(BALANCE_PATH).mock(return_value=piggy_error(7011, "User has no access to this account"))
    result = await balance(client)
    text = text_of(result)
    assert result.is_error
    assert "7011" in text
    assert "User has no access to this account" in text
    assert "PIGGY_API_KEY" in text


async def test_429_with_long_retry_after_returns_at_once_with_the_wait(
    client: Client, piggy: respx.MockRouter, settings: Settings
) -> None:
    assert settings.max_retry_after < 120
    route = piggy.get(BALANCE_PATH).respond(429, headers={"Retry-After": "120"}, json={"message": "Too Many Attempts."})
    result = await balance(client)
    text = text_of(result)
    assert result.is_error
    assert "rate limiting" in text
    assert "120 seconds" in text
    assert "Too Many Attempts." in text
    assert route.call_count == 1


async def test_503_is_maintenance(client: Client, piggy: respx.MockRouter, settings: Settings) -> None:
    # The SDK treats 503 as maintenance without parsing the body; Piggy may send none.
    route = piggy.get(BALANCE_PATH).respond(503)
    result = await balance(client)
    text = text_of(result)
    assert result.is_error
    assert "maintenance" in text
    assert "Try again in a few minutes" in text
    assert route.call_count == settings.max_attempts


@pytest.mark.parametrize("status", [500, 507])
async def test_other_5xx_is_a_clear_upstream_error(client: Client, piggy: respx.MockRouter, status: int) -> None:
    piggy.get(BALANCE_PATH).respond(status, json={"message": "Server Error"})
    result = await balance(client)
    text = text_of(result)
    assert result.is_error
    assert "Piggy could not be reached or failed to answer" in text
    assert "Server Error" in text
    assert "Try again later" in text


async def test_non_json_gateway_error_body(client: Client, piggy: respx.MockRouter, settings: Settings) -> None:
    html = "<html><body><h1>502 Bad Gateway</h1>cloudflare</body></html>"
    route = piggy.get(BALANCE_PATH).respond(502, text=html, headers={"Content-Type": "text/html"})
    result = await balance(client)
    text = text_of(result)
    assert result.is_error
    assert "Piggy could not be reached or failed to answer" in text
    assert "Try again later" in text
    assert "<html>" not in text
    assert "Decode" not in text  # a typed error, not a parser crash
    assert route.call_count == settings.max_attempts


async def test_non_json_client_error_body(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get(BALANCE_PATH).respond(400, text="Bad Request", headers={"Content-Type": "text/plain"})
    result = await balance(client)
    text = text_of(result)
    assert result.is_error
    assert "Piggy refused the request" in text
    assert "Next:" in text
    assert "Decode" not in text
    assert route.call_count == 1


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, json={"balance": 49}),
        httpx.Response(200, json=[1, 2, 3]),
        httpx.Response(200, text="OK", headers={"Content-Type": "text/plain"}),
        httpx.Response(200),
    ],
    ids=["bare-object", "bare-list", "plain-text", "empty"],
)
async def test_2xx_without_data_envelope(client: Client, piggy: respx.MockRouter, response: httpx.Response) -> None:
    piggy.get(BALANCE_PATH).mock(return_value=response)
    result = await balance(client)
    text = text_of(result)
    assert result.is_error
    assert "without the expected data envelope" in text
    assert "Next:" in text
    assert "Decode" not in text
