"""Domain events of an order as wire events on `order.events` (shared.events.order, imported as `wire`).

Buyer personal data leaves this service only in `order.confirmed.ship_to`, and only for
merchant-fulfilled orders (the seller needs the address; the marketplace's warehouse has its own).
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError

from services.order import domain_events as de
from services.order.domain import Order
from shared.events import Event, Payload, new_event
from shared.events import order as wire
from shared.events.common import Address, FulfillmentChannel, Money

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
                ship_to=_address(order) if order.channel is FulfillmentChannel.MERCHANT else None,
            )
        case de.OrderRejected():
            detail = event.detail[:_DETAIL_LENGTH] if event.detail else None
            return wire.OrderRejected(**facts, reason=event.reason, detail=detail)
        case de.OrderCancellationRequested():
            return wire.OrderCancellationRequested(**facts, requested_at=event.at, reason=event.reason)
        case de.OrderCancelled():
            return wire.OrderCancelled(**facts, by=event.by, reason=event.reason[:_DETAIL_LENGTH],
                                       before_shipment=event.before_shipment, cancelled_at=event.at)
        case de.OrderStatusChanged():
            return wire.OrderStatusChanged(**facts, old_status=event.old_status, new_status=event.new_status)
        case de.OrderPiiErased():
            return wire.OrderPiiErased(order_id=order.id, trigger=event.trigger)
    raise TypeError(f"no wire event for {type(event).__name__}")


def _money(order: Order, amount: Any) -> Money:
    return Money(amount=amount, currency=order.currency)


def _address(order: Order) -> Address:
    to = order.ship_to
    return Address.model_validate({"name": to.name, "lines": list(to.lines), "city": to.city, "region": to.region,
                                   "postal_code": to.postal_code, "country": to.country, "phone": to.phone})
