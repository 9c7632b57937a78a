"""Webhook subscriptions: which of Piggy's events it sends, signed, to which URL (shared/piggy-api.md §7.8).

A subscription's `event_type` and `secret` cannot be changed after creation: a new secret means a new
subscription. Piggy's answers never carry the secret, and the record below has no field for it, so no result,
log line or table made from a record can show it.

`attributes` (the contact attributes a `contact_updated` subscription watches) are documented on update only, where
they are required for that event type. They are sent at creation too, as the WordPress plugin does through the
SDK's static model: the one place that choice is made is `create_webhook_subscription`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

from piggy_mcp.piggy.errors import InvalidInputError
from piggy_mcp.piggy.models import Record
from piggy_mcp.piggy.paths import Endpoints, compact, path_id

# The twelve event types Piggy documents (METORIAL's giftcard_transaction_created is not among them).
EventType = Literal[
    "contact_created",
    "contact_updated",
    "credit_reception_created",
    "prepaid_transaction_created",
    "voucher_created",
    "voucher_updated",
    "voucher_redeemed",
    "form_submission_completed",
    "referral_completed",
    "contact_identifier_created",
    "reward_updated",
    "promotion_updated",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
SubscriptionStatus = Literal["ACTIVE", "INACTIVE"]
STATUSES: tuple[str, ...] = get_args(SubscriptionStatus)
# The one event type whose subscriptions name the contact attributes they watch.
CONTACT_UPDATED = "contact_updated"


class WebhookSubscription(Record):
    uuid: str
    name: str | None = None
    event_type: str | None = None
    url: str | None = None
    status: str | None = None
    created_at: str | None = None


def _event_type(value: str) -> str:
    if value not in EVENT_TYPES:
        raise InvalidInputError(
            f"{value!r} is not one of Piggy's webhook event types",
            next_step=f"Use one of {', '.join(EVENT_TYPES)}. Nothing was sent.",
        )
    return value


def _status(value: str | None) -> str | None:
    if value is not None and value not in STATUSES:
        raise InvalidInputError(f"{value!r} is not a subscription status", next_step="Use ACTIVE or INACTIVE.")
    return value


def _attributes(event_type: str, attributes: Sequence[str] | None) -> list[str] | None:
    """The attribute names to send: required for contact_updated, refused for any other event type."""
    if event_type == CONTACT_UPDATED:
        if not attributes:
            raise InvalidInputError(
                "a contact_updated subscription needs the contact attributes it watches",
                next_step="Pass attribute names from list_contact_attributes. Nothing was sent.",
            )
        return list(attributes)
    if attributes:
        raise InvalidInputError(
            f"only contact_updated subscriptions watch attributes, not {event_type}",
            next_step="Leave the attributes out. Nothing was sent.",
        )
    return None


def _subscriptions(data: object) -> list[WebhookSubscription]:
    return [WebhookSubscription.model_validate(item) for item in data] if isinstance(data, list) else []


class WebhooksAPI(Endpoints):
    """The webhook-subscription endpoints, mixed into `PiggyAPI`."""

    async def list_webhook_subscriptions(
        self, event_type: str | None = None, status: str | None = None
    ) -> list[WebhookSubscription]:
        params = {"event_type": _event_type(event_type) if event_type is not None else None, "status": _status(status)}
        return await self._client.get("/webhook-subscriptions", params, shape=_subscriptions)

    async def create_webhook_subscription(
        self,
        name: str,
        event_type: str,
        url: str,
        secret: str | None = None,
        attributes: Sequence[str] | None = None,
    ) -> WebhookSubscription:
        chosen = _event_type(event_type)
        # Attributes at creation: see the module docstring.
        body = compact(
            {
                "name": name,
                "event_type": chosen,
                "url": url,
                "secret": secret,  # decision D62: sent at creation, as the SDK does not
                "attributes": _attributes(chosen, attributes),
            }
        )
        return await self._client.send(
            "POST",
            "/webhook-subscriptions",
            body,
            how_to_check="List the webhook subscriptions: if one has this name, event type and url, it was created.",
            shape=WebhookSubscription.model_validate,
        )

    async def get_webhook_subscription(self, subscription_uuid: str) -> WebhookSubscription:
        return await self._client.get(
            f"/webhook-subscriptions/{path_id(subscription_uuid)}", shape=WebhookSubscription.model_validate
        )

    async def update_webhook_subscription(
        self,
        subscription_uuid: str,
        *,
        name: str | None = None,
        url: str | None = None,
        status: str | None = None,
        attributes: Sequence[str] | None = None,
    ) -> WebhookSubscription:
        """Change what Piggy allows; for a contact_updated subscription Piggy wants `attributes` on every update."""
        body = compact(
            {"name": name, "url": url, "status": _status(status), "attributes": list(attributes or []) or None}
        )
        if not body:
            raise InvalidInputError("nothing to change was given", next_step="Pass name, url, status or attributes.")
        return await self._client.send(
            "PUT",
            f"/webhook-subscriptions/{path_id(subscription_uuid)}",
            body,
            how_to_check="Updating sets the same values again: it is safe to call again.",
            shape=WebhookSubscription.model_validate,
        )

    async def delete_webhook_subscription(self, subscription_uuid: str) -> None:
        # Piggy answers `{"data": [], "meta": []}`.
        await self._client.send(
            "DELETE",
            f"/webhook-subscriptions/{path_id(subscription_uuid)}",
            None,
            how_to_check="Get the subscription: if Piggy no longer finds it (80300), it was deleted.",
            require_data=False,
        )
