"""`piggy-mcp demo`: the member stories of Piggy's use cases, told step by step against the sandbox.

An official MCP client talks to the real server, in process, with the built-in simulated Piggy account behind
it: no network, no API key. The client declares no elicitation, as Claude Desktop does, so confirmations go
through the visible confirmation_required -> confirmation_token round. Every tool call is printed with its
arguments, the reason for it and its result; the exit code says whether every step behaved as expected.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

import anyio
from mcp import Client, MCPError
from mcp.types import CallToolResult

from piggy_mcp.config import Settings
from piggy_mcp.sandbox import LOGIN_CODE, SEED
from piggy_mcp.sandbox.serving import SANDBOX_NOTICE
from piggy_mcp.server import build_server

WIDTH = 100  # a value longer than this on one line is broken down
DEADLINE = 60.0  # seconds for the whole demo
POLL_INTERVAL = 0.2  # seconds between reads while waiting for Piggy's background work (a merge)
POLL_TRIES = 25

INTRO = """\
piggy-mcp demo: five member stories from Piggy's use cases, told through a real MCP client session.

Everything below is SIMULATED: the server runs against piggy-mcp's built-in sandbox, a made-up coffee roaster
(Bonte Boon, Utrecht), not a Piggy account. No API key, no network; the data resets on every run. The server
says so too, in its instructions and under every tool result (not repeated here):
  "{notice}"
"""


class StepFailed(Exception):
    """A step did not behave as the story expects."""


def _masked(value: Any, key: str = "") -> Any:
    """`value` for printing: the auth token masked, confirmation tokens shortened, empty fields left out."""
    if key == "auth_token" and isinstance(value, str):
        return value[:4] + "…(masked: a secret for the shop's portal)"
    if key == "confirmation_token" and isinstance(value, str):
        return value[:14] + "…"
    if isinstance(value, dict):
        return {k: _masked(v, k) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _compact(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _pretty(value: Any, indent: int = 0) -> list[str]:
    """YAML-like lines: what fits on a line stays on it; larger dicts and lists are broken down."""
    pad = " " * indent
    if isinstance(value, dict):
        return [line for key, item in value.items() for line in _entry(f"{pad}{key}:", item, indent)]
    if isinstance(value, list):
        return [line for item in value for line in _entry(f"{pad}-", item, indent)]
    return [pad + _compact(value)]


def _entry(label: str, item: Any, indent: int) -> list[str]:
    """`label item` on one line if it fits, else the label with the item broken down below it."""
    line = f"{label} {_compact(item)}"
    if len(line) <= WIDTH or not isinstance(item, dict | list) or not item:
        return [line]
    nested = _pretty(item, indent + 2)
    if label.endswith("-"):  # a list item starts on the dash's line
        return [f"{label} {nested[0].lstrip()}", *nested[1:]]
    return [label, *nested]


def _error_text(result: CallToolResult) -> str:
    texts = (getattr(block, "text", "") for block in result.content)
    return " ".join(text for text in texts if text and text != SANDBOX_NOTICE)


class Demo:
    """Tells the stories: numbered steps, each a tool call with its reason and result."""

    def __init__(self, client: Client, out: TextIO) -> None:
        self.client = client
        self.out = out
        self.story_number = 0
        self.step_number = 0

    def print(self, text: str = "") -> None:
        print(text, file=self.out)

    def story(self, title: str, intro: str) -> None:
        self.story_number += 1
        self.step_number = 0
        heading = f"Story {self.story_number}: {title}"
        self.print(f"\n{heading}\n{'=' * len(heading)}\n{intro}\n")

    def say(self, text: str) -> None:
        self.print(f"  {text}\n")

    def expect(self, condition: bool, what: str) -> None:
        if not condition:
            raise self.failed(f"expected {what}")

    def failed(self, what: str) -> StepFailed:
        return StepFailed(f"at step {self.story_number}.{self.step_number}: {what}")

    async def call(self, why: str, tool: str, args: dict[str, Any], *, fails: bool = False) -> dict[str, Any]:
        """One step: why, the call, its result. `fails`: the story expects a tool error here."""
        self._announce(why, tool, args)
        result = await self._call(tool, args)
        self._show(result, fails)
        return result.structured_content or {}

    async def poll(
        self, why: str, tool: str, args: dict[str, Any], until: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any]:
        """A step that repeats a read (quietly) until `until` holds; shows the last result."""
        self._announce(why, tool, args)
        for attempt in range(1, POLL_TRIES + 1):
            result = await self._call(tool, args)
            data = result.structured_content or {}
            if result.is_error or until(data) or attempt == POLL_TRIES:
                break
            await anyio.sleep(POLL_INTERVAL)
        self._show(result, fails=False, note=f"(after {attempt} read{'s' if attempt > 1 else ''})")
        self.expect(until(data), f"{tool} to show the change within {POLL_TRIES} reads")
        return data

    def _announce(self, why: str, tool: str, args: dict[str, Any]) -> None:
        self.step_number += 1
        self.print(f"  {self.story_number}.{self.step_number}  {why}")
        self.print(f"       → {tool} {json.dumps(_masked(args), ensure_ascii=False)}")

    async def _call(self, tool: str, args: dict[str, Any]) -> CallToolResult:
        try:
            return await self.client.call_tool(tool, args)
        except MCPError as exc:
            raise self.failed(f"{tool} was refused by the server: {exc}") from exc

    def _show(self, result: CallToolResult, fails: bool, note: str = "") -> None:
        if result.is_error:
            mark = "← error, as expected:" if fails else "✗ ERROR:"
            self.print(f"       {mark} {_error_text(result)}\n")
        else:
            lines = _pretty(_masked(result.structured_content or {}), 9)
            lines[0] = "       ← " + lines[0].lstrip()
            self.print("\n".join(lines) + (f"\n         {note}" if note else "") + "\n")
        if result.is_error != fails:
            raise self.failed("the call failed" if result.is_error else "expected the call to fail, but it succeeded")


# The stories -----------------------------------------------------------------------------------------------

STORE_EMAIL, ONLINE_EMAIL = SEED.emails.sanne_store, SEED.emails.sanne_online


async def verify(demo: Demo, email: str, why: str) -> str:
    """Send a login code and check it: the member proves they own `email`. Returns the contact's uuid."""
    await demo.call(why, "send_contact_verification_email", {"email": email})
    verified = await demo.call(
        f"Sanne reads the code from her inbox (in the sandbox it is always {LOGIN_CODE}) and types it in the chat.",
        "verify_login_code",
        {"email": email, "code": LOGIN_CODE},
    )
    return str(verified["uuid"])


