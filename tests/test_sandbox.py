"""The Piggy sandbox, driven through OUR client (PiggyClient + PiggyAPI), in process and over real HTTP.

PiggyAPI answers with typed records, which keep only what piggy-mcp uses: what else Piggy's answer says is
checked on the raw answer to the same request (`Piggy.answer`). Endpoints api.py does not wrap yet are called
with PiggyClient.get/send, as a tool would.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from piggy_mcp.config import Settings
from piggy_mcp.piggy import PiggyAPI, PiggyClient
from piggy_mcp.piggy.errors import (
    AuthenticationError,
    InvalidInputError,
    MaintenanceError,
    NotFoundError,
    OutcomeUnknownError,
    PiggyError,
    RateLimitedError,
    RejectedError,
    UpstreamError,
)
from piggy_mcp.piggy.models import Contact
from piggy_mcp.sandbox import EPOCH, LOGIN_CODE, SEED, Sandbox, create_app, credits_for, sandbox_of
from piggy_mcp.sandbox.runner import serve_in_background

KEY = "sandbox-test-key"
C = SEED.contacts
SANNE_STORE_BALANCE = 42 + 61 + 77  # floor of each purchase in euros
SANNE_ONLINE_BALANCE = 54 + 41
ANONYMOUS_BALANCE = 23
EMMA_BALANCE = 48


class ManualClock:
    """Sandbox time that moves only when a test says so: queued work becomes due deterministically."""

    def __init__(self) -> None:
        self.now = EPOCH

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Recording(httpx.AsyncBaseTransport):
    """The in-process transport to the sandbox, keeping the JSON body of every answer as it came."""

    def __init__(self, app: Starlette) -> None:
        self._inner = httpx.ASGITransport(app)
        self.bodies: list[Any] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        content = await response.aread()
        self.bodies.append(json.loads(content) if content else None)
        return httpx.Response(response.status_code, headers=response.headers, content=content)


@dataclass
class Piggy:
    api: PiggyAPI
    client: PiggyClient
    sandbox: Sandbox
    clock: ManualClock
    recording: Recording

    def answer(self) -> Any:
        """The `data` of the last answer, raw: Piggy's own shape, beside the typed record made of it."""
        return self.recording.bodies[-1]["data"]


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"api_key": KEY, "base_url": "http://sandbox", "max_retry_after": 1.0}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def piggy() -> AsyncIterator[Piggy]:
    clock = ManualClock()
    app = create_app(api_key=KEY, clock=clock)
    recording = Recording(app)
    async with PiggyClient(settings(), transport=recording) as client:
        yield Piggy(PiggyAPI(client), client, sandbox_of(app), clock, recording)


async def balance(piggy: Piggy, contact_uuid: str) -> int:
    return await piggy.api.get_credit_balance(contact_uuid)


async def expect(error: type[PiggyError], code: int | None, call: Any) -> PiggyError:
    with pytest.raises(error) as caught:
        await call
    assert caught.value.code == code, caught.value
    return caught.value


# Seed and shapes ------------------------------------------------------------------------------------


async def test_seed_is_the_same_on_every_start() -> None:
    answers = []
    for _ in range(2):
        app = create_app(api_key=KEY, clock=ManualClock())
        async with PiggyClient(settings(), transport=httpx.ASGITransport(app)) as client:
            answers.append(
                [
                    await client.get(f"/contacts/{C.sanne_store}"),
                    await client.get("/vouchers"),
                    await client.get("/shops"),
                ]
            )
    assert answers[0] == answers[1]
    assert SEED.contacts.sanne_store == "c8a7f5ec-a6d5-5cb8-8013-98d44d673634"


def profile(contact: Contact) -> dict[str, Any]:
    return {field.name: field.value for field in contact.attributes}


