"""Orders and order returns in the sandbox: create-and-process, with the account's one Order Action, "convert into a
points transaction", by the same rule as credit receptions (1 point per whole euro of the amount).

A repeated external identifier is refused, as a unique field is by Piggy's validator (decision D30); a return
takes back the points of what it returns: all that is left of the order, or the given lines' amounts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from piggy_mcp.sandbox.errors import ApiError, invalid
from piggy_mcp.sandbox.inputs import Fields
from piggy_mcp.sandbox.records import Line, Order, Transaction
from piggy_mcp.sandbox.state import credits_for

if TYPE_CHECKING:
    from piggy_mcp.sandbox.routes import Call, Handler, Result
    from piggy_mcp.sandbox.state import Store

ORDER_STATUSES = ("CREATED", "PENDING", "COMPLETED")
PAYMENT_STATUSES = ("UNPAID", "PENDING", "PAID")
RETURN_STATUSES = ("PENDING", "COMPLETED")
TAKEN = "The external identifier has already been taken."


def _book(store: Store, order: Order, points: int) -> int:
    """Books a points transaction for `order`'s contact; returns the new balance."""
    contact = store.contact(order.contact_uuid)
    transaction = Transaction(
        id=store.new_id(),
        uuid=store.new_uuid("points-transaction"),
        type="credit_reception",
        contact_uuid=contact.uuid,
        shop_uuid=order.shop_uuid,
        credits=points,
        created_at=store.now(),
        unit_value=points,
        unit_name="purchase_amount",
    )
    store.transactions.append(transaction)
    contact.balance += points
    return contact.balance


def _order_json(order: Order, store: Store) -> dict[str, Any]:
    contact = store.contact(order.contact_uuid)
    return {
        "uuid": order.uuid,
        "contact": {"uuid": contact.uuid, "email": contact.email},
        "business_profile": {"uuid": order.shop_uuid, "name": store.shop(order.shop_uuid).name},
        "external_id": order.external_identifier,
        "status": order.status,
        "payment_status": order.payment_status,
        "total_order_amount": order.total_order_amount,
        "line_items": [
            {
                "external_identifier": line.external_identifier,
                "quantity": line.quantity,
                "total_amount": line.total_amount,
            }
            for line in order.lines.values()
        ],
    }


def _result(points: int, balance: int) -> dict[str, Any]:
    return {"type": "POINTS_TRANSACTION", "points": points, "data": {"new_balance": balance}}


def _reference(f: Fields, name: str) -> str | None:
    reference = f.object(name, required=True)
    uuid = (reference or {}).get("uuid")
    if reference is not None and not isinstance(uuid, str):
        f.fail(f"{name}.uuid", f"The {name}.uuid field is required.")
    return uuid if isinstance(uuid, str) else None


def _lines(f: Fields, *, required: bool) -> list[Line]:
    lines = []
    for index, raw in enumerate(f.array("line_items", required=required) or []):
        item = Fields(raw if isinstance(raw, dict) else {})
        external = item.string("external_identifier", required=True)
        quantity = item.integer("quantity", required=True, minimum=1)
        price = item.integer("price", minimum=0)
        total = item.integer("total_amount", minimum=0)
        for key, messages in item.errors.items():
            for message in messages:
                f.fail(f"line_items.{index}.{key}", message)
        if external is not None and quantity is not None:
            amount = total if total is not None else (price or 0) * quantity
            lines.append(Line(external, quantity, amount))
    return lines


def create_and_process_order(call: Call) -> Result:
    f = Fields(call.body)
    external = f.string("external_identifier", required=True)
    contact_uuid = _reference(f, "contact")
    shop_uuid = _reference(f, "business_profile")
    status = f.choice("status", ORDER_STATUSES, required=True)
    payment_status = f.choice("payment_status", PAYMENT_STATUSES, required=True)
    total = f.integer("total_order_amount", required=True, minimum=0)
    lines = _lines(f, required=True)
    f.check()
    assert external and contact_uuid and shop_uuid and status and payment_status and total is not None
    store = call.store
    book = store.orders
    if external in book.orders:
        raise invalid("external_identifier", TAKEN)
    store.contact(contact_uuid)
    store.shop(shop_uuid)
    order = Order(
        uuid=store.new_uuid("order"),
        external_identifier=external,
        contact_uuid=contact_uuid,
        shop_uuid=shop_uuid,
        status=status,
        payment_status=payment_status,
        total_order_amount=total,
        lines={line.external_identifier: line for line in lines},
        points=credits_for(total / 100),
    )
    book.orders[external] = order
    balance = _book(store, order, order.points)
    return {"order": _order_json(order, store), "result": _result(order.points, balance)}, []


def create_and_process_return(call: Call) -> Result:
    f = Fields(call.body)
    reference = f.object("order", required=True) or {}
    external = f.string("external_identifier", required=True)
    f.choice("status", RETURN_STATUSES, required=True)
    lines = _lines(f, required=False)
    f.check()
    assert external is not None
    store = call.store
    book = store.orders
    order = next(
        (
            o
            for o in book.orders.values()
            if o.uuid == reference.get("uuid") or o.external_identifier == reference.get("external_identifier")
        ),
        None,
    )
    if order is None:
        raise ApiError(60013)
    if external in book.returns:
        raise invalid("external_identifier", TAKEN)
    points = _returned_points(order, lines)
    book.returns.add(external)
    order.points_returned += points
    balance = _book(store, order, -points)
    answer = {"uuid": store.new_uuid("order-return"), "status": "COMPLETED", "order": {"uuid": order.uuid}}
    return {"return": answer, "result": _result(-points, balance)}, []


def _returned_points(order: Order, lines: list[Line]) -> int:
    """The points a return takes back: what is left of the order's, or those of the returned lines' amounts."""
    left = order.points - order.points_returned
    if not lines:
        return left
    amount = 0
    for line in lines:
        ordered = order.lines.get(line.external_identifier)
        already = order.quantities_returned.get(line.external_identifier, 0)
        if ordered is None or line.quantity > ordered.quantity - already:
            raise invalid("line_items", "A line item is not in the order, or more of it is returned than was left.")
        amount += ordered.total_amount * line.quantity // ordered.quantity
    for line in lines:
        order.quantities_returned[line.external_identifier] = (
            order.quantities_returned.get(line.external_identifier, 0) + line.quantity
        )
    return min(credits_for(amount / 100), left)


ROUTES: list[tuple[str, str, Handler]] = [
    ("POST", "/orders/create-and-process", create_and_process_order),
    ("POST", "/order-returns/create-and-process", create_and_process_return),
]
