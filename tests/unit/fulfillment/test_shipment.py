"""Shipments (services/fulfillment/domain.py): confirmation, scans, tracking validity, delivery,
marketplace shipping, the overdue decision and address erasure."""

import copy
from datetime import UTC, datetime, timedelta

import pytest

from services.fulfillment.domain import (
    Address,
    FulfillmentPolicy,
    Shipment,
    ShipmentConfirmed,
    ShipmentDelivered,
    ShipmentError,
    ShipmentEvent,
    ShipmentTrackingUpdated,
    ShipmentTrackingValidated,
    add_business_days,
    check_shipment_lines,
    is_overdue,
)
from services.fulfillment.tracking import TrackingPolicy, TrackingStatus, marketplace_tracking_number
from services.order.promises import add_business_days as order_business_days
from shared.events.common import Carrier, FulfillmentChannel, ScanStatus
from shared.events.fulfillment import TrackingVerdict

CONFIRMED = datetime(2025, 3, 6, 16, tzinfo=UTC)  # a Thursday
SHIP_BY = datetime(2025, 3, 7, 10, tzinfo=UTC)
DELIVER_BY = datetime(2025, 3, 14, 10, tzinfo=UTC)
ADDRESS = Address("Ada Buyer", ("1 Main St",), "Seattle", "WA", "98101", "US", "+1-555-0100")


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
        ship_to=ADDRESS,
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


def test_a_first_scan_five_days_late_makes_tracking_invalid() -> None:
    shipment, _ = merchant_shipment()
    events = shipment.record_scan(ScanStatus.IN_TRANSIT, CONFIRMED + timedelta(days=5, hours=1))
    assert shipment.tracking_status is TrackingStatus.INVALID
    assert shipment.tracking_verdict is TrackingVerdict.NO_SCAN
    assert kinds(events) == [ShipmentTrackingUpdated, ShipmentTrackingValidated]


def test_the_clock_makes_tracking_invalid_once_the_window_closes_without_a_scan() -> None:
    shipment, _ = merchant_shipment()
    assert shipment.validate_tracking(CONFIRMED + timedelta(days=5)) == []
    events = shipment.validate_tracking(CONFIRMED + timedelta(days=5, seconds=1))
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


def test_the_marketplace_ships_one_business_day_after_confirmation_with_its_own_number() -> None:
    friday = datetime(2025, 3, 7, 15, tzinfo=UTC)
    shipment, events = Shipment.ship_from_marketplace(
        id="sh-9",
        order_id="o-9",
        seller_id="s-1",
        lines={"A": 1},
        confirmed_at=friday,
        ship_by=SHIP_BY,
        deliver_by=DELIVER_BY,
    )
    assert shipment.shipped_at == datetime(2025, 3, 10, 15, tzinfo=UTC)  # Monday
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
        )[0]

    assert ship() == ship()


def test_business_days_in_fulfillment_skip_the_weekend_like_the_order_promises() -> None:
    weekend = frozenset({5, 6})
    saturday = datetime(2025, 3, 8, 11, tzinfo=UTC)
    assert add_business_days(saturday, 1, weekend) == datetime(2025, 3, 11, tzinfo=UTC)
    assert add_business_days(datetime(2025, 3, 7, 0, tzinfo=UTC), 1, weekend) == saturday.replace(hour=0)
    with pytest.raises(ValueError, match="naive"):
        add_business_days(datetime(2025, 3, 7), 1, weekend)


def test_fulfillment_counts_business_days_exactly_as_the_order_promises_do() -> None:
    # The rule is written twice (a service never imports another's package); this keeps them equal.
    weekend = frozenset({5, 6})
    starts = [datetime(2025, 3, 6, tzinfo=UTC) + timedelta(hours=5 * i, minutes=7 * i) for i in range(40)]
    for start in starts:
        for days in range(9):
            assert add_business_days(start, days, weekend) == order_business_days(start, days, weekend)


def test_an_order_is_overdue_once_ship_by_has_passed_with_nothing_shipped() -> None:
    assert not is_overdue(ship_by=SHIP_BY, anything_shipped=False, now=SHIP_BY)
    assert is_overdue(ship_by=SHIP_BY, anything_shipped=False, now=SHIP_BY + timedelta(seconds=1))
    assert not is_overdue(ship_by=SHIP_BY, anything_shipped=True, now=SHIP_BY + timedelta(days=3))


def test_a_shipment_of_more_than_is_left_to_ship_is_refused() -> None:
    check_shipment_lines({"A": 1}, ordered={"A": 2}, already_shipped={"A": 1})
    with pytest.raises(ShipmentError, match="0 left"):
        check_shipment_lines({"A": 1}, ordered={"A": 2}, already_shipped={"A": 2})
    with pytest.raises(ShipmentError, match="sku B"):
        check_shipment_lines({"B": 1}, ordered={"A": 2}, already_shipped={})


def test_erasing_the_address_keeps_city_region_and_country() -> None:
    shipment, _ = merchant_shipment()
    erased_at = CONFIRMED + timedelta(days=40)
    shipment.erase_address(erased_at)
    assert shipment.ship_to == Address(None, (), "Seattle", "WA", None, "US", None)
    assert shipment.address_erased_at == erased_at


def test_erasing_the_address_twice_is_refused() -> None:
    shipment, _ = merchant_shipment()
    shipment.erase_address(CONFIRMED + timedelta(days=40))
    with pytest.raises(ShipmentError, match="already erased"):
        shipment.erase_address(CONFIRMED + timedelta(days=41))
