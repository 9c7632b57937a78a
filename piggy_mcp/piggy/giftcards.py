"""Gift cards: programs, cards, and the transactions that load or spend them (amounts in cents).

The records and a mixin of endpoint methods for `PiggyAPI`. Where Piggy's sources leave a choice open, the choice
is made here and named by its id in docs/piggy-api-decisions.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from piggy_mcp.piggy.models import Record, mapping
from piggy_mcp.piggy.paths import Endpoints
from piggy_mcp.piggy.paths import path_id as _id

if TYPE_CHECKING:
    pass

# The only gift card type Piggy lets the API create: 1, digital (0, physical, is refused with 55021).
DIGITAL = 1


class GiftcardProgram(Record):
    uuid: str
    name: str | None = None
    min_amount_in_cents: int | None = None
    max_amount_in_cents: int | None = None


class Giftcard(Record):
    uuid: str
    hash: str | None = None
    amount_in_cents: int | None = None
    active: bool | None = None
    expiration_date: str | None = None

    @classmethod
    def from_piggy(cls, raw: Mapping[str, Any]) -> Giftcard:
        return cls.model_validate(raw)


class NewGiftcard(Giftcard):
    # The card's balance page, in the answer to a create.
    url: str | None = None

    @classmethod
    def from_piggy(cls, raw: Mapping[str, Any]) -> NewGiftcard:
        # The create answer also has `amount` (0); `amount_in_cents` is the documented balance.
        return cls.model_validate({**raw, "amount_in_cents": raw.get("amount_in_cents", raw.get("amount"))})


class GiftcardTransaction(Record):
    uuid: str | None = None
    amount_in_cents: int | None = None
    giftcard_uuid: str | None = None
    created_at: str | None = None

    @classmethod
    def from_piggy(cls, raw: Mapping[str, Any]) -> GiftcardTransaction:
        return cls.model_validate({**raw, "giftcard_uuid": mapping(raw.get("card")).get("uuid")})

    @classmethod
    def after_write(cls, data: Any) -> GiftcardTransaction:
        """The answer to a transaction Piggy accepted, shaped without ever failing (decision D23)."""
        raw = mapping(data)
        try:
            return cls.from_piggy(raw)
        except ValidationError:
            return cls(uuid=raw["uuid"] if isinstance(raw.get("uuid"), str) else None)


def email_sent(data: Any) -> bool:
    # Piggy answers {"message": "success", "data": "Email successfully sent"}; any 2xx means sent (decision D43).
    del data
    return True


class GiftcardsAPI(Endpoints):
    """The gift card endpoints, mixed into `PiggyAPI`."""

    async def list_giftcard_programs(self) -> list[GiftcardProgram]:
        return await self._client.get(
            "/giftcard-programs", shape=lambda data: [GiftcardProgram.model_validate(p) for p in data]
        )

    async def get_giftcard(self, giftcard_uuid: str) -> Giftcard:
        return await self._client.get(f"/giftcards/{_id(giftcard_uuid)}", shape=Giftcard.from_piggy)

    async def find_giftcard(self, card_hash: str) -> Giftcard:
        return await self._client.get("/giftcards/find-one-by", {"hash": card_hash}, shape=Giftcard.from_piggy)

    async def create_giftcard(self, giftcard_program_uuid: str) -> NewGiftcard:
        return await self._client.send(
            "POST",
            "/giftcards",
            {"type": DIGITAL, "giftcard_program_uuid": _id(giftcard_program_uuid)},
            how_to_check="Each call creates another card: ask the user before creating one again.",
            shape=NewGiftcard.from_piggy,
        )

    async def send_giftcard_email(self, giftcard_uuid: str, contact_uuid: str) -> bool:
        # Without `email_uuid` and `merge_tags`: Piggy then uses the account's gift card email as it is.
        return await self._client.send(
            "POST",
            f"/giftcards/{_id(giftcard_uuid)}/send-by-email",
            {"contact_uuid": _id(contact_uuid)},
            how_to_check="Ask the recipient whether the email arrived before sending it again.",
            require_data=False,
            shape=email_sent,
        )

    async def get_giftcard_transaction(self, transaction_uuid: str) -> GiftcardTransaction:
        return await self._client.get(
            f"/giftcard-transactions/{_id(transaction_uuid)}", shape=GiftcardTransaction.from_piggy
        )

    async def create_giftcard_transaction(
        self, giftcard_uuid: str, amount_in_cents: int, shop_uuid: str | None
    ) -> GiftcardTransaction:
        return await self._client.send(
            "POST",
            "/giftcard-transactions",
            {
                "giftcard_uuid": _id(giftcard_uuid),
                "amount_in_cents": amount_in_cents,
                "shop_uuid": self.shop(shop_uuid),
            },
            how_to_check="Read the card with find_giftcard: if its balance moved by the amount, the transaction "
            "went through. Do not send it again before checking.",
            require_data=False,
            shape=GiftcardTransaction.after_write,
        )

    async def reverse_giftcard_transaction(self, transaction_uuid: str) -> GiftcardTransaction:
        return await self._client.send(
            "POST",
            f"/giftcard-transactions/{_id(transaction_uuid)}/reverse",
            None,
            how_to_check="Read the card with find_giftcard: if its balance moved back, the reversal went through. "
            "Do not reverse again before checking.",
            require_data=False,
            shape=GiftcardTransaction.after_write,
        )