async def points(demo: Demo) -> tuple[str, int]:
    demo.story(
        "A member asks about their points",
        'Sanne de Vries asks the coffee shop\'s chat assistant: "How many points do I have?"',
    )
    found = await demo.call("Find her profile by the email address she gives.", "find_contact", {"email": STORE_EMAIL})
    uuid = await verify(demo, STORE_EMAIL, "Finding a profile does not prove it is hers: email her a login code.")
    demo.expect(uuid == found["uuid"], "the verified contact to be the one found by email")
    await demo.call(
        "Verified: get the token that signs her in to the shop's loyalty portal (a secret, masked here).",
        "get_contact_auth_token",
        {"contact_uuid": uuid},
    )
    balance = await demo.call("Read her credit balance.", "get_contact_credit_balance", {"contact_uuid": uuid})
    demo.say(f'The assistant answers: "You have {balance["balance"]} points."')
    return uuid, int(balance["balance"])


async def merge(demo: Demo, store_uuid: str, store_balance: int) -> int:
    demo.story(
        "Her in-store and online profiles become one",
        "Sanne also orders online, with another email address, and her points there are counted separately.",
    )
    online = await demo.call("Find the online profile by its email address.", "find_contact", {"email": ONLINE_EMAIL})
    online_uuid, online_balance = str(online["uuid"]), int(online["credit_balance"])
    await verify(demo, ONLINE_EMAIL, "A merge needs proof that this profile is hers too: email a login code there.")
    args = {"source_contact_uuid": online_uuid, "destination_contact_uuid": store_uuid}
    asked = await demo.call(
        "Merge the online profile into the in-store one. Irreversible, so the server asks first.",
        "merge_contacts",
        args,
    )
    demo.expect(asked.get("status") == "confirmation_required", "the merge to ask for confirmation first")
    demo.say("Nothing has changed yet. The assistant shows Sanne the preview; she agrees.")
    done = await demo.call(
        "Call again with the same arguments and the confirmation token.",
        "merge_contacts",
        {**args, "confirmation_token": asked["confirmation_token"]},
    )
    demo.expect(done.get("status") == "done", "the confirmed merge to be accepted")
    total = store_balance + online_balance
    await demo.poll(
        "Piggy merges in the background (the sandbox after half a second): read the balance until it shows.",
        "get_contact_credit_balance",
        {"contact_uuid": store_uuid},
        until=lambda data: data.get("balance") == total,
    )
    demo.say(f"One profile now holds all her points: {total} = {store_balance} + {online_balance}.")
    await demo.call(
        "The online profile no longer exists: looking it up fails.",
        "find_contact",
        {"email": ONLINE_EMAIL},
        fails=True,
    )
    return total


