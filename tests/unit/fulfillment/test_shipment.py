"""Shipments (services/fulfillment/domain.py): confirmation, scans, tracking validity, delivery and
marketplace shipping."""

import copy
from datetime import UTC, datetime, timedelta

import pytest

from services.fulfillment.domain import FulfillmentPolicy, Shipment, ShipmentError, marketplace_ship_time
from services.fulfillment.domain_events import (
    ShipmentConfirmed,
    ShipmentDelivered,
    ShipmentEvent,
    ShipmentTrackingUpdated,
    ShipmentTrackingValidated,
)
from services.fulfillment.tracking import TrackingPolicy, TrackingStatus, marketplace_tracking_number
from shared.events.common import Carrier, FulfillmentChannel, ScanStatus
from shared.events.fulfillment import TrackingVerdict

CONFIRMED = datetime(2025, 3, 6, 16, tzinfo=UTC)  # a Thursday
SHIP_BY = datetime(2025, 3, 7, 10, tzinfo=UTC)
DELIVER_BY = datetime(2025, 3, 14, 10, tzinfo=UTC)
PURCHASED = datetime(2025, 3, 5, 9, tzinfo=UTC)


def merchant_shipment(tracking_number: str = "1Z999AA10123456784") -> tuple[Shipment, list[ShipmentEvent]]:
    return Shipment.confirm(
        id="sh-1",
        order_id="o-1",
        seller_id="s-1",
        carrier=Carrier.UPS,
        tracking_number=tracking_number,
        lines={"A": 2},
        confirmed_at=CONFIRMED,
        ship_by=SHIP_BY,
        deliver_by=DELIVER_BY,
        purchased_at=PURCHASED,
    )


def kinds(events: list[ShipmentEvent]) -> list[type[ShipmentEvent]]:
    return [type(e) for e in events]


def test_a_merchant_shipment_with_a_well_formed_number_is_confirmed_pending() -> None:
    shipment, events = merchant_shipment()
    assert shipment.tracking_status is TrackingStatus.PENDING
    assert shipment.shipped_at == CONFIRMED and shipment.channel is FulfillmentChannel.MERCHANT
    assert kinds(events) == [ShipmentConfirmed]
    confirmed = events[0]
    assert isinstance(confirmed, ShipmentConfirmed)
    assert (confirmed.tracking_status, confirmed.lines, confirmed.at) == (
        TrackingStatus.PENDING,
        {"A": 2},
        CONFIRMED,
    )
    assert confirmed.tracking_format_valid


def test_a_malformed_number_is_accepted_but_invalid_at_once() -> None:
    shipment, events = merchant_shipment("1Z999AA10123456785")
    assert shipment.tracking_status is TrackingStatus.INVALID
    assert kinds(events) == [ShipmentConfirmed, ShipmentTrackingValidated]
    confirmed, validated = events
    assert isinstance(confirmed, ShipmentConfirmed) and confirmed.tracking_status is TrackingStatus.INVALID
    assert not confirmed.tracking_format_valid
    assert isinstance(validated, ShipmentTrackingValidated)
    assert validated.verdict is TrackingVerdict.BAD_FORMAT and "check digit" in (validated.reason or "")


def test_the_tracking_number_is_stored_normalised() -> None:
    shipment, _ = merchant_shipment("1z999aa1 0123456784")
    assert shipment.tracking_number == "1Z999AA10123456784"


@pytest.mark.parametrize("lines", [{}, {"A": 0}, {"A": -1}])
def test_a_shipment_without_units_is_refused(lines: dict[str, int]) -> None:
    with pytest.raises(ShipmentError):
        Shipment.confirm(
            id="sh-1",
            order_id="o-1",
            seller_id="s-1",
            carrier=Carrier.UPS,
            tracking_number="1Z999AA10123456784",
            lines=lines,
            confirmed_at=CONFIRMED,
            ship_by=SHIP_BY,
            deliver_by=DELIVER_BY,
            purchased_at=PURCHASED,
        )


def test_the_first_carrier_scan_makes_tracking_valid() -> None:
    shipment, _ = merchant_shipment()
    scanned = CONFIRMED + timedelta(hours=5)
    events = shipment.record_scan(ScanStatus.IN_TRANSIT, scanned, location="Louisville, KY")
    assert events == [
        ShipmentTrackingUpdated(
            shipment_id="sh-1",
            order_id="o-1",
            seller_id="s-1",
            at=scanned,
            status=ScanStatus.IN_TRANSIT,
            location="Louisville, KY",
        ),
        ShipmentTrackingValidated(
            shipment_id="sh-1",
            order_id="o-1",
            seller_id="s-1",
            at=scanned,
            tracking_status=TrackingStatus.VALID,
            verdict=TrackingVerdict.FIRST_SCAN,
            reason=None,
            first_scan_at=scanned,
        ),
    ]
    assert shipment.tracking_status is TrackingStatus.VALID
    assert kinds(shipment.record_scan(ScanStatus.OUT_FOR_DELIVERY, CONFIRMED + timedelta(days=1))) == [
        ShipmentTrackingUpdated
    ]


