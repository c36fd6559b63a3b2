"""The order service with the fulfillment service, on the real broker and PostgreSQL: an order's life
from the storefront's event to delivery, rejection, cancellations, deadlines and erasure.

We play the listing service (inventory.reserved / reservation_failed on listing.events), the
carriers (ingress.carrier) and the clock (clock.ticked). Both services start once for the module;
each test has its own seller and orders, and its own stretch of business time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from services.order.publishing import confirmation_event_id
from shared.events import new_event, topics
from shared.events import order as wire
from shared.events.common import CancelledBy, Carrier, OrderStatus, ReservationFailure, ScanStatus
from shared.events.fulfillment import ShipmentConfirmed, ShipmentDelivered
from shared.events.ingress import CheckoutOrderPlaced
from shared.settings import Settings
from tests.integration.order.flow import (
    BUYER_NAME,
    LINES,
    Line,
    Platform,
    buyer_cancellation,
    confirmed_order,
    fulfillment_knows,
    iso,
    order_placed,
    platform,
    reservation_failed,
    reserved,
    scan,
    status_of,
    statuses,
    until,
    week,
)
from tests.support.factories import free_time, unique

pytestmark = pytest.mark.integration

S = OrderStatus


@pytest.fixture(scope="module")
async def world(module_settings: Settings) -> AsyncIterator[Platform]:
    async with platform(free_time(module_settings)) as started:
        yield started


async def test_an_order_goes_from_the_storefront_to_delivered(world: Platform) -> None:
    seller, base = unique("S"), week(0)
    placed = order_placed(seller, LINES, purchased_at=base, send_sku=False)  # the storefront knows listings only
    order_id = placed.data.order_id
    await world.send(topics.INGRESS_ORDERS, placed)
    await world.recorder.wait_for(order_id, wire.OrderPlaced)
    await world.send(topics.LISTING_EVENTS, reserved(placed, LINES, handling_days=2))
    [confirmed] = await world.recorder.wait_for(order_id, wire.OrderConfirmed)
    assert confirmed.data.ship_by == base + timedelta(days=2)  # Monday + 2 business days
    assert confirmed.data.deliver_by == base + timedelta(days=9)  # Wednesday + 5: the next Wednesday
    assert [(line.listing_id, line.sku) for line in confirmed.data.lines] == [("L-A", "SKU-A"), ("L-B", "SKU-B")]
    assert confirmed.data.ship_to is None and BUYER_NAME.encode() not in confirmed.to_bytes()
    assert confirmed.data.ship_to_sealed is not None  # merchant-fulfilled: the buyer's part sealed
    assert confirmed.data.ship_to_sealed.city == "Springfield"
    assert confirmed.data.total.amount == 25
    await fulfillment_knows(world, seller, order_id)

    async with world.http("fulfillment", seller) as http:
        first = await http.post(f"/v1/orders/{order_id}/shipments", json={
            "carrier": "ups", "tracking_number": "1Z999AA10123456784", "at": iso(base + timedelta(days=1)),
            "lines": [{"sku": "SKU-A", "quantity": 2}]})
        assert first.status_code == 201, first.text
        await world.recorder.wait(lambda: (S.UNSHIPPED, S.PARTIALLY_SHIPPED) in statuses(world, order_id),
                                  "partially shipped")
        second = await http.post(f"/v1/orders/{order_id}/shipments", json={
            "carrier": "usps", "tracking_number": "9400 1112 0108 0805 4830 16",
            "at": iso(base + timedelta(days=1, hours=1)), "lines": [{"listing_id": "L-B", "quantity": 1}]})
        assert second.status_code == 201, second.text
        assert second.json()["tracking_number"] == "9400111201080805483016"
    await world.recorder.wait(lambda: (S.PARTIALLY_SHIPPED, S.SHIPPED) in statuses(world, order_id), "shipped")

    ups, usps = (Carrier.UPS, "1Z999AA10123456784"), (Carrier.USPS, "9400111201080805483016")
    await world.send(topics.INGRESS_CARRIER,
                     scan(seller, *ups, ScanStatus.IN_TRANSIT, base + timedelta(days=1, hours=3)),
                     scan(seller, *ups, ScanStatus.DELIVERED, base + timedelta(days=3)),
                     scan(seller, *usps, ScanStatus.DELIVERED, base + timedelta(days=3, hours=2)))
    await world.recorder.wait_for(order_id, ShipmentDelivered, count=2)
    await world.recorder.wait(lambda: (S.SHIPPED, S.DELIVERED) in statuses(world, order_id), "delivered")
    assert statuses(world, order_id) == [
        (None, S.PENDING), (S.PENDING, S.UNSHIPPED), (S.UNSHIPPED, S.PARTIALLY_SHIPPED),
        (S.PARTIALLY_SHIPPED, S.SHIPPED), (S.SHIPPED, S.DELIVERED),
    ]
    shipped = world.recorder.of(order_id, ShipmentConfirmed)
    assert [e.data.tracking_format_valid for e in shipped] == [True, True]

    async with world.http("order", seller) as http:
        view = (await http.get(f"/v1/orders/{order_id}")).json()
        assert view["status"] == "delivered"
        assert view["delivered_at"] == iso(base + timedelta(days=3, hours=2))
        assert [line["shipped"] for line in view["lines"]] == [2, 1]
        delivered = (await http.get("/v1/orders", params={"status": "delivered"})).json()
        assert [o["order_id"] for o in delivered] == [order_id]
        assert (await http.get("/v1/orders", params={"seller_id": "someone-else"})).status_code == 403


async def test_an_order_out_of_stock_is_rejected(world: Platform) -> None:
    seller = unique("S")
    placed = order_placed(seller, LINES, purchased_at=week(1))
    order_id = placed.data.order_id
    await world.send(topics.INGRESS_ORDERS, placed)
    await world.recorder.wait_for(order_id, wire.OrderPlaced)
    await world.send(topics.LISTING_EVENTS, reservation_failed(placed, ReservationFailure.OUT_OF_STOCK))
    [rejected] = await world.recorder.wait_for(order_id, wire.OrderRejected)
    assert rejected.data.reason is wire.OrderRejection.OUT_OF_STOCK
    await world.recorder.wait(lambda: (S.PENDING, S.REJECTED) in statuses(world, order_id), "rejected")
    async with world.http("order", seller) as http:
        assert (await http.get(f"/v1/orders/{order_id}")).json()["status"] == "rejected"


async def test_a_seller_cancels_before_shipment_and_nothing_ships_after(world: Platform) -> None:
    seller, base = unique("S"), week(2)
    placed = await confirmed_order(world, seller, at=base)
    order_id = placed.data.order_id
    await fulfillment_knows(world, seller, order_id)
    url = f"/v1/orders/{order_id}/cancellation"
    async with world.http("order", unique("S")) as stranger:
        body = {"reason": "x", "at": iso(base)}
        assert (await stranger.post(url, params={"seller_id": seller}, json=body)).status_code == 403
        assert (await stranger.post(url, json=body)).status_code == 404  # not one of the stranger's orders
    async with world.http("order", seller) as http:
        assert (await http.post(url, json={"at": iso(base)})).status_code == 422  # a reason is required
        answer = await http.post(url, json={"reason": "damaged in storage", "at": iso(base + timedelta(hours=2))})
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "cancelled" and answer.json()["cancelled_by"] == "seller"
        again = await http.post(url, json={"reason": "twice", "at": iso(base + timedelta(hours=3))})
        assert again.status_code == 409 and "cancelled" in again.json()["detail"]
    [cancelled] = await world.recorder.wait_for(order_id, wire.OrderCancelled)
    # What the listing service releases stock on: the order, by whom, before shipment.
    assert (cancelled.data.by, cancelled.data.reason, cancelled.data.before_shipment) == (
        CancelledBy.SELLER, "damaged in storage", True)
    assert cancelled.time == base + timedelta(hours=2)

    async def fulfillment_stopped() -> bool:
        row = await world.fetchrow("fulfillment", "SELECT cancelled_at FROM orders WHERE seller_id = $1"
                                   " AND order_id = $2", seller, order_id)
        return row["cancelled_at"] is not None

    await until(fulfillment_stopped, "fulfillment saw the cancellation")
    async with world.http("fulfillment", seller) as http:
        refused = await http.post(f"/v1/orders/{order_id}/shipments", json={
            "carrier": "ups", "tracking_number": "1Z999AA10123456784", "at": iso(base + timedelta(hours=4)),
            "lines": [{"sku": "SKU-A", "quantity": 1}]})
        assert refused.status_code == 409


async def test_a_buyer_request_the_seller_accepts_is_a_buyer_cancellation(world: Platform) -> None:
    seller, base = unique("S"), week(3)
    placed = await confirmed_order(world, seller, at=base)
    order_id = placed.data.order_id
    accept = f"/v1/orders/{order_id}/cancellation-request/acceptance"
    async with world.http("order", seller) as http:
        assert (await http.post(accept, json={"at": iso(base)})).status_code == 422  # nothing to accept yet
        await world.send(topics.INGRESS_ORDERS, buyer_cancellation(placed, base + timedelta(hours=1)))
        [requested] = await world.recorder.wait_for(order_id, wire.OrderCancellationRequested)
        assert requested.data.reason is None and requested.data.buyer_reason is not None  # sealed
        answer = await http.post(accept, json={"at": iso(base + timedelta(hours=2))})
        assert answer.status_code == 200, answer.text
    [cancelled] = await world.recorder.wait_for(order_id, wire.OrderCancelled)
    assert (cancelled.data.by, cancelled.data.reason) == (CancelledBy.BUYER, "requested by the buyer")
    assert b"ordered twice" not in requested.to_bytes() + cancelled.to_bytes()
    async with world.http("order", seller) as http:  # the seller still reads the buyer's words here
        assert (await http.get(f"/v1/orders/{order_id}")).json()["cancel_reason"] == "ordered twice"


async def test_orders_list_by_due_date(world: Platform) -> None:
    seller, base = unique("S"), week(4)
    later = await confirmed_order(world, seller, at=base, handling_days=3)
    sooner = await confirmed_order(world, seller, at=base + timedelta(hours=1), handling_days=1)
    async with world.http("order", seller) as http:
        listed = (await http.get("/v1/orders", params={"status": "unshipped"})).json()
    assert [o["order_id"] for o in listed] == [sooner.data.order_id, later.data.order_id]


async def test_an_order_unshipped_seven_days_after_ship_by_is_cancelled_by_the_system(world: Platform) -> None:
    seller, base = unique("S"), week(5)
    placed = await confirmed_order(world, seller, at=base)
    order_id = placed.data.order_id
    ship_by = base + timedelta(days=1)
    await world.tick(ship_by + timedelta(days=7))  # the deadline itself: not yet
    assert await status_of(world, seller, order_id) == "unshipped"
    await world.tick(ship_by + timedelta(days=7, minutes=1))
    [cancelled] = await world.recorder.wait_for(order_id, wire.OrderCancelled)
    assert cancelled.data.by is CancelledBy.SYSTEM and cancelled.data.before_shipment
    assert cancelled.data.cancelled_at == ship_by + timedelta(days=7, minutes=1)


async def test_buyer_data_is_gone_thirty_days_after_cancellation(world: Platform) -> None:
    seller, base = unique("S"), week(7)
    await world.tick(base)  # events may not run ahead of the clock (MAX_CLOCK_SKEW)
    placed = await confirmed_order(world, seller, at=base)
    order_id = placed.data.order_id
    await fulfillment_knows(world, seller, order_id)
    cancelled_at = base + timedelta(hours=1)
    async with world.http("order", seller) as http:
        answer = await http.post(f"/v1/orders/{order_id}/cancellation",
                                 json={"reason": "cannot source it", "at": iso(cancelled_at)})
        assert answer.status_code == 200
    await world.recorder.wait_for(order_id, wire.OrderCancelled)
    await world.tick(cancelled_at + timedelta(days=30) - timedelta(minutes=1))
    kept = await world.fetchrow("order", "SELECT ship_to FROM orders WHERE seller_id = $1 AND order_id = $2",
                                seller, order_id)
    assert kept["ship_to"]["name"] == BUYER_NAME  # 30 days not yet over
    await world.tick(cancelled_at + timedelta(days=30))
    [erased] = await world.recorder.wait_for(order_id, wire.OrderPiiErased)
    assert erased.data.trigger is wire.ErasureTrigger.CANCELLED

    row = await world.fetchrow("order", "SELECT ship_to, pii_erased_at FROM orders WHERE seller_id = $1"
                               " AND order_id = $2", seller, order_id)
    assert row["ship_to"] == {"name": None, "lines": [], "city": "Springfield", "region": "IL", "postal_code": None,
                              "country": "US", "phone": None}
    assert row["pii_erased_at"] == cancelled_at + timedelta(days=30)
    sent_copy = await world.fetchrow("order", "SELECT count(*) AS n FROM outbox WHERE event_id = $1",
                                     confirmation_event_id(seller, order_id))
    assert sent_copy["n"] == 0  # the relayed order.confirmed carried the sealed address: deleted too
    key = await world.fetchrow("order", "SELECT data_key FROM orders WHERE seller_id = $1 AND order_id = $2",
                               seller, order_id)
    assert key["data_key"] is None  # destroyed: the sealed copies on order.events no longer open

    async def fulfillment_erased() -> bool:
        kept = await world.fetchrow("fulfillment", "SELECT address_erased_at FROM orders WHERE seller_id = $1"
                                    " AND order_id = $2", seller, order_id)
        return bool(kept["address_erased_at"] is not None)

    await until(fulfillment_erased, "fulfillment recorded the erasure")
    kept = await world.fetchrow("fulfillment", "SELECT ship_to FROM orders WHERE seller_id = $1 AND order_id = $2",
                                seller, order_id)
    assert kept["ship_to"]["name"] is None and kept["ship_to"]["city"] == "Springfield"  # never held more
    carrying_the_name = [e.type for e in world.recorder.of(order_id) if BUYER_NAME.encode() in e.to_bytes()]
    assert carrying_the_name == []


async def test_a_malformed_order_is_rejected_and_never_announced_as_placed(world: Platform) -> None:
    seller = unique("S")
    placed = order_placed(seller, [Line("L-A", "SKU-A"), Line("L-A", "SKU-Z")], purchased_at=week(9))
    order_id = placed.data.order_id
    await world.send(topics.INGRESS_ORDERS, placed)
    [rejected] = await world.recorder.wait_for(order_id, wire.OrderRejected)
    assert rejected.data.reason is wire.OrderRejection.MALFORMED and "L-A appears twice" in rejected.data.detail
    await world.recorder.wait(lambda: statuses(world, order_id) == [(None, S.REJECTED)], "rejected as new")
    assert world.recorder.of(order_id, wire.OrderPlaced) == []


async def test_an_order_id_seen_before_is_acknowledged_and_not_applied_twice(world: Platform) -> None:
    seller = unique("S")
    placed = order_placed(seller, LINES, purchased_at=week(10))
    again = new_event(placed.data_as(CheckoutOrderPlaced), seller_id=seller, subject=placed.subject,
                      time=placed.time, source=placed.source)  # the storefront resends: a new event id
    await world.send(topics.INGRESS_ORDERS, placed, again)
    await world.applied(again, ["order"])
    await world.recorder.wait_for(placed.data.order_id, wire.OrderPlaced)
    await world.send(topics.INGRESS_ORDERS, marker := order_placed(seller, LINES, purchased_at=week(10)))
    await world.recorder.wait_for(marker.data.order_id, wire.OrderPlaced)  # same partition: after the duplicate
    assert len(world.recorder.of(placed.data.order_id, wire.OrderPlaced)) == 1


async def test_a_transition_the_table_refuses_is_dead_lettered_with_its_reason(world: Platform) -> None:
    seller = unique("S")
    placed = await confirmed_order(world, seller, at=week(11))
    twice = reserved(placed, LINES)  # a second reservation for an unshipped order
    await world.send(topics.LISTING_EVENTS, twice)
    letter = await world.recorder.dead_letter(topics.LISTING_EVENTS, str(twice.id))
    assert "confirm refused: the order is unshipped" in letter.reason
    stranger = order_placed(seller, LINES, purchased_at=week(11))  # never placed here
    mismatch = reserved(stranger, LINES)
    await world.send(topics.LISTING_EVENTS, mismatch)
    letter = await world.recorder.dead_letter(topics.LISTING_EVENTS, str(mismatch.id))
    assert "unknown" in letter.reason and BUYER_NAME not in letter.reason


async def test_buyer_data_of_a_lost_parcel_is_gone_thirty_days_after_its_last_carrier_event(world: Platform) -> None:
    seller, base = unique("S"), week(20)
    await world.tick(base)  # events may not run ahead of the clock (MAX_CLOCK_SKEW)
    placed = await confirmed_order(world, seller, at=base)
    order_id = placed.data.order_id
    await fulfillment_knows(world, seller, order_id)
    async with world.http("fulfillment", seller) as http:
        shipped = await http.post(f"/v1/orders/{order_id}/shipments", json={
            "carrier": "ups", "tracking_number": "1Z999AA10123456784", "at": iso(base + timedelta(hours=5)),
            "lines": [{"sku": "SKU-A", "quantity": 2}, {"sku": "SKU-B", "quantity": 1}]})
        assert shipped.status_code == 201, shipped.text
    await world.recorder.wait(lambda: (S.UNSHIPPED, S.SHIPPED) in statuses(world, order_id), "shipped")
    ups = (Carrier.UPS, "1Z999AA10123456784")
    lost_at = base + timedelta(days=3)
    await world.tick(lost_at)
    await world.send(topics.INGRESS_CARRIER, scan(seller, *ups, ScanStatus.IN_TRANSIT, base + timedelta(days=1)),
                     scan(seller, *ups, ScanStatus.LOST, lost_at))
    await world.tick(lost_at + timedelta(days=30) - timedelta(minutes=1))
    assert world.recorder.of(order_id, wire.OrderPiiErased) == []  # 30 days not yet over
    await world.tick(lost_at + timedelta(days=30))
    [erased] = await world.recorder.wait_for(order_id, wire.OrderPiiErased)
    assert erased.data.trigger is wire.ErasureTrigger.NOT_DELIVERED
    row = await world.fetchrow("order", "SELECT status, ship_to, data_key FROM orders WHERE seller_id = $1"
                               " AND order_id = $2", seller, order_id)
    assert row["status"] == "shipped" and row["data_key"] is None
    assert row["ship_to"]["name"] is None and row["ship_to"]["lines"] == [] and row["ship_to"]["country"] == "US"
