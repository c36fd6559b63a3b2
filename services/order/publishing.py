"""Domain events of an order as wire events on `order.events` (shared.events.order, imported as `wire`).

Buyer personal data leaves this service only sealed with the order's data key (domain.md section 8):
the buyer's part of `order.confirmed.ship_to_sealed` (merchant-fulfilled orders only) and the buyer's
free-text cancellation reason (`buyer_reason`). No other service holds the key; erasing the order
destroys it, and with it every copy on `order.events`. An erased order (no key) sends neither.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError

from services.order import domain_events as de
from services.order.domain import BUYER_CANCELLATION, Order
from shared.crypto import Sealed
from shared.events import Event, Payload, new_event
from shared.events import order as wire
from shared.events.common import CancelledBy, FulfillmentChannel, Money
from shared.pii import order_context, seal_personal, seal_text

SOURCE = "/sellerflow/order"
_CONFIRMATION_IDS = uuid.UUID("0d9f3c1e-5b7a-4e2c-9a61-3f8e2d4c7b10")
_DETAIL_LENGTH = 200


def confirmation_event_id(seller_id: str, order_id: str) -> uuid.UUID:
    """The id of an order's one `order.confirmed`: known again when its copies must be erased."""
    return uuid.uuid5(_CONFIRMATION_IDS, f"{seller_id}/{order_id}")


def envelopes(order: Order, events: list[de.OrderEvent]) -> list[Event[Any]]:
    """Each domain event in its CloudEvents envelope, timed by the business time of the fact."""
    return [
        new_event(_checked(order, event), seller_id=order.seller_id, subject=order.id, time=event.at, source=SOURCE,
                  event_id=confirmation_event_id(order.seller_id, order.id)
                  if isinstance(event, de.OrderConfirmed) else None)
        for event in events
    ]


def _checked(order: Order, event: de.OrderEvent) -> Payload:
    """The wire payload; a refusal names fields and rules, never the values (they may be buyer data)."""
    try:
        return payload(order, event)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise ValueError(f"order {order.id}: no valid {type(event).__name__} event: {problems}") from None


def payload(order: Order, event: de.OrderEvent) -> Payload:
    facts: dict[str, Any] = {"order_id": order.id, "purchased_at": order.purchased_at,
                             "fulfillment_channel": order.channel}
    match event:
        case de.OrderPlaced():
            return wire.OrderPlaced(
                **facts, buyer_id=order.buyer_id, currency=order.currency, total=_money(order, order.total),
                lines=[wire.PlacedLine(listing_id=line.listing_id, sku=line.sku, quantity=line.quantity,
                                       unit_price=_money(order, line.unit_price)) for line in order.lines],
                shipping_speed=order.shipping_speed, ship_to_country=order.ship_to.country,
            )
        case de.OrderConfirmed():
            return wire.OrderConfirmed(
                **facts, shipping_speed=order.shipping_speed, currency=order.currency,
                total=_money(order, order.total), ship_by=event.ship_by, deliver_by=event.deliver_by,
                lines=[wire.ConfirmedLine(listing_id=line.listing_id, sku=line.sku, quantity=line.quantity,
                                          unit_price=_money(order, line.unit_price)) for line in order.lines],
                ship_to_sealed=_ship_to(order) if order.channel is FulfillmentChannel.MERCHANT else None,
            )
        case de.OrderRejected():
            detail = event.detail[:_DETAIL_LENGTH] if event.detail else None
            return wire.OrderRejected(**facts, reason=event.reason, detail=detail)
        case de.OrderCancellationRequested():
            return wire.OrderCancellationRequested(**facts, requested_at=event.at,
                                                   buyer_reason=_sealed_reason(order, event.reason))
        case de.OrderCancelled():
            by_buyer = event.by is CancelledBy.BUYER  # the buyer's words are personal data, the seller's not
            return wire.OrderCancelled(
                **facts, by=event.by, reason=BUYER_CANCELLATION if by_buyer else event.reason[:_DETAIL_LENGTH],
                buyer_reason=_sealed_reason(order, event.reason) if by_buyer else None,
                before_shipment=event.before_shipment, cancelled_at=event.at,
            )
        case de.OrderStatusChanged():
            return wire.OrderStatusChanged(**facts, old_status=event.old_status, new_status=event.new_status)
        case de.OrderPiiErased():
            return wire.OrderPiiErased(order_id=order.id, trigger=event.trigger)
    raise TypeError(f"no wire event for {type(event).__name__}")


def _money(order: Order, amount: Any) -> Money:
    return Money(amount=amount, currency=order.currency)


def _ship_to(order: Order) -> wire.SealedShipTo | None:
    to, key = order.ship_to, order.data_key
    if key is None:
        return None
    return wire.SealedShipTo(city=to.city, region=to.region, country=to.country,
                             buyer=seal_personal(key, to, context=order_context(order.seller_id, order.id, "ship_to")))


def _sealed_reason(order: Order, reason: str | None) -> Sealed | None:
    """The buyer's own words, sealed; none once erased (no key) or when the buyer gave no reason."""
    if order.data_key is None or reason is None or reason == BUYER_CANCELLATION:
        return None
    return seal_text(order.data_key, reason, context=order_context(order.seller_id, order.id, "buyer_reason"))