def test_a_label_created_event_is_not_a_carrier_scan() -> None:
    shipment, _ = merchant_shipment()
    shipment.record_scan(ScanStatus.PRE_TRANSIT, CONFIRMED + timedelta(hours=1))
    assert shipment.tracking_status is TrackingStatus.PENDING


def test_which_scans_count_is_a_setting() -> None:
    shipment, _ = merchant_shipment()
    every_scan = FulfillmentPolicy(tracking=TrackingPolicy(counting_scans=frozenset(ScanStatus)))
    shipment.record_scan(ScanStatus.PRE_TRANSIT, CONFIRMED + timedelta(hours=1), every_scan)
    assert shipment.tracking_status is TrackingStatus.VALID


def test_a_first_scan_five_days_late_leaves_tracking_pending_until_the_next_tick_judges_it_invalid() -> None:
    shipment, _ = merchant_shipment()
    events = shipment.record_scan(ScanStatus.IN_TRANSIT, CONFIRMED + timedelta(days=5, hours=1))
    assert shipment.tracking_status is TrackingStatus.PENDING  # judged at ticks, never between them
    assert kinds(events) == [ShipmentTrackingUpdated]
    tick = CONFIRMED + timedelta(days=6)
    events = shipment.validate_tracking(tick)
    assert shipment.tracking_status is TrackingStatus.INVALID
    assert shipment.tracking_verdict is TrackingVerdict.NO_SCAN
    assert kinds(events) == [ShipmentTrackingValidated]
    assert events[0].at == tick


def test_the_clock_makes_tracking_invalid_once_the_window_closes_without_a_scan() -> None:
    shipment, _ = merchant_shipment()
    assert shipment.validate_tracking(CONFIRMED + timedelta(days=5, seconds=-1)) == []
    events = shipment.validate_tracking(CONFIRMED + timedelta(days=5))  # a tick at the deadline judges it
    assert kinds(events) == [ShipmentTrackingValidated]
    assert shipment.tracking_status is TrackingStatus.INVALID
    assert shipment.validate_tracking(CONFIRMED + timedelta(days=6)) == []  # decided once


def test_a_scan_stamped_inside_the_window_but_arriving_late_corrects_invalid_to_valid() -> None:
    shipment, _ = merchant_shipment()
    shipment.validate_tracking(CONFIRMED + timedelta(days=6))
    events = shipment.record_scan(ScanStatus.IN_TRANSIT, CONFIRMED + timedelta(days=2))
    assert shipment.tracking_status is TrackingStatus.VALID
    assert kinds(events) == [ShipmentTrackingUpdated, ShipmentTrackingValidated]


def test_a_late_label_event_does_not_reopen_a_decided_number() -> None:
    shipment, _ = merchant_shipment()
    shipment.validate_tracking(CONFIRMED + timedelta(days=6))
    shipment.record_scan(ScanStatus.PRE_TRANSIT, CONFIRMED + timedelta(days=1))
    assert shipment.tracking_status is TrackingStatus.INVALID


def test_a_bad_number_stays_invalid_whatever_the_scans() -> None:
    shipment, _ = merchant_shipment("1Z999AA10123456785")
    assert kinds(shipment.record_scan(ScanStatus.IN_TRANSIT, CONFIRMED)) == [ShipmentTrackingUpdated]
    assert shipment.tracking_status is TrackingStatus.INVALID


@pytest.mark.parametrize(
    ("delivered", "on_time"), [(DELIVER_BY, True), (DELIVER_BY + timedelta(seconds=1), False)]
)
def test_the_delivered_scan_sets_the_delivery_time_and_whether_it_was_on_time(
    delivered: datetime, on_time: bool
) -> None:
    shipment, _ = merchant_shipment()
    shipment.record_scan(ScanStatus.IN_TRANSIT, CONFIRMED + timedelta(days=1))
    events = shipment.record_scan(ScanStatus.DELIVERED, delivered)
    assert shipment.delivered_at == delivered
    assert events[-1] == ShipmentDelivered(
        shipment_id="sh-1", order_id="o-1", seller_id="s-1", at=delivered, on_time=on_time
    )


def test_a_delivery_before_the_shipment_is_refused_and_not_recorded() -> None:
    shipment, _ = merchant_shipment()
    before = copy.deepcopy(shipment)
    with pytest.raises(ShipmentError, match="before the shipment"):
        shipment.record_scan(ScanStatus.DELIVERED, CONFIRMED - timedelta(minutes=1))
    assert shipment == before