async def test_contact_has_piggys_shape_and_the_story_is_seeded(piggy: Piggy) -> None:
    store = await piggy.api.get_contact(C.sanne_store)
    raw = piggy.answer()
    assert {"id", "uuid", "email", "attributes", "tier", "subscriptions", "credit_balance", "prepaid_balance",
            "current_values", "current_display_values"} <= raw.keys()  # fmt: skip
    assert raw["credit_balance"]["balance"] == store.credit_balance == SANNE_STORE_BALANCE
    assert raw["current_values"]["firstname"] == profile(store)["firstname"] == "Sanne"
    assert raw["current_values"]["is_anonymous"] is False and store.is_anonymous is False
    online = await piggy.api.find_contact_by_email(SEED.emails.sanne_online)
    assert online.uuid == C.sanne_online and online.email != store.email
    assert (profile(online)["firstname"], profile(online)["lastname"]) == ("Sanne", "de Vries")
    anonymous = await piggy.api.get_contact(C.anonymous)
    assert anonymous.is_anonymous is True
    shops = await piggy.client.get("/shops")
    assert sorted(s["type"] for s in shops) == ["physical", "web"]
    await expect(NotFoundError, 55031, piggy.api.find_contact_by_email("nobody@example.com"))


async def test_update_contact_sets_attributes_and_refuses_unknown_and_read_only(piggy: Piggy) -> None:
    updated = await piggy.client.send(
        "PUT", f"/contacts/{C.lucas}", {"attributes": {"firstname": "Luuk", SEED.custom_attribute: "espresso"}}
    )
    assert updated["current_values"]["firstname"] == "Luuk"
    assert updated["current_values"][SEED.custom_attribute] == "espresso"
    error = await expect(
        InvalidInputError,
        1003,
        piggy.client.send(
            "PUT",
            f"/contacts/{C.lucas}",
            {"attributes": {"shoe_size": 44, "loyalty_balance": 9999, "favourite_brew": "x"}},
        ),
    )
    assert set(error.field_errors) == {
        "attributes.shoe_size",
        "attributes.loyalty_balance",
        "attributes.favourite_brew",
    }
    assert await balance(piggy, C.lucas) == 0
    await expect(InvalidInputError, 1003, piggy.client.send("PUT", f"/contacts/{C.lucas}", {}))


# Merge and claim ------------------------------------------------------------------------------------


async def test_merge_is_queued_then_moves_balance_and_history(piggy: Piggy) -> None:
    await piggy.api.merge_contacts(C.sanne_online, C.sanne_store)
    # Accepted, not done: Piggy queues merges.
    assert await balance(piggy, C.sanne_online) == SANNE_ONLINE_BALANCE
    piggy.clock.advance(1)
    await expect(NotFoundError, 55031, piggy.api.get_contact(C.sanne_online))
    assert await balance(piggy, C.sanne_store) == SANNE_STORE_BALANCE + SANNE_ONLINE_BALANCE
    history = await piggy.client.get("/loyalty-transactions", {"contact_uuid": C.sanne_store, "limit": 100})
    assert len(history) == 5
    assert {t["shop"]["type"] for t in history} == {"physical", "web"}
    assert all(t["contact"]["uuid"] == C.sanne_store for t in history)


async def test_merge_refuses_unknown_and_identical_contacts(piggy: Piggy) -> None:
    unknown = "0f0f0f0f-0000-4000-8000-000000000000"
    await expect(NotFoundError, 55031, piggy.api.merge_contacts(unknown, C.sanne_store))
    await expect(NotFoundError, 55031, piggy.api.merge_contacts(C.sanne_online, unknown))
    await expect(InvalidInputError, 1003, piggy.api.merge_contacts(C.emma, C.emma))
    piggy.sandbox.run_pending()
    assert await balance(piggy, C.sanne_online) == SANNE_ONLINE_BALANCE


async def test_claim_with_a_new_email_makes_the_contact_known(piggy: Piggy) -> None:
    claimed = await piggy.api.claim_anonymous_contact(C.anonymous, "kees.dekker@example.com")
    assert claimed.uuid == C.anonymous
    assert claimed.email == "kees.dekker@example.com"
    assert claimed.is_anonymous is False
    assert claimed.credit_balance == ANONYMOUS_BALANCE
    found = await piggy.api.find_contact_by_email("kees.dekker@example.com")
    assert found.uuid == C.anonymous


