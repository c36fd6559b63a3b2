"""Shipment domain events as wire events (services/fulfillment/publishing.py): every one carries the
order's date, channel and deadlines, so metrics need nothing else."""

from datetime import UTC, datetime, timedelta

from services.fulfillment.domain import Shipment
from services.fulfillment.orders import OrderLine, OrderToShip
from services.fulfillment.publishing import overdue_envelopes, shipment_envelopes
from shared.events import fulfillment as wire
from shared.events.common import Carrier, FulfillmentChannel, ScanStatus
from shared.events.fulfillment import TrackingVerdict

PURCHASED = datetime(2025, 3, 3, 9, tzinfo=UTC)
CONFIRMED = PURCHASED + timedelta(hours=3)
SHIP_BY = PURCHASED + timedelta(days=1)
DELIVER_BY = PURCHASED + timedelta(days=8)


def test_a_shipments_life_in_wire_events_carries_the_order_facts_and_deadlines() -> None:
    shipment, events = Shipment.confirm(
        id="sh-1", order_id="o-1", seller_id="s-1", carrier=Carrier.UPS, tracking_number="1Z999AA10123456784",
        lines={"A": 2}, confirmed_at=CONFIRMED, ship_by=SHIP_BY, deliver_by=DELIVER_BY, purchased_at=PURCHASED,
    )
    events += shipment.record_scan(ScanStatus.IN_TRANSIT, CONFIRMED + timedelta(hours=4))
    events += shipment.record_scan(ScanStatus.DELIVERED, CONFIRMED + timedelta(days=2))
    wired = shipment_envelopes(shipment, events, {"A": "L-A"})
    assert [type(e.data).__name__ for e in wired] == [
        "ShipmentConfirmed", "ShipmentTrackingUpdated", "ShipmentTrackingValidated", "ShipmentTrackingUpdated",
        "ShipmentDelivered",
    ]
    for event in wired:
        assert (event.data.order_id, event.data.purchased_at, event.data.ship_by, event.data.deliver_by) == (
            "o-1", PURCHASED, SHIP_BY, DELIVER_BY)
        assert event.data.fulfillment_channel is FulfillmentChannel.MERCHANT and event.subject == "sh-1"
    confirmed, _, validated, _, delivered = (e.data for e in wired)
    assert isinstance(confirmed, wire.ShipmentConfirmed)
    assert [(line.listing_id, line.sku, line.quantity) for line in confirmed.lines] == [("L-A", "A", 2)]
    assert isinstance(validated, wire.ShipmentTrackingValidated)
    assert (validated.valid, validated.reason) == (True, TrackingVerdict.FIRST_SCAN)
    assert isinstance(delivered, wire.ShipmentDelivered) and delivered.delivered_at == CONFIRMED + timedelta(days=2)


def test_an_overdue_order_is_announced_at_its_ship_by() -> None:
    order = OrderToShip(seller_id="s-1", order_id="o-1", channel=FulfillmentChannel.MERCHANT, purchased_at=PURCHASED,
                        confirmed_at=CONFIRMED, ship_by=SHIP_BY, deliver_by=DELIVER_BY,
                        lines=(OrderLine("L-A", "A", 1),))
    [event] = overdue_envelopes(order, order.report_overdue(SHIP_BY + timedelta(hours=5)))
    assert isinstance(event.data, wire.FulfillmentOverdue)
    assert (event.time, event.data.ship_by, event.data.deliver_by) == (SHIP_BY, SHIP_BY, DELIVER_BY)
