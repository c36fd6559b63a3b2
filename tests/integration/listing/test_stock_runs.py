"""Stock events applied as a run (one set-based pass over consecutive events of a batch) against PostgreSQL:
the same stock, reservations and staged events as one event at a time, in a constant number of statements."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from typing import Any

import asyncpg
import pytest

from services.listing import handlers
from shared.events import Event, new_event, parse_event, topics
from shared.messaging import outbox
from shared.messaging.consumer import BatchProcessor, Incoming, Record
from shared.messaging.dead_letters import H_ERROR_MESSAGE
from shared.runtime import ServiceRuntime
from tests.integration.listing.helpers import (
    ADJUSTED,
    FAILED,
    RELEASED,
    RESERVED,
    new_listing,
    new_seller,
    order_cancelled,
    order_placed,
    order_rejected,
    shipment_confirmed,
)
from tests.support.factories import unique

pytestmark = pytest.mark.integration



def incoming(events: Sequence[Event[Any]]) -> list[Incoming]:
    """Events as the consumer hands them over (logical topic names as physical ones)."""
    return [Incoming(e, Record(e.data.TOPICS[0], 0, i, e.sellerid.encode(), e.to_bytes()), e.data.TOPICS[0])
            for i, e in enumerate(events)]


async def state(conn: asyncpg.Connection, sellers: list[str], outbox_from: int) -> dict[str, Any]:
    """Stock, reservations, consumed shipments and the events staged since `outbox_from` (their ids aside)."""
    staged = await conn.fetch("SELECT topic, key, value FROM outbox WHERE id > $1 AND key = ANY($2) ORDER BY id",
                              outbox_from, sellers)
    events = [parse_event(row["value"], topic=row["topic"]) for row in staged]
    return {
        "stock": [tuple(r) for r in await conn.fetch(
            "SELECT listing_id, on_hand, reserved, updated_at FROM listings WHERE seller_id = ANY($1)"
            " ORDER BY listing_id", sellers)],
        "reservations": [dict(r) for r in await conn.fetch(
            "SELECT * FROM reservations WHERE seller_id = ANY($1) ORDER BY seller_id, order_id", sellers)],
        "shipments": [tuple(r) for r in await conn.fetch(
            "SELECT shipment_id, order_id, consumed_at FROM shipments_consumed WHERE seller_id = ANY($1)"
            " ORDER BY shipment_id", sellers)],
        "staged": [(e.type, e.sellerid, e.subject, e.time, e.data.model_dump()) for e in events],
    }


async def applied(conn: asyncpg.Connection, events: Sequence[Event[Any]], *, one_by_one: bool = False
                  ) -> dict[str, Any]:
    """The state the events leave, applied as one run (or each alone in a savepoint, as the consumer isolates
    a failed batch), then rolled back: every call starts from the same state."""
    sellers = sorted({e.sellerid for e in events})
    transaction = conn.transaction()
    await transaction.start()
    try:
        outbox_from = await conn.fetchval("SELECT coalesce(max(id), 0) FROM outbox")
        statements: list[Any] = []
        with conn.query_logger(statements.append):
            if one_by_one:
                for item in incoming(events):
                    async with conn.transaction(), outbox.batched(conn):
                        await handlers.events(conn, [item])
            else:
                async with outbox.batched(conn):
                    await handlers.events(conn, incoming(events))
            await asyncio.sleep(0)  # the query logger reports on the next turn of the loop
        return {**await state(conn, sellers, outbox_from), "statements": len(statements)}
    finally:
        await transaction.rollback()


def line(listed: dict[str, Any], quantity: int, *, by_sku: bool = False) -> dict[str, Any]:
    return {"sku": listed["sku"], "quantity": quantity} if by_sku else {"listing_id": listed["listing_id"],
                                                                         "quantity": quantity}


def copy(event: Event[Any]) -> Event[Any]:
    """The same event under another event id (a producer's retry)."""
    return new_event(event.data, seller_id=event.sellerid, subject=event.subject, time=event.time, source=event.source)


async def test_a_mixed_run_of_two_sellers_leaves_what_the_events_one_by_one_leave(listing: ServiceRuntime) -> None:
    seller_a, http_a = await new_seller(listing)
    seller_b, http_b = await new_seller(listing)
    async with http_a, http_b:
        mug = await new_listing(http_a, seller_a, quantity=5, handling_days=2)
        plate = await new_listing(http_a, seller_a, quantity=2, handling_days=4)
        cup = await new_listing(http_b, seller_b, quantity=3)
    o1 = order_placed(seller_a, [line(mug, 2), line(plate, 1, by_sku=True)])
    o2 = order_placed(seller_b, [line(cup, 2)])
    o3 = order_placed(seller_a, [line(mug, 3)])
    o4 = order_placed(seller_a, [line(mug, 1)])
    later = order_placed(seller_a, [line(plate, 2)])
    run = [
        order_cancelled(later),  # before its order is placed: nothing to release yet
        o1, o2, o3,
        o4,  # mug is sold out: refused
        shipment_confirmed(o1, [(mug["listing_id"], mug["sku"], 1)]),  # o1 still holds 1 mug and 1 plate
        order_cancelled(o1),  # releases them
        order_placed(seller_b, [line(cup, 1)]),
        order_placed(seller_a, [line(mug, 1)]),  # the mug o1 gave back
        order_rejected(o2),
        shipment_confirmed(o3, [(mug["listing_id"], mug["sku"], 3)]),  # o3 shipped in full
        copy(o4),  # the same order again: skipped
        order_cancelled(o1),  # again: nothing left to release
        order_placed(seller_b, [line(cup, 3)]),  # 2 left: refused
        order_placed(seller_b, [{"listing_id": "L-none", "quantity": 1}]),
        later,
    ]

    async with listing.context.pool.acquire() as conn:
        as_run = await applied(conn, run)
        one_by_one = await applied(conn, run, one_by_one=True)

    assert {k: v for k, v in as_run.items() if k != "statements"} == {
        k: v for k, v in one_by_one.items() if k != "statements"}
    assert [(listing_id, on_hand, reserved) for listing_id, on_hand, reserved, _ in as_run["stock"]] == sorted([
        (mug["listing_id"], 1, 1), (plate["listing_id"], 2, 2), (cup["listing_id"], 3, 1)])
    statuses = {r["order_id"]: r["status"] for r in as_run["reservations"]}
    assert [statuses[e.data.order_id] for e in (o1, o2, o3, o4, later)] == [
        "released", "released", "shipped", "failed", "held"]
    assert [event_type for event_type, *_ in as_run["staged"]] == [
        RESERVED, RESERVED, RESERVED, FAILED, ADJUSTED, RELEASED, RESERVED, RESERVED, RELEASED, ADJUSTED,
        FAILED, FAILED, RESERVED]


async def test_an_order_placed_twice_in_one_run_reserves_once(listing: ServiceRuntime) -> None:
    seller_id, http = await new_seller(listing)
    async with http:
        mug = await new_listing(http, seller_id, quantity=10)
    placed = order_placed(seller_id, [line(mug, 3)])
    changed = order_placed(seller_id, [line(mug, 5)], order_id=placed.data.order_id)

    async with listing.context.pool.acquire() as conn:
        after = await applied(conn, [placed, copy(placed), changed])

    assert [(on_hand, reserved) for _, on_hand, reserved, _ in after["stock"]] == [(10, 3)]
    [reservation] = after["reservations"]
    assert (reservation["status"], reservation["held"]) == (
        "held", [{"listing_id": mug["listing_id"], "sku": mug["sku"], "quantity": 3}])
    assert [(event_type, data["order_id"]) for event_type, _, _, _, data in after["staged"]] == [
        (RESERVED, placed.data.order_id)]


async def test_the_last_unit_wanted_by_two_orders_of_one_run_goes_to_the_first(listing: ServiceRuntime) -> None:
    seller_id, http = await new_seller(listing)
    async with http:
        mug = await new_listing(http, seller_id, quantity=1)
    first, second = (order_placed(seller_id, [line(mug, 1)]) for _ in range(2))

    for run in ([first, second], [second, first]):
        async with listing.context.pool.acquire() as conn:
            after = await applied(conn, run)

        assert [(on_hand, reserved) for _, on_hand, reserved, _ in after["stock"]] == [(1, 1)]
        assert [(t, data["order_id"]) for t, _, _, _, data in after["staged"]] == [
            (RESERVED, run[0].data.order_id), (FAILED, run[1].data.order_id)]
        assert after["staged"][1][4]["reason"] == "out_of_stock"


async def test_a_run_costs_the_same_statements_for_six_events_as_for_six_hundred(listing: ServiceRuntime) -> None:
    seller_id, http = await new_seller(listing)
    async with http:
        mugs = [await new_listing(http, seller_id, quantity=1000) for _ in range(4)]
    first = mugs[0]
    held = [order_placed(seller_id, [line(first, 2)]) for _ in range(400)]

    def mixed(n: int) -> list[Event[Any]]:
        """New orders, and cancellations and shipments of orders placed before."""
        return [event for k in range(n // 3) for event in (
            order_placed(seller_id, [line(mugs[k % 4], 1)]), order_cancelled(held[2 * k]),
            shipment_confirmed(held[2 * k + 1], [(first["listing_id"], first["sku"], 1)]))]

    async with listing.context.pool.acquire() as conn:
        async with conn.transaction(), outbox.batched(conn):
            await handlers.events(conn, incoming(held))
        await applied(conn, mixed(6))  # a connection's first use of a query looks up its types
        six, six_hundred = [await applied(conn, mixed(n)) for n in (6, 600)]

    # claim orders, claim shipments, sellers, reservations, listings; write listings, reservations, outbox
    assert six["statements"] == six_hundred["statements"] == 8
    statuses = Counter(r["status"] for r in six_hundred["reservations"])
    assert statuses == {"held": 200 + 200, "released": 200}


async def test_an_event_a_run_cannot_apply_is_dead_lettered_alone(listing: ServiceRuntime) -> None:
    """The batch rolls back and is applied again one event at a time: the rest of it still applies."""
    seller_id, http = await new_seller(listing)
    async with http:
        mug = await new_listing(http, seller_id, quantity=10)
    placed, other = order_placed(seller_id, [line(mug, 2)]), order_placed(seller_id, [line(mug, 1)])
    too_many = shipment_confirmed(placed, [(mug["listing_id"], mug["sku"], 3)])
    pool = listing.context.pool
    processor = BatchProcessor(pool=pool, handler=handlers.events, service="listing", group=unique("G"),
                               logical_topic=lambda physical: physical)

    await processor.process([item.record for item in incoming([placed, too_many, other])])

    assert await pool.fetchrow("SELECT on_hand, reserved FROM listings WHERE listing_id = $1",
                               mug["listing_id"]) == (10, 3)
    letters = await pool.fetch("SELECT value, headers FROM outbox WHERE topic = $1 AND key = $2",
                               topics.dlq_topic(topics.FULFILLMENT_EVENTS), seller_id)
    assert [letter["value"] for letter in letters] == [too_many.to_bytes()]
    assert "3 of" in letters[0]["headers"][H_ERROR_MESSAGE] and "2 reserved" in letters[0]["headers"][H_ERROR_MESSAGE]