async def test_claim_with_an_existing_email_merges_into_that_contact(piggy: Piggy) -> None:
    claimed = await piggy.api.claim_anonymous_contact(C.anonymous, SEED.emails.emma)
    assert claimed.uuid == C.emma
    assert claimed.credit_balance == EMMA_BALANCE + ANONYMOUS_BALANCE
    await expect(NotFoundError, 55031, piggy.api.get_contact(C.anonymous))


async def test_claim_refuses_a_contact_that_is_not_anonymous(piggy: Piggy) -> None:
    await expect(RejectedError, 60016, piggy.api.claim_anonymous_contact(C.emma, "emma@example.net"))
    await expect(InvalidInputError, 1003, piggy.client.send("PUT", f"/contacts/{C.anonymous}/claim", {"email": "x"}))


# Verification -------------------------------------------------------------------------------------


async def test_verification_sends_then_accepts_only_the_fixed_code(piggy: Piggy) -> None:
    sent = await piggy.api.send_verification_email(SEED.emails.julia)
    assert piggy.answer()["type"] == "Success" and sent is not None and SEED.emails.julia in sent
    await expect(RejectedError, 13010, piggy.api.verify_login_code(SEED.emails.julia, "000000"))
    assert await piggy.api.verify_login_code(SEED.emails.julia, LOGIN_CODE) == C.julia
    assert piggy.answer() == {"uuid": C.julia}
    # Passcodes are single use.
    await expect(RejectedError, 13010, piggy.api.verify_login_code(SEED.emails.julia, LOGIN_CODE))
    token = await piggy.api.get_contact_auth_token(C.julia)
    assert isinstance(token, str) and len(token) >= 32
    await expect(NotFoundError, 55031, piggy.api.send_verification_email("nobody@example.com"))
    await expect(NotFoundError, 55031, piggy.api.get_contact_auth_token("0f0f0f0f-0000-4000-8000-000000000000"))


async def test_verification_needs_a_contacts_portal() -> None:
    app = create_app(api_key=KEY, portal_enabled=False)
    async with PiggyClient(settings(), transport=httpx.ASGITransport(app)) as client:
        api = PiggyAPI(client)
        error = await expect(RejectedError, 55032, api.send_verification_email(SEED.emails.julia))
        assert "Contacts Portal" in str(error)
        await expect(RejectedError, 55032, api.verify_login_code(SEED.emails.julia, LOGIN_CODE))
        sandbox_of(app).portal_enabled = True
        await api.send_verification_email(SEED.emails.julia)


# Credits and rewards ------------------------------------------------------------------------------


async def test_credit_reception_by_credits_and_by_unit_value(piggy: Piggy) -> None:
    by_credits = await piggy.api.create_credit_reception(C.noah, SEED.shops.store, credits=25)
    assert piggy.answer()["type"] == "credit_reception" and by_credits.credits == 25
    assert by_credits.balance_after == 75 + 25
    by_value = await piggy.api.create_credit_reception(C.noah, SEED.shops.web, unit_value=12.99)
    assert by_value.credits == credits_for(12.99) == 12
    raw = piggy.answer()
    assert raw["unit_value"] == 12.99 and raw["unit"]["name"] == "purchase_amount"
    assert await balance(piggy, C.noah) == 75 + 25 + 12
    listed = await piggy.client.request(
        "GET", "/loyalty-transactions", params={"contact_uuid": C.noah, "type": "credit_receptions", "limit": 2}
    )
    assert [t["uuid"] for t in listed.data] == [by_value.uuid, by_credits.uuid]
    assert listed.meta == {"page": 1, "limit": 2, "viewing_from": 1, "viewing_to": 2, "last_page": 2, "total": 3}