def test_scans_after_delivery_are_recorded_but_do_not_move_the_delivery() -> None:
    shipment, _ = merchant_shipment()
    delivered = CONFIRMED + timedelta(days=2)
    shipment.record_scan(ScanStatus.DELIVERED, delivered)
    assert kinds(shipment.record_scan(ScanStatus.DELIVERED, delivered + timedelta(hours=2))) == [
        ShipmentTrackingUpdated
    ]
    shipment.record_scan(ScanStatus.RETURNED_TO_SENDER, delivered + timedelta(days=1))
    assert shipment.delivered_at == delivered
    assert [s.status for s in shipment.scans] == [
        ScanStatus.DELIVERED,
        ScanStatus.DELIVERED,
        ScanStatus.RETURNED_TO_SENDER,
    ]


def test_the_marketplace_ships_one_day_after_confirmation_with_its_own_number() -> None:
    friday = datetime(2025, 3, 7, 15, tzinfo=UTC)
    shipment, events = Shipment.ship_from_marketplace(
        id="sh-9",
        order_id="o-9",
        seller_id="s-1",
        lines={"A": 1},
        confirmed_at=friday,
        ship_by=SHIP_BY,
        deliver_by=DELIVER_BY,
        purchased_at=PURCHASED,
    )
    assert shipment.shipped_at == datetime(2025, 3, 8, 15, tzinfo=UTC)  # Saturday: the warehouse works weekends
    assert shipment.carrier is Carrier.MARKETPLACE and shipment.channel is FulfillmentChannel.MARKETPLACE
    assert shipment.tracking_number == marketplace_tracking_number("o-9")
    assert shipment.tracking_number.startswith("TBA") and len(shipment.tracking_number) == 15
    assert kinds(events) == [ShipmentConfirmed]
    assert events[0].at == shipment.shipped_at


def test_marketplace_shipping_is_deterministic() -> None:
    def ship() -> Shipment:
        return Shipment.ship_from_marketplace(
            id="sh-9",
            order_id="o-9",
            seller_id="s-1",
            lines={"A": 1},
            confirmed_at=CONFIRMED,
            ship_by=SHIP_BY,
            deliver_by=DELIVER_BY,
            purchased_at=PURCHASED,
        )[0]

    assert ship() == ship()


def test_the_warehouse_ships_one_day_after_confirmation_weekends_included() -> None:
    friday, saturday = datetime(2025, 3, 7, 15, 30, tzinfo=UTC), datetime(2025, 3, 8, 11, tzinfo=UTC)
    assert marketplace_ship_time(friday) == datetime(2025, 3, 8, 15, 30, tzinfo=UTC)  # "confirmation + 1 day"
    assert marketplace_ship_time(saturday) == datetime(2025, 3, 9, 11, tzinfo=UTC)
    two_days = FulfillmentPolicy(marketplace_ship_delay=timedelta(days=2))
    assert marketplace_ship_time(friday, two_days) == datetime(2025, 3, 9, 15, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        marketplace_ship_time(datetime(2025, 3, 7))


def test_a_second_attempt_derives_another_marketplace_number() -> None:
    def number(attempt: int) -> str:
        return Shipment.ship_from_marketplace(
            id="sh-9", order_id="o-9", seller_id="s-1", lines={"A": 1}, confirmed_at=CONFIRMED,
            ship_by=SHIP_BY, deliver_by=DELIVER_BY, purchased_at=PURCHASED, attempt=attempt,
        )[0].tracking_number

    assert number(0) == marketplace_tracking_number("o-9")
    assert number(1) != number(0) and number(1).startswith("TBA")


def test_the_same_scan_twice_is_applied_once() -> None:
    shipment, _ = merchant_shipment()
    scanned = CONFIRMED + timedelta(hours=5)
    assert kinds(shipment.record_scan(ScanStatus.IN_TRANSIT, scanned)) == [
        ShipmentTrackingUpdated, ShipmentTrackingValidated
    ]
    assert shipment.record_scan(ScanStatus.IN_TRANSIT, scanned) == []
    assert len(shipment.scans) == 1
    delivered = scanned + timedelta(days=1)
    assert kinds(shipment.record_scan(ScanStatus.DELIVERED, delivered)) == [ShipmentTrackingUpdated, ShipmentDelivered]
    assert shipment.record_scan(ScanStatus.DELIVERED, delivered) == []


def test_a_shipment_before_the_purchase_is_refused() -> None:
    with pytest.raises(ShipmentError, match="before the purchase"):
        Shipment.confirm(
            id="sh-1", order_id="o-1", seller_id="s-1", carrier=Carrier.UPS, tracking_number="1Z999AA10123456784",
            lines={"A": 1}, confirmed_at=PURCHASED - timedelta(hours=1), ship_by=SHIP_BY, deliver_by=DELIVER_BY,
            purchased_at=PURCHASED,
        )
