"""The fulfillment service with the order service, on the real broker and PostgreSQL: shipments over
HTTP, marketplace shipping on clock ticks, carrier scans, tracking validity and overdue orders.

We play the listing service, the carriers and the clock. Both services start once for the module;
each test has its own seller and orders, and its own stretch of business time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from shared.events import order as orders
from shared.events import topics
from shared.events.common import Carrier, OrderStatus, ScanStatus
from shared.events.fulfillment import (
    FulfillmentOverdue,
    ShipmentConfirmed,
    ShipmentTrackingUpdated,
    ShipmentTrackingValidated,
    TrackingVerdict,
)
from shared.settings import Settings
from tests.integration.order.flow import (
    Platform,
    confirmed_order,
    fulfillment_knows,
    iso,
    platform,
    scan,
    status_of,
    statuses,
    week,
)
from tests.support.factories import unique

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def world(module_settings: Settings) -> AsyncIterator[Platform]:
    async with platform(module_settings) as started:
        yield started


async def ship(world: Platform, seller: str, order_id: str, body: dict[str, Any], status: int = 201) -> Any:
    async with world.http("fulfillment", seller) as http:
        answer = await http.post(f"/v1/orders/{order_id}/shipments", json=body)
    assert answer.status_code == status, answer.text
    return answer.json()


async def fulfillment_value(world: Platform, query: str, *args: Any) -> Any:
    return await world.services["fulfillment"].context.pool.fetchval(query, *args)


async def shipped_merchant_order(world: Platform, seller: str, base: Any, carrier: str, number: str) -> str:
    placed = await confirmed_order(world, seller, at=base)
    order_id: str = placed.data.order_id
    await fulfillment_knows(world, seller, order_id)
    await ship(world, seller, order_id, {"carrier": carrier, "tracking_number": number, "at": iso(base),
                                         "lines": [{"sku": "SKU-A", "quantity": 2}, {"sku": "SKU-B", "quantity": 1}]})
    await world.recorder.wait_for(order_id, ShipmentConfirmed)
    return order_id


async def test_a_marketplace_order_ships_itself_a_day_after_confirmation_weekends_included(world: Platform) -> None:
    seller, friday = unique("S"), week(0) + timedelta(days=4)
    placed = await confirmed_order(world, seller, at=friday, channel="marketplace", handling_days=2)
    order_id = placed.data.order_id
    [confirmed] = world.recorder.of(order_id, orders.OrderConfirmed)
    assert confirmed.data.ship_to is None  # the warehouse needs no copy of the buyer's address
    await fulfillment_knows(world, seller, order_id)
    await ship(world, seller, order_id, {"carrier": "ups", "tracking_number": "1Z999AA10123456784",
                                         "at": iso(friday), "lines": [{"sku": "SKU-A", "quantity": 1}]}, status=409)
    ships_at = confirmed.time + timedelta(days=1)  # Friday + 1 day: Saturday, same time (the warehouse works)
    await world.tick(ships_at - timedelta(seconds=1))
    assert await fulfillment_value(world, "SELECT count(*) FROM shipments WHERE seller_id = $1", seller) == 0
    await world.tick(ships_at)
    [shipment] = await world.recorder.wait_for(order_id, ShipmentConfirmed)
    assert shipment.time == shipment.data.shipped_at == ships_at
    assert shipment.data.carrier is Carrier.MARKETPLACE and shipment.data.tracking_number.startswith("TBA")
    assert shipment.data.tracking_format_valid and shipment.data.fulfillment_channel.value == "marketplace"
    assert {(line.sku, line.quantity) for line in shipment.data.lines} == {("SKU-A", 2), ("SKU-B", 1)}
    await world.recorder.wait(lambda: (OrderStatus.UNSHIPPED, OrderStatus.SHIPPED) in statuses(world, order_id),
                              "the order service follows the shipment")


async def test_marketplace_numbers_that_collide_across_sellers_are_told_apart_by_seller(world: Platform) -> None:
    first, second, order_id, base = unique("S"), unique("S"), unique("O"), week(1)
    for seller in (first, second):  # two sellers, the same order id: the same TBA number
        await confirmed_order(world, seller, at=base, channel="marketplace", handling_days=2, order_id=order_id)
        await fulfillment_knows(world, seller, order_id)
    await world.tick(base + timedelta(days=1, minutes=2))
    await world.recorder.wait(lambda: len(world.recorder.of(order_id, ShipmentConfirmed)) == 2, "both shipped")
    numbers = {e.data.tracking_number for e in world.recorder.of(order_id, ShipmentConfirmed)}
    assert len(numbers) == 1
    await world.send(topics.INGRESS_CARRIER, scan(first, Carrier.MARKETPLACE, numbers.pop(), ScanStatus.IN_TRANSIT,
                                                  base + timedelta(days=2)))
    await world.recorder.wait_for(order_id, ShipmentTrackingUpdated)
    assert [e.sellerid for e in world.recorder.of(order_id, ShipmentTrackingUpdated)] == [first]


async def test_an_order_unshipped_after_ship_by_is_reported_overdue_once(world: Platform) -> None:
    seller, base = unique("S"), week(2)
    placed = await confirmed_order(world, seller, at=base)
    order_id = placed.data.order_id
    ship_by = base + timedelta(days=1, hours=15)  # Monday 09:00, 1 handling day: the end of Tuesday (24:00 UTC)
    await fulfillment_knows(world, seller, order_id)
    await world.tick(ship_by)
    assert await fulfillment_value(world, "SELECT overdue_reported_at FROM orders WHERE seller_id = $1", seller) is None
    await world.tick(ship_by + timedelta(hours=1))
    [overdue] = await world.recorder.wait_for(order_id, FulfillmentOverdue)
    assert overdue.time == overdue.data.ship_by == ship_by
    await world.tick(ship_by + timedelta(hours=2))
    await ship(world, seller, order_id, {"carrier": "dhl", "tracking_number": "3318810025",
                                         "at": iso(ship_by + timedelta(hours=3)),
                                         "lines": [{"sku": "SKU-A", "quantity": 1}]})
    await world.recorder.wait_for(order_id, ShipmentConfirmed)  # relayed after any second overdue would be
    assert len(world.recorder.of(order_id, FulfillmentOverdue)) == 1


async def test_duplicate_carrier_scans_are_applied_once(world: Platform) -> None:
    seller, base = unique("S"), week(3)
    order_id = await shipped_merchant_order(world, seller, base, "dhl", "3318810025")
    in_transit = scan(seller, Carrier.DHL, "3318810025", ScanStatus.IN_TRANSIT, base + timedelta(hours=5))
    resent = scan(seller, Carrier.DHL, "3318810025", ScanStatus.IN_TRANSIT, base + timedelta(hours=5))
    await world.send(topics.INGRESS_CARRIER, in_transit, in_transit, resent)  # redelivered, and resent anew
    marker = scan(seller, Carrier.DHL, "3318810025", ScanStatus.OUT_FOR_DELIVERY, base + timedelta(days=1))
    await world.send(topics.INGRESS_CARRIER, marker)
    await world.recorder.wait_for(order_id, ShipmentTrackingUpdated, count=2)
    await world.applied(marker, ["fulfillment"])
    updates = [e.data.status for e in world.recorder.of(order_id, ShipmentTrackingUpdated)]
    assert updates == [ScanStatus.IN_TRANSIT, ScanStatus.OUT_FOR_DELIVERY]
    [validated] = world.recorder.of(order_id, ShipmentTrackingValidated)
    assert validated.data.valid and validated.data.first_scan_at == base + timedelta(hours=5)
    row = await world.fetchrow("fulfillment", "SELECT count(*) AS n FROM scans WHERE seller_id = $1", seller)
    assert row["n"] == 2


async def test_a_scan_for_an_unknown_tracking_number_is_dead_lettered(world: Platform) -> None:
    stray = scan(unique("S"), Carrier.UPS, "1Z999AA10123456784", ScanStatus.IN_TRANSIT, week(4))
    await world.send(topics.INGRESS_CARRIER, stray)
    letter = await world.recorder.dead_letter(topics.INGRESS_CARRIER, str(stray.id))
    assert "tracking number 1Z999AA10123456784" in letter.reason and letter.headers["dlq.error.type"] == "Unprocessable"


async def test_a_delivery_before_the_shipment_is_refused(world: Platform) -> None:
    seller, base = unique("S"), week(5)
    order_id = await shipped_merchant_order(world, seller, base + timedelta(hours=4), "usps", "RA123456785US")
    early = scan(seller, Carrier.USPS, "RA123456785US", ScanStatus.DELIVERED, base + timedelta(hours=1))
    await world.send(topics.INGRESS_CARRIER, early)
    letter = await world.recorder.dead_letter(topics.INGRESS_CARRIER, str(early.id))
    assert "before the shipment" in letter.reason
    assert await status_of(world, seller, order_id) == "shipped"


async def test_tracking_is_invalid_on_a_bad_number_at_once_or_without_a_scan_in_five_days(world: Platform) -> None:
    seller, base = unique("S"), week(6)
    bad = await shipped_merchant_order(world, seller, base, "ups", "1Z999AA10123456785")  # wrong check digit
    [confirmed] = world.recorder.of(bad, ShipmentConfirmed)
    assert not confirmed.data.tracking_format_valid
    [verdict] = await world.recorder.wait_for(bad, ShipmentTrackingValidated)
    assert (verdict.data.valid, verdict.data.reason) == (False, TrackingVerdict.BAD_FORMAT)

    silent = await shipped_merchant_order(world, seller, base + timedelta(hours=1), "fedex", "986578788855")
    await world.tick(base + timedelta(days=5, hours=1) - timedelta(minutes=1))  # the window's last minute
    pending = "SELECT tracking_status FROM shipments WHERE seller_id = $1 AND order_id = $2"
    assert await fulfillment_value(world, pending, seller, silent) == "pending"
    # Judged at the first tick at or after the window's end (domain.md section 6, "judged at ticks").
    await world.tick(base + timedelta(days=5, hours=1))
    [verdict] = await world.recorder.wait_for(silent, ShipmentTrackingValidated)
    assert (verdict.data.valid, verdict.data.reason) == (False, TrackingVerdict.NO_SCAN)


async def test_the_shipments_api_refuses_what_cannot_ship(world: Platform) -> None:
    seller, base = unique("S"), week(7)
    placed = await confirmed_order(world, seller, at=base)
    order_id = placed.data.order_id
    await fulfillment_knows(world, seller, order_id)
    body = {"carrier": "ups", "tracking_number": "1Z999AA10123456784", "at": iso(base + timedelta(hours=1)),
            "lines": [{"sku": "SKU-A", "quantity": 3}]}
    assert "2 left" in (await ship(world, seller, order_id, body, status=422))["detail"]
    await ship(world, seller, unique("O"), {**body, "lines": [{"sku": "SKU-A", "quantity": 1}]}, status=404)
    async with world.http("fulfillment", unique("S")) as stranger:
        answer = await stranger.post(f"/v1/orders/{order_id}/shipments", params={"seller_id": seller}, json=body)
        assert answer.status_code == 403
    once = {**body, "lines": [{"listing_id": "L-A", "quantity": 2}], "shipment_id": "MY-SHIPMENT-1"}
    first = await ship(world, seller, order_id, once)
    again = await ship(world, seller, order_id, once, status=200)  # a retried request: the same shipment
    assert first["shipment_id"] == again["shipment_id"] == "MY-SHIPMENT-1"
    await world.recorder.wait_for(order_id, ShipmentConfirmed)
    async with world.http("fulfillment", seller) as http:
        listed = (await http.get(f"/v1/orders/{order_id}/shipments")).json()
    assert [(s["shipment_id"], s["lines"]) for s in listed] == [("MY-SHIPMENT-1", {"SKU-A": 2})]
    assert len(world.recorder.of(order_id, ShipmentConfirmed)) == 1
