"""A consumed batch applied set-based, on the real PostgreSQL: the same orders and the same staged events
as applying its events one by one, a duplicate order applied once, a refused event dead-lettered alone,
and a few statements per batch whatever its size.

Each test runs the order service's real consumer (`BatchProcessor` and the service's dispatcher) on
schemas of its own, fed records directly: no broker.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from services.order import repository, service
from shared.clock import tick
from shared.events import Event, topics
from shared.events.common import ReservationFailure
from shared.settings import Settings
from tests.integration.order.batches import Consumer, Snapshot, consumer, delivered, placed_again, shipped
from tests.integration.order.flow import LINES, Line, buyer_cancellation, order_placed, reservation_failed, reserved
from tests.support.factories import T0, unique

pytestmark = pytest.mark.integration

_H = timedelta(hours=1)
_D = timedelta(days=1)
PLACED, CONFIRMED = "sellerflow.order.placed.v1", "sellerflow.order.confirmed.v1"


def life_of_orders(seller: str, base: datetime = T0) -> tuple[list[Event[Any]], list[Event[Any]]]:
    """An order placed in an earlier batch, then one batch that moves it and four new orders through
    their lives, several events per order, with resent orders and a clock tick in between."""
    earlier = order_placed(seller, LINES, purchased_at=base, order_id=f"{seller}-0")
    first = order_placed(seller, LINES, purchased_at=base, order_id=f"{seller}-1")
    refused = order_placed(seller, LINES, purchased_at=base, order_id=f"{seller}-2")
    malformed = order_placed(seller, [Line("L-A", "SKU-A"), Line("L-A", "SKU-Z")], purchased_at=base,
                             order_id=f"{seller}-3")
    market = order_placed(seller, LINES, purchased_at=base, channel="marketplace", order_id=f"{seller}-4")
    part = shipped(earlier, f"{seller}-sh0a", [("L-A", "SKU-A", 1)], base + _D)
    rest = shipped(earlier, f"{seller}-sh0b", [("L-A", "SKU-A", 1), ("L-B", "SKU-B", 1)], base + _D + _H)
    whole = shipped(first, f"{seller}-sh1", [("L-A", "SKU-A", 2), ("L-B", "SKU-B", 1)], base + _D)
    batch = [
        first, refused, reserved(earlier, LINES), reserved(first, LINES, handling_days=2),
        placed_again(first), placed_again(earlier), buyer_cancellation(first, base + _H),
        reservation_failed(refused, ReservationFailure.OUT_OF_STOCK), malformed,
        tick(base + 2 * _H),  # a single-event route: the batch goes on in a second run
        part, whole, rest, delivered(whole, base + 3 * _D), delivered(rest, base + 3 * _D),
        delivered(part, base + 3 * _D + 2 * _H),
        market, reserved(market, LINES), buyer_cancellation(market, base + 3 * _H),
    ]
    return [earlier], batch


def statuses(snapshot: Snapshot) -> dict[str, str]:
    return {row["order_id"]: row["status"] for row in snapshot.orders}


async def test_a_batch_applied_set_based_stores_and_stages_what_applying_it_event_by_event_does(
    settings: Settings,
) -> None:
    seller = unique("S")
    async with consumer(settings, "by_run") as by_run, consumer(settings, "by_event") as by_event:
        for applied in (by_run, by_event):
            earlier, batch = life_of_orders(seller)
            await applied.apply(earlier)
            applied.statements.clear()
            if applied is by_run:
                await by_run.apply(batch)
            else:
                await by_event.apply_one_by_one(batch)
        together, one_by_one = await by_run.snapshot(), await by_event.snapshot()

    assert together.orders == one_by_one.orders
    assert together.outbox == one_by_one.outbox
    assert statuses(together) == {f"{seller}-0": "delivered", f"{seller}-1": "delivered", f"{seller}-2": "rejected",
                                  f"{seller}-3": "rejected", f"{seller}-4": "unshipped"}
    assert [row["value"]["subject"] for row in together.of(PLACED)] == [f"{seller}-{n}" for n in (0, 1, 2, 4)]
    assert len(together.outbox) == 25 and not [row for row in together.outbox if row["topic"].endswith(".dlq")]
    # Two runs (the clock tick splits the batch), a few statements each; event by event, a few per event.
    assert len(by_run.statements) < 20 < 3 * len(batch) < len(by_event.statements)


async def test_an_order_placed_again_in_the_same_batch_is_applied_once_with_every_change_of_the_batch(
    settings: Settings,
) -> None:
    seller = unique("S")
    placed, other = (order_placed(seller, LINES, purchased_at=T0) for _ in range(2))
    batch = [placed, placed_again(placed), reserved(placed, LINES), placed_again(placed),
             buyer_cancellation(placed, T0 + _H), other]
    async with consumer(settings, "orders") as orders:
        await orders.apply(batch)
        stored = await orders.snapshot()
        acknowledged = await orders.pool.fetchval("SELECT count(*) FROM inbox")

    assert statuses(stored) == {placed.data.order_id: "unshipped", other.data.order_id: "pending"}
    [row] = [row for row in stored.orders if row["order_id"] == placed.data.order_id]
    assert row["cancellation_requested_at"] == T0 + _H and row["updated_at"] == T0 + _H
    assert row["ship_by"] is not None  # inserted once, in its state after the whole batch
    about = [(row["value"]["subject"], row["event_type"].split(".")[2]) for row in stored.outbox]
    assert about == [(placed.data.order_id, "placed"), (placed.data.order_id, "status_changed"),
                     (placed.data.order_id, "confirmed"), (placed.data.order_id, "status_changed"),
                     (placed.data.order_id, "cancellation_requested"),
                     (other.data.order_id, "placed"), (other.data.order_id, "status_changed")]
    assert acknowledged == len(batch)  # every event, resent orders included, is acknowledged


async def test_a_refused_event_of_a_batch_is_dead_lettered_and_the_rest_of_the_batch_applies(
    settings: Settings,
) -> None:
    seller = unique("S")
    first, second = (order_placed(seller, LINES, purchased_at=T0) for _ in range(2))
    twice = reserved(first, LINES)  # a second reservation of an unshipped order: refused
    stranger = reserved(order_placed(seller, LINES, purchased_at=T0), LINES)  # an order never placed here
    batch = [first, second, reserved(first, LINES), twice, stranger, reserved(second, LINES)]
    async with consumer(settings, "orders") as orders:
        await orders.apply(batch)
        stored = await orders.snapshot()

    assert statuses(stored) == {first.data.order_id: "unshipped", second.data.order_id: "unshipped"}
    letters = {row["value"]: row["headers"]["dlq.error.message"] for row in stored.outbox
               if row["topic"] == topics.dlq_topic(topics.LISTING_EVENTS)}
    refused = f"order {first.data.order_id}: confirm refused: the order is unshipped (to unshipped)"
    assert letters == {twice.to_bytes(): refused,
                       stranger.to_bytes(): f"order {stranger.data.order_id}: unknown to this seller"}
    assert [row["value"]["subject"] for row in stored.of(CONFIRMED)] == [first.data.order_id, second.data.order_id]


async def test_a_batch_of_500_orders_costs_a_few_statements_not_a_few_per_order(settings: Settings) -> None:
    seller = unique("S")
    placed = [order_placed(seller, LINES, purchased_at=T0) for _ in range(500)]
    async with consumer(settings, "orders") as orders:
        warm = order_placed(seller, LINES, purchased_at=T0)
        await orders.apply([warm, reserved(warm, LINES)])  # the connection learns its types once
        orders.statements.clear()
        await orders.apply(placed)
        placing = list(orders.statements)
        orders.statements.clear()
        await orders.apply([reserved(order, LINES) for order in placed])
        confirming = list(orders.statements)
        stored = await orders.snapshot()

    # BEGIN, inbox claims, orders locked, orders inserted or updated, outbox rows, COMMIT; an ingress batch
    # also reads the latest clock tick once (the door's time bound, design.md section 3).
    assert placing[0] == "SELECT latest_tick FROM business_clock"
    assert len(placing) - 1 == len(confirming) == 6, (placing, confirming)
    assert statuses(stored) == {order.data.order_id: "unshipped" for order in [warm, *placed]}
    assert len(stored.outbox) == 4 * 501


async def test_an_order_another_transaction_places_meanwhile_is_acknowledged_not_placed_twice(
    settings: Settings,
) -> None:
    seller = unique("S")
    alone, changed = (order_placed(seller, LINES, purchased_at=T0) for _ in range(2))
    async with consumer(settings, "orders") as orders:
        for batch in ([alone], [changed, reserved(changed, LINES)]):
            await _placed_meanwhile(orders, batch)
        stored = await orders.snapshot()

    assert statuses(stored) == {alone.data.order_id: "pending", changed.data.order_id: "unshipped"}
    # Only what this consumer did: the placements were someone else's; the confirmation applied to the stored order.
    about = [(row["value"]["subject"], row["event_type"].split(".")[2]) for row in stored.outbox]
    assert about == [(changed.data.order_id, "confirmed"), (changed.data.order_id, "status_changed")]


async def _placed_meanwhile(orders: Consumer, batch: list[Event[Any]]) -> None:
    """Apply `batch` while another transaction inserts its first order, committed once the batch waits on it."""
    placement = service.place_order(batch[0])
    other = await asyncpg.connect(orders.dsn, server_settings={"search_path": orders.schema})
    watcher = await asyncpg.connect(orders.dsn)
    try:
        pid = await orders.pool.fetchval("SELECT pg_backend_pid()")
        async with other.transaction():
            await repository.insert_new(other, [(placement.order, placement.at)], service.POLICY)
            applying = asyncio.create_task(orders.apply(batch))
            waiting = "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'"
            for _ in range(2000):  # 20 s at most
                if applying.done() or await watcher.fetchval(waiting, pid):
                    break
                await asyncio.sleep(0.01)
            assert not applying.done(), "the batch did not wait for the other transaction"
        await applying
    finally:
        await other.close()
        await watcher.close()