async def test_credit_reception_refusals(piggy: Piggy) -> None:
    both = piggy.api.create_credit_reception(C.noah, SEED.shops.store, credits=1, unit_value=1.0)
    assert "credits" in (await expect(InvalidInputError, 1003, both)).field_errors
    neither = await expect(InvalidInputError, 1003, piggy.api.create_credit_reception(C.noah, SEED.shops.store))
    assert set(neither.field_errors) == {"credits", "unit_value"}
    unknown = "0f0f0f0f-0000-4000-8000-000000000000"
    await expect(NotFoundError, 1008, piggy.api.create_credit_reception(C.noah, unknown, credits=1))
    await expect(NotFoundError, 55031, piggy.api.create_credit_reception(unknown, SEED.shops.store, credits=1))
    await expect(RejectedError, 1015, piggy.api.create_credit_reception(C.noah, SEED.shops.store, credits=5000))
    await expect(
        NotFoundError,
        60007,
        piggy.api.create_credit_reception(C.noah, SEED.shops.store, unit_value=3, unit_name="visits"),
    )
    await expect(InvalidInputError, 1003, piggy.client.send("POST", "/credit-receptions", {"credits": "many"}))
    assert await balance(piggy, C.noah) == 75


async def test_reverse_creates_the_opposite_reception(piggy: Piggy) -> None:
    reception = await piggy.api.create_credit_reception(C.milan, SEED.shops.store, unit_value=30.5)
    reversal = await piggy.client.send("POST", f"/credit-receptions/{reception.uuid}/reverse")
    assert reversal["credits"] == -30 and reversal["uuid"] != reception.uuid
    assert await balance(piggy, C.milan) == 15
    await expect(InvalidInputError, 1003, piggy.client.send("POST", f"/credit-receptions/{reception.uuid}/reverse"))
    await expect(NotFoundError, 1028, piggy.client.send("POST", f"/credit-receptions/{SEED.rewards.mug}/reverse"))


async def test_rewards_for_a_contact_and_reward_receptions(piggy: Piggy) -> None:
    everything = await piggy.client.get("/rewards")
    affordable = await piggy.client.get("/rewards", {"contact_uuid": C.noah})
    assert len(everything) == 6
    assert [r["required_credits"] for r in affordable] == [50]
    at_web = await piggy.client.get("/rewards", {"shop_uuid": SEED.shops.web})
    assert {r["uuid"] for r in at_web} == {SEED.rewards.beans_bag, SEED.rewards.web_discount}

    body = {"contact_uuid": C.noah, "reward_uuid": SEED.rewards.espresso, "shop_uuid": SEED.shops.store}
    received = await piggy.client.send("POST", "/reward-receptions", body)
    assert received["type"] == "reward_reception" and received["credits"] == -50
    assert received["contact"]["credit_balance"]["balance"] == 25
    assert received["reward"]["uuid"] == SEED.rewards.espresso and received["title"] == "Free espresso"
    await expect(RejectedError, 1017, piggy.client.send("POST", "/reward-receptions", body))

    digital = {"contact_uuid": C.julia, "reward_uuid": SEED.rewards.web_discount, "shop_uuid": SEED.shops.web}
    code = (await piggy.client.send("POST", "/reward-receptions", digital))["digital_reward_code"]
    assert code.startswith("BB5-")
    sold_out = {**digital, "reward_uuid": SEED.rewards.workshop, "shop_uuid": SEED.shops.store}
    await expect(RejectedError, 1018, piggy.client.send("POST", "/reward-receptions", sold_out))
    inactive = {**sold_out, "reward_uuid": SEED.rewards.mug}
    await expect(RejectedError, 1052, piggy.client.send("POST", "/reward-receptions", inactive))
    unknown = {**sold_out, "reward_uuid": SEED.shops.web}
    await expect(NotFoundError, 6003, piggy.client.send("POST", "/reward-receptions", unknown))


# Vouchers -----------------------------------------------------------------------------------------


