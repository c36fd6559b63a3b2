"""Orders as fulfillment knows them (services/fulfillment/orders.py): what may ship, the overdue
decision, marketplace ship time and the erasure of the address."""

import copy
from datetime import UTC, datetime, timedelta

import pytest

from services.fulfillment.domain import ShipmentError
from services.fulfillment.domain_events import FulfillmentOverdue
from services.fulfillment.orders import (
    Address,
    NotShippable,
    OrderLine,
    OrderToShip,
    check_shipment_lines,
    is_overdue,
)
from shared.events.common import FulfillmentChannel

PURCHASED = datetime(2025, 3, 6, 9, tzinfo=UTC)  # a Thursday
CONFIRMED = PURCHASED + timedelta(minutes=5)
SHIP_BY = datetime(2025, 3, 7, 9, tzinfo=UTC)
DELIVER_BY = datetime(2025, 3, 14, 9, tzinfo=UTC)
ADDRESS = Address("Ada Buyer", ("1 Main St",), "Seattle", "WA", "98101", "US", "+1-555-0100")


def order(channel: FulfillmentChannel = FulfillmentChannel.MERCHANT) -> OrderToShip:
    return OrderToShip(
        seller_id="s-1", order_id="o-1", channel=channel, purchased_at=PURCHASED, confirmed_at=CONFIRMED,
        ship_by=SHIP_BY, deliver_by=DELIVER_BY,
        lines=(OrderLine("L-A", "A", 2), OrderLine("L-B", "B", 1)), ship_to=ADDRESS,
    )


def test_a_partial_shipment_leaves_the_rest_to_ship() -> None:
    o = order()
    o.ship({"A": 1}, CONFIRMED)
    assert o.outstanding == {"A": 1, "B": 1} and o.shipments == 1 and o.open
    o.ship({"A": 1, "B": 1}, CONFIRMED)
    assert o.outstanding == {"A": 0, "B": 0} and not o.open


@pytest.mark.parametrize(("lines", "message"), [({"A": 3}, "2 left"), ({"C": 1}, "sku C"), ({}, "at least one"),
                                                 ({"A": 0}, "positive")])
def test_more_than_ordered_or_unknown_lines_are_refused_and_change_nothing(lines: dict[str, int], message: str) -> None:
    o = order()
    before = copy.deepcopy(o)
    with pytest.raises(ShipmentError, match=message):
        o.ship(lines, CONFIRMED)
    assert o == before


def test_a_cancelled_order_does_not_ship() -> None:
    o = order()
    o.cancel(CONFIRMED)
    with pytest.raises(NotShippable, match="cancelled"):
        o.ship({"A": 1}, CONFIRMED)


def test_a_seller_does_not_ship_what_the_marketplace_ships() -> None:
    o = order(FulfillmentChannel.MARKETPLACE)
    with pytest.raises(NotShippable, match="marketplace"):
        o.ship({"A": 2}, CONFIRMED)
    o.ship({"A": 2, "B": 1}, CONFIRMED, by_seller=False)
    assert not o.open


def test_a_shipment_before_the_purchase_is_refused() -> None:
    with pytest.raises(ShipmentError, match="before the purchase"):
        order().ship({"A": 1}, PURCHASED - timedelta(seconds=1))


def test_lines_are_named_by_sku_or_listing() -> None:
    o = order()
    assert o.sku_of("L-B") == "B" and o.listing_of("A") == "L-A"
    with pytest.raises(ShipmentError, match="listing L-Z"):
        o.sku_of("L-Z")


def test_the_warehouse_ships_a_marketplace_order_one_day_after_confirmation() -> None:
    o = order(FulfillmentChannel.MARKETPLACE)
    assert o.marketplace_ship_at() == datetime(2025, 3, 7, 9, 5, tzinfo=UTC)
    assert order().marketplace_ship_at() is None
    o.cancel(CONFIRMED)
    assert o.marketplace_ship_at() is None


def test_an_order_is_overdue_once_ship_by_has_passed_with_nothing_shipped() -> None:
    assert not is_overdue(ship_by=SHIP_BY, anything_shipped=False, now=SHIP_BY)
    assert is_overdue(ship_by=SHIP_BY, anything_shipped=False, now=SHIP_BY + timedelta(seconds=1))
    assert not is_overdue(ship_by=SHIP_BY, anything_shipped=True, now=SHIP_BY + timedelta(days=3))


def test_overdue_is_reported_once_and_timed_at_the_ship_by() -> None:
    o = order()
    assert o.overdue_at() == SHIP_BY
    assert o.report_overdue(SHIP_BY) == []
    later = SHIP_BY + timedelta(hours=3)
    assert o.report_overdue(later) == [FulfillmentOverdue(order_id="o-1", seller_id="s-1", at=SHIP_BY)]
    assert o.overdue_reported_at == later and o.overdue_at() is None
    assert o.report_overdue(later + timedelta(days=1)) == []


@pytest.mark.parametrize("change", ["ship", "cancel"])
def test_a_shipped_or_cancelled_order_is_never_overdue(change: str) -> None:
    o = order()
    if change == "ship":
        o.ship({"A": 1}, CONFIRMED)
    else:
        o.cancel(CONFIRMED)
    assert o.overdue_at() is None
    assert o.report_overdue(SHIP_BY + timedelta(days=2)) == []


def test_a_shipment_of_more_than_is_left_to_ship_is_refused() -> None:
    check_shipment_lines({"A": 1}, ordered={"A": 2}, already_shipped={"A": 1})
    with pytest.raises(ShipmentError, match="0 left"):
        check_shipment_lines({"A": 1}, ordered={"A": 2}, already_shipped={"A": 2})
    with pytest.raises(ShipmentError, match="sku B"):
        check_shipment_lines({"B": 1}, ordered={"A": 2}, already_shipped={})


def test_erasing_the_address_keeps_city_region_and_country() -> None:
    o = order()
    erased_at = CONFIRMED + timedelta(days=40)
    o.erase_address(erased_at)
    assert o.ship_to == Address(None, (), "Seattle", "WA", None, "US", None)
    assert o.address_erased_at == erased_at


def test_erasing_the_address_twice_is_refused() -> None:
    o = order()
    o.erase_address(CONFIRMED + timedelta(days=40))
    with pytest.raises(ShipmentError, match="already erased"):
        o.erase_address(CONFIRMED + timedelta(days=41))
