"""Piggy's endpoints: one method per operation, with the paths and body keys Piggy documents.

Methods return Piggy's `data` as plain JSON (dicts and lists); shaping it for models is the tools' job.
Choices the sources leave open (see shared/piggy-api.md §5-§6) are made here and marked UNCONFIRMED.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from piggy_mcp.piggy.client import PiggyClient
from piggy_mcp.piggy.errors import InvalidInputError, UpstreamError

JSON = dict[str, Any]

PRODUCTS_PAGE_LIMIT = 100  # Piggy's maximum page size for products


# A uuid as Piggy gives them out: 36 characters, hex digits in groups of 8-4-4-4-12.
UUID_FORM = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _id(value: str) -> str:
    """A path segment that must be a UUID: anything else could change the URL's path."""
    if isinstance(value, str) and UUID_FORM.fullmatch(value):
        return value.lower()
    raise InvalidInputError(f"{value!r} is not a UUID", next_step="Pass the uuid exactly as Piggy gave it.")


def _compact(body: Mapping[str, Any]) -> JSON:
    """Drop arguments that were not given, so Piggy applies its own defaults."""
    return {k: v for k, v in body.items() if v is not None}


def _opt_id(value: str | None) -> str | None:
    return _id(value) if value is not None else None


class Page(NamedTuple):
    """One page of a paginated list: the items, and Piggy's `meta` (its keys differ by endpoint, §2.4)."""

    items: list[JSON]
    meta: JSON


