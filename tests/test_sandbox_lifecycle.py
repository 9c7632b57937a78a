"""The sandbox's contact lifecycle, cards, loyalty program, tiers and automations, through OUR client (PiggyClient
+ PiggyAPI), in process, and the tools that use them over the sandbox.

Rules: an email is unique (60005); an anonymous contact may take an existing, active, unlinked card (60003, 60004,
60014); a deletion is scheduled and applied after the processing delay, a GDPR one leaving no personal data in its
log; cards link once (60014) and unlink once (60011, decision D57); only the active contact_updated automation runs
(decision D58); tiers follow the credits received; the program calls credits "credits" unless a test renames them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from mcp import Client

from piggy_mcp.piggy import PiggyAPI, PiggyClient
from piggy_mcp.piggy.errors import InvalidInputError, NotFoundError, PiggyError, RejectedError
from piggy_mcp.sandbox import SEED, Sandbox, create_app, sandbox_of
from piggy_mcp.sandbox.automations import AUTOMATIONS
from piggy_mcp.sandbox.identifiers import CARDS
from piggy_mcp.sandbox.state import DEFAULT_PROCESSING_DELAY
from piggy_mcp.server import build_server
from tests.conftest import make_settings
from tests.test_sandbox import KEY, ManualClock, settings

C, E = SEED.contacts, SEED.emails
SANNE_STORE_BALANCE = 42 + 61 + 77


@dataclass
class Piggy:
    api: PiggyAPI
    sandbox: Sandbox
    clock: ManualClock

    def settle_after_delay(self) -> None:
        self.clock.advance(DEFAULT_PROCESSING_DELAY + 0.1)


@pytest.fixture
async def piggy() -> AsyncIterator[Piggy]:
    clock = ManualClock()
    app = create_app(api_key=KEY, clock=clock)
    async with PiggyClient(settings(), transport=httpx.ASGITransport(app)) as client:
        yield Piggy(PiggyAPI(client), sandbox_of(app), clock)


async def expect(error: type[PiggyError], code: int, call: Any) -> PiggyError:
    with pytest.raises(error) as caught:
        await call
    assert caught.value.code == code, caught.value
    return caught.value


# Contacts: create, anonymous, list ------------------------------------------------------------------------------


async def test_create_contact_and_an_email_taken(piggy: Piggy) -> None:
    uuid = await piggy.api.create_contact("new.member@example.com")
    created = await piggy.api.get_contact(uuid)
    assert (created.email, created.credit_balance, created.is_anonymous) == ("new.member@example.com", 0, False)
    await expect(RejectedError, 60005, piggy.api.create_contact(E.daan.upper()))


async def test_anonymous_contact_takes_a_free_card_only(piggy: Piggy) -> None:
    uuid = await piggy.api.create_anonymous_contact(CARDS.spare)
    assert (await piggy.api.get_contact(uuid)).is_anonymous is True
    assert (await piggy.api.find_contact_identifier(CARDS.spare)).contact_uuid == uuid
    assert await piggy.api.create_anonymous_contact() != uuid  # without a card, too
    await expect(RejectedError, 60014, piggy.api.create_anonymous_contact(CARDS.anonymous))
    await expect(NotFoundError, 60003, piggy.api.create_anonymous_contact("NO-SUCH-CARD"))
    await expect(RejectedError, 60004, piggy.api.create_anonymous_contact(CARDS.blocked))


async def test_list_contacts_newest_first_and_between_dates(piggy: Piggy) -> None:
    everyone = await piggy.api.list_contacts(limit=100)
    created = [c.created_at or "" for c in everyone.items]
    assert created == sorted(created, reverse=True) and everyone.total == len(SEED.contacts.__dict__)
    assert everyone.items[0].uuid == C.lucas  # joined last, 2025-05-30

    may = await piggy.api.list_contacts(created_from="2025-05-01T00:00:00Z", created_to="2025-05-29T23:59:59Z")
    assert [c.uuid for c in may.items] == [C.anonymous, C.milan]
    assert may.has_more is False

    first = await piggy.api.list_contacts(page=1, limit=3)
    assert (len(first.items), first.has_more, first.next_page) == (3, True, 2)
    await expect(InvalidInputError, 1003, piggy.api.list_contacts(limit=101))


# Contacts: deletion ------------------------------------------------------------------------------------------


async def test_gdpr_deletion_is_scheduled_then_removes_the_contact_and_its_traces(piggy: Piggy) -> None:
    stake = await piggy.api.get_contact_stake(C.sanne_store)
    assert (stake.email, stake.credit_balance, stake.prepaid_balance_in_cents) == (
        E.sanne_store,
        SANNE_STORE_BALANCE,
        0,
    )

    await piggy.api.delete_contact(C.sanne_store, "GDPR")
    assert (await piggy.api.get_contact(C.sanne_store)).uuid == C.sanne_store  # not yet: it is scheduled
    store = piggy.sandbox.store
    assert store.pending == 1

    piggy.settle_after_delay()
    await expect(NotFoundError, 55031, piggy.api.get_contact(C.sanne_store))
    assert not store.transactions_of(C.sanne_store)
    assert (await piggy.api.find_contact_identifier(CARDS.sanne_store)).contact_uuid is None
    (logged,) = store.deletions
    assert logged["type"] == "GDPR" and "email" not in logged  # no personal data kept


async def test_default_deletion_keeps_a_log(piggy: Piggy) -> None:
    await piggy.api.delete_contact(C.emma, "DEFAULT")
    piggy.sandbox.run_pending()
    (logged,) = piggy.sandbox.store.deletions
    assert (logged["type"], logged["email"], logged["balance"]) == ("DEFAULT", E.emma, 48)
    await expect(NotFoundError, 55031, piggy.api.delete_contact(C.emma, "DEFAULT"))


async def test_deletion_needs_a_known_type(piggy: Piggy) -> None:
    await expect(InvalidInputError, 1003, piggy.api.delete_contact(C.emma, "SOFT"))
    assert piggy.sandbox.store.pending == 0


# Cards ------------------------------------------------------------------------------------------------------


async def test_cards_link_once_and_unlink_once(piggy: Piggy) -> None:
    linked = await piggy.api.link_contact_identifier(CARDS.spare, C.emma)
    assert linked.contact_uuid == C.emma
    await expect(RejectedError, 60014, piggy.api.link_contact_identifier(CARDS.spare, C.daan))
    [emmas] = await piggy.api.list_contact_identifiers(C.emma)
    assert (emmas.value, emmas.default, emmas.contact_uuid) == (CARDS.spare, True, C.emma)

    unlinked = await piggy.api.unlink_contact_identifier(CARDS.spare)
    assert unlinked.contact_uuid is None
    assert await piggy.api.list_contact_identifiers(C.emma) == []
    await expect(RejectedError, 60011, piggy.api.unlink_contact_identifier(CARDS.spare))
    await expect(RejectedError, 60004, piggy.api.link_contact_identifier(CARDS.blocked, C.emma))
    await expect(NotFoundError, 55031, piggy.api.list_contact_identifiers("00000000-0000-4000-8000-000000000000"))


async def test_create_a_card(piggy: Piggy) -> None:
    created = await piggy.api.create_contact_identifier("BB-2000-0001", C.daan, "Daan's keyring")
    assert (created.value, created.name, created.contact_uuid) == ("BB-2000-0001", "Daan's keyring", C.daan)
    await expect(RejectedError, 60006, piggy.api.create_contact_identifier("BB-2000-0001"))
    bare = await piggy.api.create_contact_identifier("BB-2000-0002")
    assert (bare.name, bare.contact_uuid) == ("BB-2000-0002", None)


async def test_a_merge_moves_the_cards(piggy: Piggy) -> None:
    await piggy.api.merge_contacts(C.sanne_store, C.sanne_online)
    piggy.sandbox.run_pending()
    assert (await piggy.api.find_contact_identifier(CARDS.sanne_store)).contact_uuid == C.sanne_online


# Program, tiers, automations ---------------------------------------------------------------------------------


async def test_program_and_tiers(piggy: Piggy) -> None:
    program = await piggy.api.get_loyalty_program()
    assert (program.name, program.credit_name, program.max_amount) == ("Bonte Boon Beans", "credits", 1000)
    assert [t.name for t in await piggy.api.list_tiers()] == ["Bronze", "Silver", "Gold"]
    gold = await piggy.api.get_contact_tier(C.julia)
    assert gold is not None and gold.name == "Gold"
    assert await piggy.api.get_contact_tier(C.anonymous) is None
    await expect(NotFoundError, 55031, piggy.api.get_contact_tier("00000000-0000-4000-8000-000000000000"))


async def test_the_credit_name_is_the_programs_and_kept(piggy: Piggy) -> None:
    piggy.sandbox.store.program["custom_credit_name"] = "Beans"
    assert await piggy.api.credit_name() == "beans"
    piggy.sandbox.store.program["custom_credit_name"] = "stamps"
    assert await piggy.api.credit_name() == "beans"  # read once per process


async def test_only_the_active_contact_updated_automation_runs(piggy: Piggy) -> None:
    listed = {a.uuid: (a.event, a.status) for a in await piggy.api.list_automations()}
    assert listed[AUTOMATIONS.birthday] == ("contact_updated", "active")

    await piggy.api.trigger_automation(C.emma, AUTOMATIONS.birthday, {"coupon": "BDAY"})
    (run,) = piggy.sandbox.store.automations.runs
    assert (run.automation_uuid, run.contact_uuid, run.data) == (AUTOMATIONS.birthday, C.emma, {"coupon": "BDAY"})

    for refused in (AUTOMATIONS.thanks, AUTOMATIONS.win_back):
        error = await expect(InvalidInputError, 1003, piggy.api.trigger_automation(C.emma, refused))
        assert "automation_uuid" in error.field_errors
    await expect(NotFoundError, 60013, piggy.api.trigger_automation(C.emma, "00000000-0000-4000-8000-000000000000"))
    await expect(NotFoundError, 55031, piggy.api.trigger_automation(C.emma.replace("a", "b"), AUTOMATIONS.birthday))
    assert len(piggy.sandbox.store.automations.runs) == 1


# The tools over the sandbox ----------------------------------------------------------------------------------


async def test_the_tools_over_the_sandbox() -> None:
    async with Client(build_server(make_settings(sandbox=True, toolsets=["all"]))) as client:
        card = await client.call_tool("find_contact_identifier", {"contact_identifier_value": CARDS.anonymous})
        assert card.structured_content is not None and card.structured_content["contact_uuid"] == C.anonymous

        preview = await client.call_tool("delete_contact", {"contact_uuid": C.sanne_store, "type": "GDPR"})
        assert preview.structured_content is not None
        text = preview.structured_content["preview"]
        assert f"{SANNE_STORE_BALANCE} credits" in text and E.sanne_store in text and "0 cents" in text

        created = await client.call_tool("create_contact", {"email": E.daan})
        assert created.structured_content == {"uuid": C.daan, "created": False}