PREFERRED_CATEGORY = {
    "name": "preferred_category",
    "label": "Preferred category",
    "data_type": "select",
    "description": "The product category the member likes best, for targeted campaigns.",
    "options": [
        {"label": "Electronics", "value": "electronics"},
        {"label": "Clothing", "value": "clothing"},
        {"label": "Home goods", "value": "home_goods"},
    ],
}


async def attribute(demo: Demo) -> None:
    demo.story(
        'Marketing adds a "preferred category" field',
        "Marketing wants to know which category each member prefers, for its campaigns.",
    )
    created = await demo.call(
        "Add a select field to every contact profile, with three options.",
        "create_contact_attribute",
        PREFERRED_CATEGORY,
    )
    demo.expect(created.get("type") == "select", "a select field")
    fields = await demo.call("Read the profile fields back.", "list_contact_attributes", {})
    field: dict[str, Any] = next(
        (f for f in fields.get("attributes", []) if f["name"] == PREFERRED_CATEGORY["name"]), {}
    )
    values = [option["value"] for option in field.get("options") or []]
    demo.expect(values == ["electronics", "clothing", "home_goods"], "the field to have the three options")
    demo.say("Every profile now has the field; members can choose electronics, clothing or home goods.")


async def reward(demo: Demo, uuid: str, balance: int) -> int:
    demo.story(
        "She spends her points on a reward",
        "Back in the shop a week later, Sanne asks the assistant what her points can buy.",
    )
    await verify(demo, STORE_EMAIL, "A new chat: verify her again before spending her points.")
    shop = SEED.shops.store
    offer = await demo.call(
        "List the rewards she can claim now, in this shop.",
        "list_rewards",
        {"contact_uuid": uuid, "shop_uuid": shop},
    )
    chosen = next((r for r in offer.get("rewards", []) if r["uuid"] == SEED.rewards.beans_bag), None)
    if chosen is None:
        raise demo.failed("expected the bag of beans among the rewards she can claim")
    cost = int(chosen["required_credits"])
    demo.say(f'With {balance} points she can have the "{chosen["title"]}" for {cost}: neither profile alone could.')
    args = {"contact_uuid": uuid, "reward_uuid": chosen["uuid"], "shop_uuid": shop}
    asked = await demo.call("She chooses it. Redeeming spends points: the server asks first.", "redeem_reward", args)
    demo.expect(asked.get("status") == "confirmation_required", "the redemption to ask for confirmation first")
    demo.say("The assistant shows her the preview; she agrees.")
    done = await demo.call(
        "Call again with the confirmation token.",
        "redeem_reward",
        {**args, "confirmation_token": asked["confirmation_token"]},
    )
    demo.expect(done.get("status") == "done", "the confirmed redemption to go through")
    after = await demo.call("Read her balance after.", "get_contact_credit_balance", {"contact_uuid": uuid})
    demo.expect(after.get("balance") == balance - cost, f"the balance to drop by {cost}")
    demo.say(f"{balance} - {cost} = {after['balance']} points left, and a bag of beans to take home.")
    return int(after["balance"])


WEB_ORDER = "BB-WEB-1001"
BEANS_LINE = {"external_identifier": "beans-1kg", "name": "Beans, 1 kg", "quantity": 2, "price": 1250}
GRINDER_LINE = {"external_identifier": "grinder", "name": "Hand grinder", "quantity": 1, "price": 3650}


