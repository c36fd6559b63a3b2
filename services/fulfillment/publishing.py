"""Domain events of shipments as wire events on `fulfillment.events` (shared.events.fulfillment, as `wire`).

Every shipment event carries the order date, channel and deadlines, so the metrics service computes
late shipment, valid tracking and on-time delivery from these events alone. None carries buyer data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from services.fulfillment import domain_events as de
from services.fulfillment.domain import Shipment
from services.fulfillment.orders import OrderToShip
from services.fulfillment.tracking import TrackingStatus
from shared.events import Event, Payload, new_event
from shared.events import fulfillment as wire

SOURCE = "/sellerflow/fulfillment"


def shipment_envelopes(shipment: Shipment, events: list[de.ShipmentEvent], listing_of: Mapping[str, str]
                       ) -> list[Event[Any]]:
    """Shipment events in their envelopes, timed by the business time of each fact."""
    return [new_event(_checked(shipment, event, listing_of), seller_id=shipment.seller_id,
                      subject=shipment.id, time=event.at, source=SOURCE) for event in events]


def _checked(shipment: Shipment, event: de.ShipmentEvent, listing_of: Mapping[str, str]) -> Payload:
    """The wire payload; a refusal names fields and rules, never the values."""
    try:
        return shipment_payload(shipment, event, listing_of)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise ValueError(f"shipment {shipment.id}: no valid {type(event).__name__} event: {problems}") from None


def overdue_envelopes(order: OrderToShip, events: list[de.FulfillmentOverdue]) -> list[Event[Any]]:
    return [
        new_event(wire.FulfillmentOverdue(order_id=order.order_id, purchased_at=order.purchased_at,
                                          fulfillment_channel=order.channel, ship_by=order.ship_by,
                                          deliver_by=order.deliver_by),
                  seller_id=order.seller_id, subject=order.order_id, time=event.at, source=SOURCE)
        for event in events
    ]


def shipment_payload(shipment: Shipment, event: de.ShipmentEvent, listing_of: Mapping[str, str]) -> Payload:
    facts: dict[str, Any] = {
        "order_id": shipment.order_id, "purchased_at": shipment.purchased_at,
        "fulfillment_channel": shipment.channel, "shipment_id": shipment.id, "shipped_at": shipment.shipped_at,
        "ship_by": shipment.ship_by, "deliver_by": shipment.deliver_by,
    }
    tracking = {"carrier": shipment.carrier, "tracking_number": shipment.tracking_number}
    match event:
        case de.ShipmentConfirmed():
            return wire.ShipmentConfirmed(
                **facts, **tracking, tracking_format_valid=event.tracking_format_valid,
                lines=[wire.ShipmentLine(listing_id=listing_of[sku], sku=sku, quantity=qty)
                       for sku, qty in event.lines.items()],
            )
        case de.ShipmentTrackingUpdated():
            return wire.ShipmentTrackingUpdated(**facts, **tracking, status=event.status, scanned_at=event.at,
                                                location=event.location)
        case de.ShipmentTrackingValidated():
            return wire.ShipmentTrackingValidated(**facts, valid=event.tracking_status is TrackingStatus.VALID,
                                                  reason=event.verdict, first_scan_at=event.first_scan_at)
        case de.ShipmentDelivered():
            return wire.ShipmentDelivered(**facts, delivered_at=event.at)
    raise TypeError(f"no wire event for {type(event).__name__}")