async def test_vouchers_batch_is_pending_then_findable_and_redeemable(piggy: Piggy) -> None:
    promotion = SEED.promotions.beans10
    batch = await piggy.api.create_vouchers_batch(promotion, 3)
    raw = piggy.answer()
    assert batch.status == "PENDING" and raw["quantity"] == 3 and raw["type"] == "vouchers"
    assert datetime.strptime(raw["created_at"], "%Y-%m-%d, %H:%M")
    before = await piggy.client.get("/vouchers", {"promotion_uuid": promotion})
    assert len(before) == 1  # the seeded one: the batch is not generated yet
    piggy.clock.advance(1)
    page = await piggy.client.request("GET", "/vouchers", params={"promotion_uuid": promotion, "limit": 2})
    assert len(page.data) == 2
    assert page.meta["total"] == 4 and page.meta["per_page"] == "2" and page.meta["last_page"] == 2
    assert {"current_page", "from", "last_page", "links", "path", "per_page", "to", "total"} == page.meta.keys()
    code = page.data[1]["code"]
    found = await piggy.api.find_voucher_by_code(code)
    assert found.status == "ACTIVE" and found.promotion_uuid == promotion and found.contact_uuid is None
    assert piggy.answer()["contact"] is None

    redeemed = await piggy.client.send("POST", "/vouchers/redeem", {"code": code, "contact_uuid": C.fleur})
    assert redeemed["status"] == "REDEEMED" and redeemed["is_redeemed"] and redeemed["contact"]["uuid"] == C.fleur
    await expect(RejectedError, 80005, piggy.client.send("POST", "/vouchers/redeem", {"code": code}))
    mine = await piggy.client.get("/vouchers", {"contact_uuid": C.fleur, "status": "REDEEMED"})
    assert [v["code"] for v in mine] == [code]


async def test_seeded_vouchers_and_voucher_refusals(piggy: Piggy) -> None:
    statuses = {v["code"]: v["status"] for v in await piggy.client.get("/vouchers")}
    assert statuses[SEED.codes.active] == "ACTIVE"
    assert statuses[SEED.codes.redeemed] == "REDEEMED"
    assert statuses[SEED.codes.expired] == "EXPIRED"
    redeem = "/vouchers/redeem"
    await expect(RejectedError, 80005, piggy.client.send("POST", redeem, {"code": SEED.codes.redeemed}))
    await expect(RejectedError, 80006, piggy.client.send("POST", redeem, {"code": SEED.codes.expired}))
    await expect(NotFoundError, 80004, piggy.client.send("POST", redeem, {"code": "NOPE-123"}))
    await expect(NotFoundError, 80004, piggy.api.find_voucher_by_code("NOPE-123"))
    missing_contact = await expect(
        InvalidInputError, 1003, piggy.client.send("POST", redeem, {"code": SEED.codes.unassigned})
    )
    assert "contact_uuid" in missing_contact.field_errors
    assert (await piggy.client.send("POST", redeem, {"code": SEED.codes.active}))["status"] == "REDEEMED"
    unknown = "0f0f0f0f-0000-4000-8000-000000000000"
    await expect(NotFoundError, 80002, piggy.api.create_vouchers_batch(unknown, 1))
    await expect(
        NotFoundError, 55031, piggy.api.create_vouchers_batch(SEED.promotions.beans10, 1, contact_uuid=unknown)
    )
    await expect(RejectedError, 80008, piggy.api.create_vouchers_batch(SEED.promotions.beans10, 500))
    await expect(InvalidInputError, 1003, piggy.api.create_vouchers_batch(SEED.promotions.beans10, 0))
    await expect(InvalidInputError, 1003, piggy.client.get("/vouchers", {"status": "SPENT"}))


# Attributes, catalog, bookings ----------------------------------------------------------------------


async def test_contact_attribute_creation_and_refusals(piggy: Piggy) -> None:
    no_options = await expect(InvalidInputError, 1003, piggy.api.create_contact_attribute("milk", "Milk", "select"))
    assert "options" in no_options.field_errors
    bad_option = piggy.api.create_contact_attribute("milk", "Milk", "multi_select", options=[{"label": "Oat"}])
    assert "options.0.value" in (await expect(InvalidInputError, 1003, bad_option)).field_errors
    await expect(InvalidInputError, 1003, piggy.api.create_contact_attribute("milk", "Milk", "colour"))
    options = [{"label": "Oat", "value": "oat"}, {"label": "Whole", "value": "whole"}]
    created = await piggy.api.create_contact_attribute("milk", "Milk", "select", "Milk of choice", options)
    assert created.name == "milk" and created.type == "select" and piggy.answer()["is_piggy_defined"] is False
    assert [o.value for o in created.options or []] == ["oat", "whole"]
    await expect(RejectedError, 60009, piggy.api.create_contact_attribute("milk", "Milk", "text"))
    await expect(RejectedError, 60009, piggy.api.create_contact_attribute("firstname", "First", "text"))
    assert "milk" in [a["name"] for a in await piggy.client.get("/contact-attributes")]
    updated = await piggy.client.send("PUT", f"/contacts/{C.emma}", {"attributes": {"milk": "oat"}})
    assert updated["current_values"]["milk"] == "oat"