async def purchase(demo: Demo, uuid: str, balance: int) -> None:
    demo.story(
        "An online purchase earns points once, and a return takes the right ones back",
        "Sanne orders two bags of beans and a grinder in the web shop (61.50 euros), which sends the order on.",
    )
    order = {
        "external_identifier": WEB_ORDER,
        "contact_uuid": uuid,
        "shop_uuid": SEED.shops.web,
        "total_order_amount": 6150,
        "line_items": [BEANS_LINE, GRINDER_LINE],
    }
    placed = await demo.call("Send the paid order: the loyalty rules turn it into points.", "create_order", order)
    earned = int(placed["order"]["points"])
    demo.expect(placed.get("status") == "processed" and earned == 61, "61 points for 61.50 euros")
    again = await demo.call("The web shop timed out waiting and sends the same order again.", "create_order", order)
    demo.expect(again.get("status") == "already_processed", "the repeat to be answered, not sent")
    after_order = await demo.call("Read her balance.", "get_contact_credit_balance", {"contact_uuid": uuid})
    demo.expect(after_order.get("balance") == balance + earned, f"the balance to rise by {earned}, once")
    demo.say(f"{balance} + {earned} = {after_order['balance']}: the repeat earned nothing.")
    args = {
        "external_identifier": f"{WEB_ORDER}-R1",
        "order_external_identifier": WEB_ORDER,
        "line_items": [{"external_identifier": "beans-1kg", "quantity": 1}],
    }
    asked = await demo.call(
        "She sends one bag of beans back. A return takes points away: the server asks first.",
        "create_order_return",
        args,
    )
    demo.expect(asked.get("status") == "confirmation_required", "the return to ask for confirmation first")
    done = await demo.call(
        "The shop's staff agree; call again with the token.",
        "create_order_return",
        {**args, "confirmation_token": asked["confirmation_token"]},
    )
    back = -int(done["order_return"]["points"])
    demo.expect(back == 12, "the 12 points of one 12.50 euro bag to be taken back")
    final = await demo.call("Read her balance after.", "get_contact_credit_balance", {"contact_uuid": uuid})
    demo.expect(final.get("balance") == balance + earned - back, "the balance to drop by the returned bag's points")
    demo.say(f"{after_order['balance']} - {back} = {final['balance']}: only the returned bag's points went back.")


async def tell_stories(demo: Demo) -> None:
    uuid, store_balance = await points(demo)
    total = await merge(demo, uuid, store_balance)
    await attribute(demo)
    left = await reward(demo, uuid, total)
    await purchase(demo, uuid, left)


# Entry point -----------------------------------------------------------------------------------------------


async def _tell(out: TextIO) -> str | None:
    """Tell the stories; None if every step behaved as expected, else what went wrong."""
    # Every tool, whatever PIGGY_READ_ONLY or PIGGY_TOOLSETS say; and no simulated calls in an operator's audit log.
    settings = Settings(  # type: ignore[call-arg]
        sandbox=True, read_only=False, toolsets=["all"], tools=[], exclude_tools=[], audit_log=None, _env_file=None
    )
    try:
        with anyio.fail_after(DEADLINE):
            async with Client(build_server(settings)) as client:
                demo = Demo(client, out)
                # Caught inside the session: escaping it, the failure would arrive wrapped in an exception group.
                try:
                    demo.expect(SANDBOX_NOTICE in (client.instructions or ""), "the server to say it is a sandbox")
                    await tell_stories(demo)
                except StepFailed as exc:
                    return str(exc)
    except TimeoutError:
        return f"after {DEADLINE:g} s: the stories took too long"
    return None


async def _main(out: TextIO) -> int:
    out.write(INTRO.format(notice=SANDBOX_NOTICE))
    # The server's audit trail writes a JSON line per write to stderr: kept out of the story, shown on failure.
    captured = io.StringIO()
    with contextlib.redirect_stderr(captured):
        failure = await _tell(out)
    if failure is not None:
        out.write(f"\n✗ The demo stopped {failure}.\n")
        sys.stderr.write(captured.getvalue())
        return 1
    out.write("\nAll five stories went as expected. Try it in your own MCP client: piggy-mcp --sandbox\n")
    return 0


def run_demo() -> int:
    """Tell the stories on stdout; 0 if every step behaved as expected, 1 otherwise."""
    out = sys.stdout
    if isinstance(out, io.TextIOWrapper):
        out.reconfigure(errors="replace")  # a console that cannot show "→" gets "?" instead of a crash
    return anyio.run(_main, out)
