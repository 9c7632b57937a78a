"""Orders and order returns: Piggy's way to earn points on a purchase and take them back on a refund.

Both use Piggy's create-and-process endpoints, which create the record and run the account's Order Action in one
call, and the V4 conventions (`business_profile` for the shop, references as objects).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from piggy_mcp.piggy.errors import InvalidInputError
from piggy_mcp.piggy.models import Record
from piggy_mcp.piggy.paths import Endpoints, path_id

if TYPE_CHECKING:
    pass


# What Piggy did with an order or a return: its uuid, and the points the Order Action moved, if it ran. Piggy's
# `result.type` is an open list (today POINTS_TRANSACTION; it names others to come), so it is kept as given.
# (Comments, not a docstring, which would be sent in every output schema.)
class OrderOutcome(Record):
    uuid: str
    result_type: str | None = None
    points: int | None = None
    new_balance: int | None = None

    @classmethod
    def from_piggy(cls, data: Any, entity: str) -> OrderOutcome:
        """`data` is `{<entity>: {...}, "result": {type, points, data: {new_balance}}}`; a result may be empty."""
        record = data[entity]
        result = data.get("result") or {}
        details = result.get("data") or {}
        return cls(
            uuid=record["uuid"],
            result_type=result.get("type"),
            points=result.get("points"),
            new_balance=details.get("new_balance"),
        )


class AlreadyProcessedError(Exception):
    """Piggy refused an `external_identifier` it has already processed (decision D30)."""


# How Piggy's refusal of a repeated external identifier reads: undocumented (decision D30). Its validation
# answers name the field, with Laravel's wording for a unique rule.
_TAKEN = "has already been taken"


class OrdersAPI(Endpoints):
    """The order endpoints, mixed into `PiggyAPI`."""

    async def create_order(
        self,
        *,
        external_identifier: str,
        contact_uuid: str,
        shop_uuid: str | None,
        status: str,
        payment_status: str,
        total_order_amount: int,
        line_items: Sequence[Mapping[str, Any]],
    ) -> OrderOutcome:
        body = {
            "external_identifier": external_identifier,
            "contact": {"uuid": path_id(contact_uuid)},
            "business_profile": {"uuid": self.shop(shop_uuid)},
            "status": status,
            "payment_status": payment_status,
            "total_order_amount": total_order_amount,
            "line_items": [_line(item) for item in line_items],
        }
        return await self._processed(
            "/orders/create-and-process",
            body,
            "order",
            how_to_check="Read the contact's credit balance or loyalty transactions before sending the order again.",
        )

    async def create_order_return(
        self,
        *,
        external_identifier: str,
        order_uuid: str | None,
        order_external_identifier: str | None,
        status: str,
        line_items: Sequence[Mapping[str, Any]],
    ) -> OrderOutcome:
        order = {"uuid": path_id(order_uuid)} if order_uuid else {"external_identifier": order_external_identifier}
        body = {
            "order": order,
            "external_identifier": external_identifier,
            "status": status,
            **({"line_items": [dict(item) for item in line_items]} if line_items else {}),
        }
        return await self._processed(
            "/order-returns/create-and-process",
            body,
            "return",
            how_to_check="Read the contact's credit balance or loyalty transactions before sending the return again.",
        )

    async def _processed(self, path: str, body: Mapping[str, Any], entity: str, *, how_to_check: str) -> OrderOutcome:
        try:
            return await self._client.send(
                "POST", path, body, how_to_check=how_to_check, shape=lambda data: OrderOutcome.from_piggy(data, entity)
            )
        except InvalidInputError as exc:
            if any(_TAKEN in message for message in exc.field_errors.get("external_identifier", [])):
                raise AlreadyProcessedError() from None
            raise


def _line(item: Mapping[str, Any]) -> dict[str, Any]:
    # The product is named by the shop's own identifier, as find_or_create_products registered it.
    product = item.get("product_external_identifier")
    line = {key: value for key, value in item.items() if key != "product_external_identifier" and value is not None}
    return {**line, "product": {"external_identifier": product}} if product else line
