"""Inventory against the real broker and PostgreSQL: order.placed reserves all lines or none, once per
order; order.cancelled releases; shipment.confirmed consumes; stock never goes negative."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from services.listing import inventory_service
from shared.events import new_event, topics
from shared.events.common import EnforcementAction
from shared.runtime import ServiceRuntime
from tests.integration.listing.helpers import (
    ADJUSTED,
    FAILED,
    RELEASED,
    RESERVED,
    enforcement,
    new_listing,
    new_seller,
    of_type,
    order_cancelled,
    order_placed,
    published,
    shipment_confirmed,
)
from tests.support.factories import unique
from tests.support.kafka import eventually, publish_events, read_topic
from tests.support.platform import client

pytestmark = pytest.mark.integration



async def settled(runtime: ServiceRuntime, seller_id: str, orders: int) -> None:
    """Wait until the service has decided `orders` orders of the seller."""
    pool = runtime.context.pool

    async def decided() -> bool:
        count: int = await pool.fetchval(
            "SELECT count(*) FROM reservations WHERE seller_id = $1 AND status <> 'pending'", seller_id)
        return count >= orders

    await eventually(decided, what=f"{orders} orders of {seller_id} decided")


async def stock(runtime: ServiceRuntime, listing_id: str) -> tuple[int, int]:
    async with client(runtime) as http:
        view = (await http.get(f"/v1/listings/{listing_id}")).json()
    return view["quantity"], view["reserved"]


async def reservation(runtime: ServiceRuntime, seller_id: str, order_id: str) -> dict[str, Any]:
    async with client(runtime) as http:
        found: dict[str, Any] = (await http.get(f"/v1/sellers/{seller_id}/reservations/{order_id}")).json()
    return found


async def test_two_hundred_orders_for_fifty_units_reserve_exactly_fifty(listing: ServiceRuntime) -> None:
    seller_id, http = await new_seller(listing)
    async with http:
        mug = await new_listing(http, seller_id, quantity=50, handling_days=3)
    orders = [order_placed(seller_id, [{"listing_id": mug["listing_id"], "quantity": 1}]) for _ in range(200)]

    await publish_events(listing.settings, topics.ORDER_EVENTS, orders)
    await settled(listing, seller_id, 200)

    assert await stock(listing, mug["listing_id"]) == (0, 50)
    events = await published(listing, topics.LISTING_EVENTS, seller_id=seller_id)
    reserved, failed = of_type(events, RESERVED), of_type(events, FAILED)
    assert len(reserved) == 50 and len(failed) == 150
    assert Counter(f.reason for f in failed) == {"out_of_stock": 150}
    assert {f.listing_id for f in failed} == {mug["listing_id"]}
    assert {(r.handling_days, r.lines[0].handling_days) for r in reserved} == {(3, 3)}
    assert len({r.order_id for r in reserved} | {f.order_id for f in failed}) == 200


async def test_racing_transactions_never_take_more_than_the_stock(listing: ServiceRuntime) -> None:
    """The use case itself, from 30 connections at once: row locks and guarded updates hold."""
    seller_id, http = await new_seller(listing)
    async with http:
        mug = await new_listing(http, seller_id, quantity=10)
    orders = [order_placed(seller_id, [{"listing_id": mug["listing_id"], "quantity": 1}]) for _ in range(30)]
    pool = listing.context.pool

    async def place(event: Any) -> None:
        async with pool.acquire() as conn, conn.transaction():
            await inventory_service.reserve_stock(conn, event)

    await asyncio.gather(*(place(order) for order in orders))

    assert await stock(listing, mug["listing_id"]) == (0, 10)
    outcomes = Counter([(await reservation(listing, seller_id, o.data.order_id))["status"] for o in orders])
    assert outcomes == {"held": 10, "failed": 20}


async def test_an_order_delivered_twice_even_under_another_event_id_reserves_once(listing: ServiceRuntime) -> None:
    seller_id, http = await new_seller(listing)
    async with http:
        mug = await new_listing(http, seller_id, quantity=10)
    placed = order_placed(seller_id, [{"listing_id": mug["listing_id"], "quantity": 3}])
    copy = new_event(placed.data, seller_id=seller_id, subject=placed.subject, time=placed.time, source=placed.source)

    await publish_events(listing.settings, topics.ORDER_EVENTS, [placed, placed, copy])
    marker = order_placed(seller_id, [{"listing_id": mug["listing_id"], "quantity": 1}])
    await publish_events(listing.settings, topics.ORDER_EVENTS, [marker])  # same partition: after the copies
    await settled(listing, seller_id, 2)

    assert await stock(listing, mug["listing_id"]) == (6, 4)
    reserved = of_type(await published(listing, topics.LISTING_EVENTS, seller_id=seller_id), RESERVED)
    assert [r.order_id for r in reserved] == [placed.data.order_id, marker.data.order_id]


async def test_an_order_reserves_every_line_or_none_and_names_listings_by_id_or_sku(listing: ServiceRuntime) -> None:
    seller_id, http = await new_seller(listing)
    async with http:
        mug = await new_listing(http, seller_id, quantity=5, handling_days=2)
        plate = await new_listing(http, seller_id, quantity=2, handling_days=4, sku="PLATE 01")
    one_mug = {"listing_id": mug["listing_id"], "quantity": 1}
    short = order_placed(seller_id, [one_mug, {"sku": "PLATE 01", "quantity": 3}])
    fits = order_placed(seller_id, [one_mug, {"sku": "PLATE 01", "quantity": 2}, one_mug])

    await publish_events(listing.settings, topics.ORDER_EVENTS, [short, fits])
    await settled(listing, seller_id, 2)

    events = await published(listing, topics.LISTING_EVENTS, seller_id=seller_id)
    [failed], [reserved] = of_type(events, FAILED), of_type(events, RESERVED)
    assert (failed.order_id, failed.reason, failed.listing_id) == (short.data.order_id, "out_of_stock",
                                                                   plate["listing_id"])
    assert reserved.order_id == fits.data.order_id and reserved.handling_days == 4
    assert [(line.listing_id, line.sku, line.quantity, line.handling_days) for line in reserved.lines] == [
        (mug["listing_id"], mug["sku"], 1, 2),
        (plate["listing_id"], "PLATE 01", 2, 4),
        (mug["listing_id"], mug["sku"], 1, 2),
    ]
    assert await stock(listing, mug["listing_id"]) == (3, 2)
    assert await stock(listing, plate["listing_id"]) == (0, 2)


async def test_a_reservation_fails_for_an_unknown_or_inactive_listing_and_a_seller_who_may_not_sell(
    listing: ServiceRuntime,
) -> None:
    seller_id, http = await new_seller(listing)
    suspended_id, other = await new_seller(listing)
    async with http, other:
        mug = await new_listing(http, seller_id)
        paused = await new_listing(http, seller_id)
        await http.post(f"/v1/listings/{paused['listing_id']}/pause", json={"at": paused["updated_at"]})
        theirs = await new_listing(other, suspended_id)
    await publish_events(listing.settings, topics.METRICS_EVENTS,
                         [enforcement(suspended_id, EnforcementAction.SUSPEND)])
    orders = {
        "unknown": order_placed(seller_id, [{"listing_id": "L-nothing", "quantity": 1}]),
        "other seller's": order_placed(seller_id, [{"listing_id": theirs["listing_id"], "quantity": 1}]),
        "wrong sku": order_placed(seller_id, [{"listing_id": mug["listing_id"], "sku": "NOT-IT", "quantity": 1}]),
        "paused": order_placed(seller_id, [{"listing_id": paused["listing_id"], "quantity": 1}]),
        "suspended": order_placed(suspended_id, [{"listing_id": theirs["listing_id"], "quantity": 1}]),
        "unregistered": order_placed(unique("S"), [{"listing_id": mug["listing_id"], "quantity": 1}]),
    }
    await settled_status(listing, suspended_id, "suspended")

    await publish_events(listing.settings, topics.ORDER_EVENTS, list(orders.values()))
    await settled(listing, seller_id, 4)
    await settled(listing, suspended_id, 1)
    await settled(listing, orders["unregistered"].sellerid, 1)

    reasons = {name: await reservation(listing, order.sellerid, order.data.order_id) for name, order in orders.items()}
    assert {name: r["failure_reason"] for name, r in reasons.items()} == {
        "unknown": "unknown_listing", "other seller's": "unknown_listing", "wrong sku": "unknown_listing",
        "paused": "listing_inactive", "suspended": "seller_not_active", "unregistered": "seller_not_active"}
    assert await stock(listing, mug["listing_id"]) == (10, 0)


async def settled_status(runtime: ServiceRuntime, seller_id: str, status: str) -> None:
    async with client(runtime) as http:

        async def reached() -> bool:
            return bool((await http.get(f"/v1/sellers/{seller_id}")).json()["status"] == status)

        await eventually(reached, what=f"{seller_id} {status}")


async def test_a_cancellation_releases_and_a_shipment_consumes_reserved_stock(listing: ServiceRuntime) -> None:
    seller_id, http = await new_seller(listing)
    async with http:
        mug = await new_listing(http, seller_id, quantity=10)
    cancelled = order_placed(seller_id, [{"listing_id": mug["listing_id"], "quantity": 3}])
    shipped = order_placed(seller_id, [{"listing_id": mug["listing_id"], "quantity": 4}])
    settings = listing.settings
    await publish_events(settings, topics.ORDER_EVENTS, [cancelled, shipped])
    await settled(listing, seller_id, 2)
    assert await stock(listing, mug["listing_id"]) == (3, 7)

    cancel = order_cancelled(cancelled)
    await publish_events(settings, topics.ORDER_EVENTS, [cancel, order_cancelled(cancelled)])  # twice
    first = shipment_confirmed(shipped, [(mug["listing_id"], mug["sku"], 3)])
    again = new_event(first.data, seller_id=seller_id, subject=first.subject, time=first.time, source=first.source)
    too_many = shipment_confirmed(shipped, [(mug["listing_id"], mug["sku"], 2)])  # only 1 is left
    await publish_events(settings, topics.FULFILLMENT_EVENTS, [first, again, too_many])

    async def applied() -> bool:
        return await stock(listing, mug["listing_id"]) == (6, 1)

    await eventually(applied, what="released 3, shipped 3")
    letters = await read_topic(settings, topics.dlq_topic(topics.FULFILLMENT_EVENTS), expect=1)
    assert [letter.value for letter in letters] == [too_many.to_bytes()]
    assert (await reservation(listing, seller_id, cancelled.data.order_id))["status"] == "released"
    assert (await reservation(listing, seller_id, shipped.data.order_id))["held"] == [
        {"listing_id": mug["listing_id"], "sku": mug["sku"], "quantity": 1}]
    events = await published(listing, topics.LISTING_EVENTS, seller_id=seller_id)
    [released] = of_type(events, RELEASED)
    assert [(line.listing_id, line.quantity) for line in released.lines] == [(mug["listing_id"], 3)]
    [adjusted] = of_type(events, ADJUSTED)
    assert (adjusted.delta, adjusted.available, adjusted.reserved, adjusted.reason, adjusted.order_id) == (
        -3, 6, 1, "shipment", shipped.data.order_id)