async def test_forms_perks_and_products(piggy: Piggy) -> None:
    assert len(await piggy.api.list_forms()) == 4
    # Forms are typed without their uuid: which forms came back is read from the raw answer.
    assert len(await piggy.api.list_forms(status="PUBLISHED")) == 2
    assert {f["uuid"] for f in piggy.answer()} == {SEED.forms.join, SEED.forms.survey}
    assert len(await piggy.api.list_forms(status="DRAFT", form_type="PUBLIC")) == 1
    assert [f["uuid"] for f in piggy.answer()] == [SEED.forms.winter]
    await expect(InvalidInputError, 1003, piggy.api.list_forms(status="ARCHIVED"))
    perks = await piggy.api.list_perks()
    assert all(sum(o.default is True for o in p.options or []) == 1 for p in perks)

    result = await piggy.api.find_or_create_products(
        [{"external_identifier": "SKU-MUG-01", "name": "Mug"}, {"external_identifier": "SKU-NEW-9", "name": "Tote bag"}]
    )
    assert [(p.external_identifier, p.created) for p in result] == [
        ("SKU-MUG-01", False),
        ("SKU-NEW-9", True),
    ]
    assert result[1].uuid
    # The last answer was the batch's (creating SKU-NEW-9), then the catalog page that lists it.
    as_created = next(p for p in piggy.answer() if p["external_identifier"] == "SKU-NEW-9")
    again = await piggy.api.find_or_create_products([{"external_identifier": "SKU-NEW-9", "name": "Tote bag"}])
    assert again == [result[1].model_copy(update={"created": False})]
    assert next(p for p in piggy.answer() if p["external_identifier"] == "SKU-NEW-9") == as_created
    await expect(InvalidInputError, 1003, piggy.client.get("/products", {"limit": 101}))
    duplicate = {"products": [{"external_identifier": "SKU-MUG-01", "name": "Mug"}, {"name": "No id"}]}
    error = await expect(InvalidInputError, 1003, piggy.client.send("POST", "/products/batch", duplicate))
    assert set(error.field_errors) == {"products.0.external_identifier", "products.1.external_identifier"}


async def test_update_booking(piggy: Piggy) -> None:
    booking = await piggy.api.update_booking(
        SEED.bookings.cupping, {"checked_in_at": "2025-06-14T14:55:00Z", "number_of_people": 5}
    )
    raw = piggy.answer()
    assert booking.uuid == SEED.bookings.cupping
    assert booking.checked_in_at == "2025-06-14T14:55:00+00:00" and raw["number_of_people"] == 5
    assert raw["contact"]["uuid"] == C.julia and raw["external_id"] == "RES-2025-0612"
    await expect(
        InvalidInputError, 1003, piggy.api.update_booking(SEED.bookings.cupping, {"ends_at": "2025-06-14T10:00:00Z"})
    )
    await expect(InvalidInputError, 1003, piggy.api.update_booking(SEED.bookings.cupping, {"contact_uuid": C.emma}))
    await expect(NotFoundError, 60013, piggy.api.update_booking(SEED.shops.store, {"status": "completed"}))


# Authentication and the request log -----------------------------------------------------------------


async def test_a_bad_token_is_refused_with_401() -> None:
    app = create_app(api_key=KEY)
    async with PiggyClient(settings(api_key="wrong"), transport=httpx.ASGITransport(app)) as client:
        with pytest.raises(AuthenticationError) as caught:
            await PiggyAPI(client).get_credit_balance(C.emma)
    assert caught.value.status == 401
    assert [r.authorized for r in sandbox_of(app).requests] == [False]