class PiggyAPI:
    """Piggy's OAuth client API, as typed calls over one `PiggyClient`."""

    def __init__(self, client: PiggyClient) -> None:
        self._client = client

    # Contacts -------------------------------------------------------------------------------

    async def get_contact(self, contact_uuid: str) -> JSON:
        data: JSON = await self._client.get(f"/contacts/{_id(contact_uuid)}")
        return data

    async def find_contact_by_email(self, email: str) -> JSON:
        data: JSON = await self._client.get("/contacts/find-one-by", {"email": email})
        return data

    async def update_contact(self, contact_uuid: str, attributes: Mapping[str, Any]) -> JSON:
        data: JSON = await self._client.send(
            "PUT",
            f"/contacts/{_id(contact_uuid)}",
            {"attributes": dict(attributes)},
            if_unknown="Updating sets the same values again: it is safe to call again.",
        )
        return data

    async def get_credit_balance(self, contact_uuid: str) -> JSON:
        data: JSON = await self._client.get(f"/contacts/{_id(contact_uuid)}/credit-balance")
        return data

    async def claim_anonymous_contact(self, anonymous_contact_uuid: str, email: str) -> JSON:
        data: JSON = await self._client.send(
            "PUT",
            f"/contacts/{_id(anonymous_contact_uuid)}/claim",
            {"email": email},
            if_unknown="Get the contact by its uuid: if it is no longer anonymous, the claim went through.",
        )
        return data

    async def merge_contacts(self, source_contact_uuid: str, destination_contact_uuid: str) -> None:
        # UNCONFIRMED: Piggy documents no response body for a merge; any 2xx means "scheduled".
        await self._client.send(
            "POST",
            "/contacts/merge",
            {
                "source_contact_uuid": _id(source_contact_uuid),
                "destination_contact_uuid": _id(destination_contact_uuid),
            },
            if_unknown="Wait a few minutes, then get the source contact: if it is gone, the merge went through.",
            require_data=False,
        )

    # Contact verification ---------------------------------------------------------------------

    async def send_verification_email(self, email: str) -> JSON:
        data: JSON = await self._client.send(
            "POST",
            "/contact-verification/send",
            {"email": email},
            if_unknown="Ask the member whether the email arrived before sending another.",
        )
        return data

    async def verify_login_code(self, email: str, code: str) -> JSON:
        data: JSON = await self._client.send(
            "POST",
            "/contact-verification/verify",
            {"email": email, "code": code},
            if_unknown="Checking a code changes nothing: call again.",
        )
        return data

    async def get_contact_auth_token(self, contact_uuid: str) -> str:
        data = await self._client.get(f"/contact-verification/auth-token/{_id(contact_uuid)}")
        # The docs wrap the token as {"auth_token": ...}; the PHP SDK reads a bare string. Accept both.
        token = data.get("auth_token") if isinstance(data, Mapping) else data
        if not isinstance(token, str):
            raise UpstreamError("Piggy answered without an auth token")
        return token

    # Contact attributes -------------------------------------------------------------------------

    async def list_contact_attributes(self) -> list[JSON]:
        data: list[JSON] = await self._client.get("/contact-attributes")
        return data

    async def create_contact_attribute(
        self,
        name: str,
        label: str,
        data_type: str,
        description: str | None = None,
        options: Sequence[Mapping[str, str]] | None = None,
    ) -> JSON:
        # Decision (§6): the /contact-attributes route with `data_type`; options as {label, value}.
        body = _compact(
            {
                "name": name,
                "label": label,
                "data_type": data_type,
                "description": description,
                "options": [dict(o) for o in options] if options else None,
            }
        )
        data: JSON = await self._client.send(
            "POST",
            "/contact-attributes",
            body,
            if_unknown="List the contact attributes before creating it again; Piggy refuses duplicates (60009).",
        )
        return data

    # Loyalty ------------------------------------------------------------------------------------

    async def create_credit_reception(
        self,
        contact_uuid: str,
        shop_uuid: str,
        *,
        credits: int | None = None,
        unit_value: float | None = None,
        unit_name: str | None = None,
        contact_identifier_value: str | None = None,
        pos_transaction_uuid: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> JSON:
        body = _compact(
            {
                # Loyalty-transaction attributes travel as top-level keys; ours come last and win.
                **(attributes or {}),
                "contact_uuid": _id(contact_uuid),
                "shop_uuid": _id(shop_uuid),
                "credits": credits,
                "unit_value": unit_value,
                "unit_name": unit_name,
                "contact_identifier_value": contact_identifier_value,
                # UNCONFIRMED: the docs say `pos_transaction_uuid`, the PHP SDK sends `pos_transaction_id`.
                "pos_transaction_uuid": pos_transaction_uuid,
            }
        )
        data: JSON = await self._client.send(
            "POST",
            "/credit-receptions",
            body,
            if_unknown=(
                "Read the contact's credit balance or loyalty transactions to see whether the credits arrived "
                "before awarding them again."
            ),
        )
        return data

    async def reverse_credit_reception(self, credit_reception_uuid: str) -> Any:
        # Any 2xx means done: an odd body must not read as a failure the model would retry.
        return await self._client.send(
            "POST",
            f"/credit-receptions/{_id(credit_reception_uuid)}/reverse",
            None,
            if_unknown=(
                "List the contact's loyalty transactions: an opposite credit reception means the reversal went "
                "through. Do not reverse again before checking."
            ),
            require_data=False,
        )

    async def list_loyalty_transactions(
        self,
        contact_uuid: str,
        transaction_type: str | None = None,
        page: int | None = None,
        limit: int | None = None,
    ) -> Page:
        params = {"contact_uuid": _id(contact_uuid), "type": transaction_type, "page": page, "limit": limit}
        return await self._page("/loyalty-transactions", params)

    async def list_shops(self) -> list[JSON]:
        data: list[JSON] = await self._client.get("/shops")
        return data

    # Rewards ------------------------------------------------------------------------------------

    async def list_rewards(self, contact_uuid: str | None = None, shop_uuid: str | None = None) -> list[JSON]:
        params = {"contact_uuid": _opt_id(contact_uuid), "shop_uuid": _opt_id(shop_uuid)}
        data: list[JSON] = await self._client.get("/rewards", params)
        return data

    async def get_reward(self, reward_uuid: str) -> JSON:
        data: JSON = await self._client.get(f"/rewards/{_id(reward_uuid)}")
        return data

    async def create_reward_reception(self, contact_uuid: str, reward_uuid: str, shop_uuid: str) -> Any:
        # Any 2xx means done: an odd body must not read as a failure the model would retry.
        return await self._client.send(
            "POST",
            "/reward-receptions",
            {"contact_uuid": _id(contact_uuid), "reward_uuid": _id(reward_uuid), "shop_uuid": _id(shop_uuid)},
            if_unknown=(
                "List the contact's loyalty transactions of type reward_receptions: if the reward is there, "
                "it was redeemed. Do not redeem again before checking."
            ),
            require_data=False,
        )

    # Vouchers -----------------------------------------------------------------------------------

    async def list_promotions(self) -> list[JSON]:
        data: list[JSON] = await self._client.get("/promotions")
        return data

    async def list_vouchers(
        self,
        contact_uuid: str,
        status: str | None = None,
        promotion_uuid: str | None = None,
        page: int | None = None,
        limit: int | None = None,
    ) -> Page:
        params = {
            "contact_uuid": _id(contact_uuid),
            "status": status,
            "promotion_uuid": _opt_id(promotion_uuid),
            "page": page,
            "limit": limit,
        }
        return await self._page("/vouchers", params)

    async def redeem_voucher(self, code: str, contact_uuid: str | None = None, shop_uuid: str | None = None) -> Any:
        # UNCONFIRMED: the answer's shape is undocumented (probably the voucher); a 2xx without it still means done.
        return await self._client.send(
            "POST",
            "/vouchers/redeem",
            _compact({"code": code, "contact_uuid": _opt_id(contact_uuid), "shop_uuid": _opt_id(shop_uuid)}),
            if_unknown="Find the voucher by its code: status REDEEMED means the redemption went through.",
            require_data=False,
        )

    async def create_vouchers_batch(
        self,
        promotion_uuid: str,
        quantity: int,
        contact_uuid: str | None = None,
        expiration_date: str | None = None,
        activation_date: str | None = None,
    ) -> JSON:
        body = _compact(
            {
                "promotion_uuid": _id(promotion_uuid),
                "quantity": quantity,
                "contact_uuid": _id(contact_uuid) if contact_uuid else None,
                "expiration_date": expiration_date,
                "activation_date": activation_date,
            }
        )
        data: JSON = await self._client.send(
            "POST",
            "/vouchers/batch",
            body,
            if_unknown="List the promotion's vouchers in Piggy before creating another batch.",
        )
        return data

    async def find_voucher_by_code(self, code: str) -> JSON:
        data: JSON = await self._client.get("/vouchers/find", {"code": code})
        return data

    # Catalog ------------------------------------------------------------------------------------

    async def list_forms(self, status: str | None = None, form_type: str | None = None) -> list[JSON]:
        data: list[JSON] = await self._client.get("/forms", {"status": status, "type": form_type})
        return data

    async def list_perks(self) -> list[JSON]:
        data: list[JSON] = await self._client.get("/perks")
        return data

    async def find_or_create_products(self, products: Sequence[Mapping[str, Any]]) -> list[tuple[JSON, bool]]:
        """Each requested product as Piggy holds it, paired with whether it was created now.

        UNCONFIRMED: Piggy documents no find-or-create endpoint for products, so (decision §6) we page
        through the catalog for the requested external identifiers and create the missing ones in one
        batch. Replace this method's body if Piggy publishes a dedicated endpoint.
        """
        wanted = {p["external_identifier"]: p for p in products}
        found: dict[str, JSON] = {}
        page = 1
        while len(found) < len(wanted):
            envelope = await self._client.request(
                "GET", "/products", params={"page": page, "limit": PRODUCTS_PAGE_LIMIT}
            )
            items = envelope.data or []
            for item in items:
                ident = item.get("external_identifier")
                if ident in wanted:
                    found[ident] = item
            last_page = envelope.meta.get("last_page") if isinstance(envelope.meta, Mapping) else None
            more = page < last_page if isinstance(last_page, int) else len(items) >= PRODUCTS_PAGE_LIMIT
            if not items or not more:
                break
            page += 1

        missing = [_compact(dict(wanted[i])) for i in wanted if i not in found]
        created: dict[str, JSON] = {}
        if missing:
            data = await self._client.send(
                "POST",
                "/products/batch",
                {"products": missing},
                if_unknown="Call find_or_create_products again: products created meanwhile are found, not duplicated.",
                require_data=False,
            )
            returned = data if isinstance(data, list) else []
            by_ident: dict[Any, JSON] = {p.get("external_identifier"): p for p in returned if isinstance(p, dict)}
            # UNCONFIRMED: the batch answer's shape is undocumented; fall back to what we sent.
            created = {m["external_identifier"]: by_ident.get(m["external_identifier"], m) for m in missing}
        return [(found[i], False) if i in found else (created[i], True) for i in wanted]

    # Bookings -----------------------------------------------------------------------------------

    async def update_booking(self, booking_uuid: str, changes: Mapping[str, Any]) -> JSON:
        data: JSON = await self._client.send(
            "PUT",
            f"/bookings/{_id(booking_uuid)}",
            _compact(changes),
            if_unknown="Updating a booking sets the same values again: it is safe to call again.",
        )
        return data

    # Helpers ------------------------------------------------------------------------------------

    async def _page(self, path: str, params: Mapping[str, Any]) -> Page:
        envelope = await self._client.request("GET", path, params=params)
        items = envelope.data if isinstance(envelope.data, list) else []
        meta = envelope.meta if isinstance(envelope.meta, Mapping) else {}  # Piggy sends [] when empty
        return Page(items, dict(meta))
