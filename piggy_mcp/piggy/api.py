"""Piggy's endpoints: one method per operation, with the paths and body keys Piggy documents.

Methods return the typed records of `models.py`. Where Piggy's sources leave a choice open, the choice is made
here (or in `models.py`) and named by its id in docs/piggy-api-decisions.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from piggy_mcp.piggy.automations import AutomationsAPI
from piggy_mcp.piggy.giftcards import GiftcardsAPI
from piggy_mcp.piggy.identifiers import IdentifiersAPI
from piggy_mcp.piggy.models import (
    JSON,
    Attribute,
    Booking,
    Contact,
    ContactStake,
    CreditBalance,
    CreditReception,
    Form,
    ListedContact,
    LoyaltyTransaction,
    NewContact,
    Page,
    Perk,
    Product,
    Promotion,
    Reversal,
    Reward,
    RewardReception,
    Shop,
    VerifiedContact,
    Voucher,
    VoucherBatch,
    after_write,
    auth_token,
    verification_message,
)
from piggy_mcp.piggy.orders import OrdersAPI
from piggy_mcp.piggy.paths import compact as _compact
from piggy_mcp.piggy.paths import optional_path_id as _opt_id
from piggy_mcp.piggy.paths import path_id as _id
from piggy_mcp.piggy.prepaid import PrepaidAPI
from piggy_mcp.piggy.program import ProgramAPI
from piggy_mcp.piggy.webhooks import WebhooksAPI

# Piggy's page sizes.
PRODUCTS_PAGE_LIMIT = 100  # the maximum for products
TRANSACTIONS_DEFAULT_LIMIT = 10
CONTACTS_DEFAULT_LIMIT = 30
VOUCHERS_DEFAULT_LIMIT = 30

# Piggy has no endpoint that reads one credit reception (decision D7): it is looked for among the contact's
# credit receptions, this many pages of this size (their order is undocumented too).
RECEPTION_SCAN_PAGES = 3
RECEPTION_SCAN_LIMIT = 100


class PiggyAPI(OrdersAPI, IdentifiersAPI, ProgramAPI, AutomationsAPI, GiftcardsAPI, PrepaidAPI, WebhooksAPI):
    """Piggy's OAuth client API, as typed calls over one `PiggyClient`: the groups of endpoints mixed in, and the
    core ones below."""

    # Contacts -------------------------------------------------------------------------------

    async def get_contact(self, contact_uuid: str) -> Contact:
        return await self._client.get(f"/contacts/{_id(contact_uuid)}", shape=Contact.from_piggy)

    async def find_contact_by_email(self, email: str) -> Contact:
        return await self._client.get("/contacts/find-one-by", {"email": email}, shape=Contact.from_piggy)

    async def update_contact(self, contact_uuid: str, attributes: Mapping[str, Any]) -> Contact:
        return await self._client.send(
            "PUT",
            f"/contacts/{_id(contact_uuid)}",
            {"attributes": dict(attributes)},
            how_to_check="Updating sets the same values again: it is safe to call again.",
            shape=Contact.from_piggy,
        )

    async def get_credit_balance(self, contact_uuid: str) -> int:
        return await self._client.get(f"/contacts/{_id(contact_uuid)}/credit-balance", shape=CreditBalance.of)

    async def claim_anonymous_contact(self, anonymous_contact_uuid: str, email: str) -> Contact:
        # The email is required, though the docs mark it optional (decision D20).
        return await self._client.send(
            "PUT",
            f"/contacts/{_id(anonymous_contact_uuid)}/claim",
            {"email": email},
            how_to_check="Get the contact by its uuid: if it is no longer anonymous, the claim went through.",
            shape=Contact.from_piggy,
        )

    async def merge_contacts(self, source_contact_uuid: str, destination_contact_uuid: str) -> None:
        # Piggy documents no answer for a merge: any 2xx means "scheduled" (decision D4).
        await self._client.send(
            "POST",
            "/contacts/merge",
            {
                "source_contact_uuid": _id(source_contact_uuid),
                "destination_contact_uuid": _id(destination_contact_uuid),
            },
            how_to_check="Wait a few minutes, then get the source contact: if it is gone, the merge went through.",
            require_data=False,
        )

    async def create_contact(self, email: str) -> str:
        """The new contact's uuid; Piggy refuses an email it has already (60005)."""
        created: NewContact = await self._client.send(
            "POST",
            "/contacts",
            {"email": email},
            how_to_check="Find the contact by email: if it exists, it was created.",
            shape=NewContact.model_validate,
        )
        return created.uuid

    async def create_anonymous_contact(self, contact_identifier_value: str | None = None) -> str:
        created: NewContact = await self._client.send(
            "POST",
            "/contacts/anonymous",
            _compact({"contact_identifier_value": contact_identifier_value}),
            how_to_check=(
                "Find the card by its value: if it is linked, the contact was created. Without a card there is no "
                "way to find it: do not create another before asking the user."
            ),
            shape=NewContact.model_validate,
        )
        return created.uuid

    async def list_contacts(
        self,
        page: int | None = None,
        limit: int | None = None,
        created_from: str | None = None,
        created_to: str | None = None,
    ) -> Page[ListedContact]:
        params = {
            "sort": "-created_at",  # newest first
            # Piggy takes `created_at` "only as array"; the operator keys are METORIAL's (decision D50).
            "created_at[gte]": created_from,
            "created_at[lte]": created_to,
            "page": page,
            "limit": limit,
        }
        limit = limit or CONTACTS_DEFAULT_LIMIT
        return await self._client.read(
            "/contacts",
            params,
            shape=lambda found: Page.from_piggy(
                ListedContact, [ListedContact.from_piggy(c) for c in found.data], found.meta, page=page, limit=limit
            ),
        )

    async def get_contact_stake(self, contact_uuid: str) -> ContactStake:
        """What deleting the contact would lose: its email, credits and prepaid balance."""
        return await self._client.get(f"/contacts/{_id(contact_uuid)}", shape=ContactStake.from_piggy)

    async def delete_contact(self, contact_uuid: str, deletion_type: str) -> None:
        # Piggy schedules the deletion and answers `data: null` (§7.4).
        await self._client.send(
            "POST",
            f"/contacts/{_id(contact_uuid)}/delete",
            {"type": deletion_type},
            how_to_check="Wait a few minutes, then get the contact: if it is gone (55031), it was deleted.",
            require_data=False,
        )

    # Contact verification ---------------------------------------------------------------------

    async def send_verification_email(self, email: str) -> str | None:
        """Piggy's message about the email sent, if it gave one."""
        return await self._client.send(
            "POST",
            "/contact-verification/send",
            {"email": email},
            how_to_check="Ask the member whether the email arrived before sending another.",
            shape=verification_message,
        )

    async def verify_login_code(self, email: str, code: str) -> str:
        """The uuid of the contact the code verifies. Sent as a write: a code may work only once (decision D19)."""
        verified: VerifiedContact = await self._client.send(
            "POST",
            "/contact-verification/verify",
            {"email": email, "code": code},
            how_to_check=(
                "The code may have been used up: if checking it again fails (13010), send a new verification email."
            ),
            shape=VerifiedContact.model_validate,
        )
        return verified.uuid

    async def get_contact_auth_token(self, contact_uuid: str) -> str:
        return await self._client.get(f"/contact-verification/auth-token/{_id(contact_uuid)}", shape=auth_token)

    # Contact attributes -------------------------------------------------------------------------

    async def list_contact_attributes(self) -> list[Attribute]:
        return await self._client.get("/contact-attributes", shape=lambda data: [Attribute.from_piggy(a) for a in data])

    async def create_contact_attribute(
        self,
        name: str,
        label: str,
        data_type: str,
        description: str | None = None,
        options: Sequence[Mapping[str, str]] | None = None,
    ) -> Attribute:
        # The /contact-attributes route with `data_type`; options as {label, value} (decision D9).
        body = _compact(
            {
                "name": name,
                "label": label,
                "data_type": data_type,
                "description": description,
                "options": [dict(o) for o in options] if options else None,
            }
        )
        return await self._client.send(
            "POST",
            "/contact-attributes",
            body,
            how_to_check="List the contact attributes before creating it again; Piggy refuses duplicates (60009).",
            shape=Attribute.from_piggy,
        )

    # Loyalty ------------------------------------------------------------------------------------

    async def create_credit_reception(
        self,
        contact_uuid: str,
        shop_uuid: str | None,
        *,
        credits: int | None = None,
        unit_value: float | None = None,
        unit_name: str | None = None,
        contact_identifier_value: str | None = None,
        pos_transaction_uuid: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> CreditReception:
        body = _compact(
            {
                # Loyalty-transaction attributes travel as top-level keys; ours come last and win.
                **(attributes or {}),
                "contact_uuid": _id(contact_uuid),
                "shop_uuid": self.shop(shop_uuid),
                "credits": credits,
                "unit_value": unit_value,
                "unit_name": unit_name,
                "contact_identifier_value": contact_identifier_value,
                # The docs say `pos_transaction_uuid`, the PHP SDK sends `pos_transaction_id` (decision D3).
                "pos_transaction_uuid": pos_transaction_uuid,
            }
        )
        return await self._client.send(
            "POST",
            "/credit-receptions",
            body,
            how_to_check=(
                "Read the contact's credit balance or loyalty transactions to see whether the credits arrived "
                "before awarding them again."
            ),
            shape=CreditReception.from_piggy,
        )

    async def reverse_credit_reception(self, credit_reception_uuid: str) -> Reversal:
        return await self._client.send(
            "POST",
            f"/credit-receptions/{_id(credit_reception_uuid)}/reverse",
            None,
            how_to_check=(
                "List the contact's loyalty transactions: an opposite credit reception means the reversal went "
                "through. Do not reverse again before checking."
            ),
            require_data=False,
            shape=lambda data: after_write(Reversal, data),
        )

    async def list_loyalty_transactions(
        self,
        contact_uuid: str,
        transaction_type: str | None = None,
        page: int | None = None,
        limit: int | None = None,
    ) -> Page[LoyaltyTransaction]:
        params = {"contact_uuid": _id(contact_uuid), "type": transaction_type, "page": page, "limit": limit}
        limit = limit or TRANSACTIONS_DEFAULT_LIMIT
        return await self._client.read(
            "/loyalty-transactions",
            params,
            shape=lambda found: Page.from_piggy(LoyaltyTransaction, found.data, found.meta, page=page, limit=limit),
        )

    async def find_credit_reception(self, contact_uuid: str, reception_uuid: str) -> LoyaltyTransaction | None:
        """One of the contact's latest credit receptions, or None when it is not among them (decision D7)."""
        return await self._find_transaction(contact_uuid, "credit_receptions", reception_uuid)

    async def _find_transaction(self, contact_uuid: str, kind: str, uuid: str) -> LoyaltyTransaction | None:
        # Piggy reads no single reception: it is looked for among the contact's latest of its kind (decision D7).
        for page in range(1, RECEPTION_SCAN_PAGES + 1):
            found = await self.list_loyalty_transactions(contact_uuid, kind, page, RECEPTION_SCAN_LIMIT)
            for item in found.items:
                if item.uuid.lower() == uuid.lower():
                    return item
            if not found.has_more:
                break
        return None

    async def list_shops(self) -> list[Shop]:
        return await self._client.get("/shops", shape=lambda data: [Shop.model_validate(item) for item in data])

    # Rewards ------------------------------------------------------------------------------------

    async def list_rewards(self, contact_uuid: str | None = None, shop_uuid: str | None = None) -> list[Reward]:
        params = {"contact_uuid": _opt_id(contact_uuid), "shop_uuid": _opt_id(shop_uuid)}
        return await self._client.get("/rewards", params, shape=lambda data: [Reward.model_validate(r) for r in data])

    async def get_reward(self, reward_uuid: str) -> Reward:
        return await self._client.get(f"/rewards/{_id(reward_uuid)}", shape=Reward.model_validate)

    async def create_reward_reception(
        self, contact_uuid: str, reward_uuid: str, shop_uuid: str | None
    ) -> RewardReception:
        return await self._client.send(
            "POST",
            "/reward-receptions",
            {"contact_uuid": _id(contact_uuid), "reward_uuid": _id(reward_uuid), "shop_uuid": self.shop(shop_uuid)},
            how_to_check=(
                "List the contact's loyalty transactions of type reward_receptions: if the reward is there, "
                "it was redeemed. Do not redeem again before checking."
            ),
            require_data=False,
            shape=lambda data: after_write(RewardReception, data),
        )

    async def find_reward_reception(self, contact_uuid: str, reception_uuid: str) -> LoyaltyTransaction | None:
        """One of the contact's latest reward receptions, or None (as for credit receptions, decision D7)."""
        return await self._find_transaction(contact_uuid, "reward_receptions", reception_uuid)

    async def reverse_reward_reception(self, reward_reception_uuid: str) -> Reversal:
        # Piggy answers with the credit reception that gives the credits back (§4).
        return await self._client.send(
            "POST",
            f"/reward-receptions/{_id(reward_reception_uuid)}/reverse",
            None,
            how_to_check=(
                "List the contact's loyalty transactions: a credit reception giving the reward's credits back means "
                "the reversal went through. Do not reverse again before checking."
            ),
            require_data=False,
            shape=lambda data: after_write(Reversal, data),
        )

    # Vouchers -----------------------------------------------------------------------------------

    async def list_promotions(self) -> list[Promotion]:
        return await self._client.get("/promotions", shape=lambda data: [Promotion.model_validate(p) for p in data])

    async def list_vouchers(
        self,
        contact_uuid: str,
        status: str | None = None,
        promotion_uuid: str | None = None,
        page: int | None = None,
        limit: int | None = None,
    ) -> Page[Voucher]:
        params = {
            "contact_uuid": _id(contact_uuid),
            "status": status,
            "promotion_uuid": _opt_id(promotion_uuid),
            "page": page,
            "limit": limit,
        }
        limit = limit or VOUCHERS_DEFAULT_LIMIT
        return await self._client.read(
            "/vouchers",
            params,
            shape=lambda found: Page.from_piggy(Voucher, found.data, found.meta, page=page, limit=limit),
        )

    async def redeem_voucher(self, code: str, contact_uuid: str | None = None, shop_uuid: str | None = None) -> Voucher:
        return await self._client.send(
            "POST",
            "/vouchers/redeem",
            _compact(
                {
                    "code": code,
                    "contact_uuid": _opt_id(contact_uuid),
                    "shop_uuid": _opt_id(shop_uuid if shop_uuid is not None else self._default_shop),
                }
            ),
            how_to_check="Find the voucher by its code: status REDEEMED means the redemption went through.",
            require_data=False,
            shape=lambda data: Voucher.redeemed(data, code),
        )

    async def create_vouchers_batch(
        self,
        promotion_uuid: str,
        quantity: int,
        contact_uuid: str | None = None,
        expiration_date: str | None = None,
        activation_date: str | None = None,
    ) -> VoucherBatch:
        body = _compact(
            {
                "promotion_uuid": _id(promotion_uuid),
                "quantity": quantity,
                "contact_uuid": _opt_id(contact_uuid),
                "expiration_date": expiration_date,
                "activation_date": activation_date,
            }
        )
        # /vouchers/batch, where the docs and the SDK's model agree (decision D8).
        return await self._client.send(
            "POST",
            "/vouchers/batch",
            body,
            how_to_check="List the promotion's vouchers in Piggy before creating another batch.",
            shape=VoucherBatch.model_validate,
        )

    async def find_voucher_by_code(self, code: str) -> Voucher:
        return await self._client.get("/vouchers/find", {"code": code}, shape=Voucher.from_piggy)

    # Catalog ------------------------------------------------------------------------------------

    async def list_forms(self, status: str | None = None, form_type: str | None = None) -> list[Form]:
        params = {"status": status, "type": form_type}
        return await self._client.get("/forms", params, shape=lambda data: [Form.model_validate(f) for f in data])

    async def list_perks(self) -> list[Perk]:
        return await self._client.get("/perks", shape=lambda data: [Perk.model_validate(item) for item in data])

    async def find_or_create_products(self, products: Sequence[Mapping[str, Any]]) -> list[Product]:
        """Each requested product as Piggy holds it, saying whether it was created now.

        Piggy documents no find-or-create endpoint for products (decision D6): the catalog is paged through for
        the requested external identifiers, and the missing ones are created in one batch.
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
            data: Any = await self._client.send(
                "POST",
                "/products/batch",
                {"products": missing},
                how_to_check=(
                    "Call find_or_create_products again: products created meanwhile are found, not duplicated."
                ),
                require_data=False,
            )
            returned = data if isinstance(data, list) else []
            by_ident: dict[Any, JSON] = {p.get("external_identifier"): p for p in returned if isinstance(p, dict)}
            # The batch answer's shape is undocumented: what was sent stands in for what is missing from it.
            created = {m["external_identifier"]: by_ident.get(m["external_identifier"], m) for m in missing}
        return [
            Product.model_validate({**found[i], "created": False})
            if i in found
            else Product.model_validate({**created[i], "created": True})
            for i in wanted
        ]

    # Bookings -----------------------------------------------------------------------------------

    async def update_booking(self, booking_uuid: str, changes: Mapping[str, Any]) -> Booking:
        return await self._client.send(
            "PUT",
            f"/bookings/{_id(booking_uuid)}",
            _compact(changes),
            how_to_check="Updating a booking sets the same values again: it is safe to call again.",
            shape=Booking.model_validate,
        )