async def test_requests_are_recorded_and_can_be_cleared(piggy: Piggy) -> None:
    await piggy.api.find_contact_by_email(SEED.emails.emma)
    await piggy.api.create_credit_reception(C.emma, SEED.shops.web, credits=3)
    first, second = piggy.sandbox.requests
    assert (first.method, first.path, first.query, first.json) == (
        "GET", "/contacts/find-one-by", {"email": SEED.emails.emma}, None,
    )  # fmt: skip
    assert (second.method, second.path) == ("POST", "/credit-receptions")
    assert second.json == {"contact_uuid": C.emma, "shop_uuid": SEED.shops.web, "credits": 3}
    piggy.sandbox.clear_requests()
    assert piggy.sandbox.requests == []


# Faults -------------------------------------------------------------------------------------------


async def test_rate_limit_with_a_long_retry_after_reaches_the_caller(piggy: Piggy) -> None:
    piggy.sandbox.rate_limit(retry_after=30, path="/contacts/*")
    with pytest.raises(RateLimitedError) as caught:
        await piggy.api.get_credit_balance(C.emma)
    assert caught.value.retry_after == 30
    assert len(piggy.sandbox.requests) == 1
    assert await balance(piggy, C.emma) == EMMA_BALANCE  # the fault was used up


async def test_a_short_rate_limit_is_waited_out(piggy: Piggy) -> None:
    piggy.sandbox.rate_limit(retry_after=0, method="GET")
    assert await balance(piggy, C.emma) == EMMA_BALANCE
    assert len(piggy.sandbox.requests) == 2


async def test_maintenance_gives_maintenance_error(piggy: Piggy) -> None:
    piggy.sandbox.maintenance(times=3)  # every attempt of a read
    await expect(MaintenanceError, None, piggy.api.list_perks())
    assert len(piggy.sandbox.requests) == 3
    piggy.sandbox.maintenance(method="POST")
    await expect(MaintenanceError, None, piggy.api.create_credit_reception(C.emma, SEED.shops.web, credits=3))
    assert await balance(piggy, C.emma) == EMMA_BALANCE


async def test_a_dropped_write_has_an_unknown_outcome(piggy: Piggy) -> None:
    piggy.sandbox.drop(method="POST", path="/credit-receptions")
    with pytest.raises(OutcomeUnknownError) as caught:
        await piggy.api.create_credit_reception(C.emma, SEED.shops.web, credits=3)
    assert "credit balance" in str(caught.value)
    assert await balance(piggy, C.emma) == EMMA_BALANCE + 3  # it took effect: only the answer was lost
    piggy.sandbox.drop(method="POST", after_handling=False)
    with pytest.raises(OutcomeUnknownError):
        await piggy.api.create_credit_reception(C.emma, SEED.shops.web, credits=3)
    assert await balance(piggy, C.emma) == EMMA_BALANCE + 3


# Over real HTTP -----------------------------------------------------------------------------------


async def test_over_http_with_uvicorn() -> None:
    app = create_app(api_key=KEY)
    sandbox = sandbox_of(app)
    with serve_in_background(app) as base_url:
        async with PiggyClient(settings(base_url=base_url, timeout=0.3, max_attempts=1)) as client:
            api = PiggyAPI(client)
            assert await api.get_credit_balance(C.emma) == EMMA_BALANCE
            reception = await api.create_credit_reception(C.emma, SEED.shops.store, unit_value=7.5)
            assert reception.credits == 7

            sandbox.slow(1.0, path="/shops")
            with pytest.raises(UpstreamError) as timed_out:
                await client.get("/shops")
            assert "did not answer in time" in str(timed_out.value)

            sandbox.drop(method="POST")
            with pytest.raises(OutcomeUnknownError):
                await api.create_credit_reception(C.emma, SEED.shops.store, credits=1)
            assert await api.get_credit_balance(C.emma) == EMMA_BALANCE + 7 + 1

        async with PiggyClient(settings(base_url=base_url, api_key="wrong")) as client:
            with pytest.raises(AuthenticationError):
                await client.get("/shops")
