"""Consumed events applied set-based, on PostgreSQL: a run of carrier scans or of order events leaves the
same shipments, orders, scans and staged events as applying the same events one by one, in a few
statements whatever its length; a refused event is dead-lettered alone.

The fulfillment consumer's own logic (`BatchProcessor` with the service's dispatcher) on schemas of the
test's own, without a broker: one schema takes the events as one batch, the other one event per batch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from services.fulfillment import service
from services.fulfillment.tracking import marketplace_tracking_number
from shared.events import Event, topics
from shared.events.common import Carrier, ScanStatus
from shared.events.fulfillment import ShipmentDelivered, ShipmentTrackingUpdated, ShipmentTrackingValidated
from shared.messaging import outbox
from shared.messaging.consumer import Incoming
from shared.settings import Settings
from tests.integration.fulfillment.support import (
    address_erased,
    fulfillment_schema,
    order_cancelled,
    order_confirmed,
    processor,
    records,
    scan,
    state,
)
from tests.support.factories import T0, unique

pytestmark = pytest.mark.integration

UPS, DHL, USPS = "1Z999AA10123456784", "3318810025", "RA123456785US"
HOUR = timedelta(hours=1)


async def ship(pool: asyncpg.Pool, confirmed: Sequence[Event[Any]], parcels: Sequence[tuple[Carrier, str]],
               at: datetime) -> None:
    """The orders known (from their `order.confirmed`), then each shipped whole as one parcel at `at`."""
    await processor(pool).process(records(confirmed))
    async with pool.acquire() as conn, conn.transaction():
        for order, (carrier, number) in zip(confirmed, parcels, strict=True):
            request = service.NewShipment(order.data.order_id, carrier, number,
                                          [("SKU-A", None, 2), ("SKU-B", None, 1)], at)
            [answer] = await service.confirm_shipments(conn, order.sellerid, [request])
            assert answer.new


def isolated(caplog: pytest.LogCaptureFixture) -> bool:
    """Did a batch fail and get applied event by event? (Then it was not applied as a run.)"""
    return any("isolating events" in record.getMessage() for record in caplog.records)


async def test_a_run_of_scans_leaves_what_applying_them_one_by_one_leaves(
        settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    first, second = unique("S"), unique("S")
    confirmed = [order_confirmed(first, T0), order_confirmed(first, T0), order_confirmed(second, T0),
                 order_confirmed(second, T0)]
    parcels = [(Carrier.UPS, UPS), (Carrier.DHL, DHL), (Carrier.DHL, DHL), (Carrier.USPS, USPS)]
    scans = [
        scan(first, Carrier.UPS, UPS, ScanStatus.IN_TRANSIT, T0 + 5 * HOUR),
        scan(second, Carrier.DHL, DHL, ScanStatus.IN_TRANSIT, T0 + 6 * HOUR),  # the same number, another seller
        scan(first, Carrier.UPS, UPS.lower(), ScanStatus.OUT_FOR_DELIVERY, T0 + 20 * HOUR),  # sees the first
        scan(first, Carrier.UPS, UPS, ScanStatus.IN_TRANSIT, T0 + 5 * HOUR),  # the first resent: applied once
        scan(first, Carrier.DHL, DHL, ScanStatus.IN_TRANSIT, T0 + 7 * HOUR),
        scan(first, Carrier.UPS, UPS, ScanStatus.DELIVERED, T0 + 30 * HOUR),
        scan(second, Carrier.USPS, USPS, ScanStatus.DELIVERED, T0 + 26 * HOUR),
    ]
    caplog.set_level(logging.WARNING, logger="shared.messaging.consumer")
    async with fulfillment_schema(settings, "fulfillment_run") as as_run, \
            fulfillment_schema(settings, "fulfillment_one") as one_by_one:
        for pool in (as_run, one_by_one):
            await ship(pool, confirmed, parcels, T0 + HOUR)
        await processor(as_run).process(records(scans))
        for record in records(scans):
            await processor(one_by_one).process([record])
        applied = await state(as_run)
        assert applied == await state(one_by_one)
    assert not isolated(caplog)

    assert len(applied["scans"]) == 6, "the resent scan is stored once"
    staged = [(row["key"], row["event_type"], row["body"]["data"]) for row in applied["outbox"]]
    updates = [(key, data["tracking_number"], data["status"]) for key, kind, data in staged
               if kind == ShipmentTrackingUpdated.EVENT_TYPE]
    assert updates == [(first, UPS, "in_transit"), (second, DHL, "in_transit"), (first, UPS, "out_for_delivery"),
                       (first, DHL, "in_transit"), (first, UPS, "delivered"), (second, USPS, "delivered")]
    validated = [(key, data["valid"]) for key, kind, data in staged if kind == ShipmentTrackingValidated.EVENT_TYPE]
    assert sorted(validated) == sorted([(first, True), (first, True), (second, True), (second, True)])
    delivered = {(row["seller_id"], row["tracking_number"]): row["delivered_at"] for row in applied["shipments"]}
    assert delivered == {(first, UPS): T0 + 30 * HOUR, (first, DHL): None, (second, DHL): None,
                         (second, USPS): T0 + 26 * HOUR}
    assert sum(kind == ShipmentDelivered.EVENT_TYPE for _, kind, _ in staged) == 2


async def test_a_scan_refused_in_a_run_is_dead_lettered_alone_and_the_rest_of_the_run_applies(
        settings: Settings) -> None:
    seller = unique("S")
    confirmed = [order_confirmed(seller, T0), order_confirmed(seller, T0)]
    stray = scan(seller, Carrier.FEDEX, "986578788855", ScanStatus.IN_TRANSIT, T0 + 5 * HOUR)
    early = scan(seller, Carrier.DHL, DHL, ScanStatus.DELIVERED, T0 + HOUR / 2)  # before the shipment
    scans = [scan(seller, Carrier.UPS, UPS, ScanStatus.IN_TRANSIT, T0 + 5 * HOUR), stray, early,
             scan(seller, Carrier.DHL, DHL, ScanStatus.IN_TRANSIT, T0 + 6 * HOUR),
             scan(seller, Carrier.UPS, UPS, ScanStatus.DELIVERED, T0 + 30 * HOUR)]
    async with fulfillment_schema(settings, "fulfillment") as pool:
        await ship(pool, confirmed, [(Carrier.UPS, UPS), (Carrier.DHL, DHL)], T0 + HOUR)
        await processor(pool).process(records(scans))
        applied = await state(pool)
        letters = await pool.fetch("SELECT value, headers FROM outbox WHERE topic = $1 ORDER BY id",
                                   topics.dlq_topic(topics.INGRESS_CARRIER))
    assert [letter["value"] for letter in letters] == [stray.to_bytes(), early.to_bytes()]
    reasons = [letter["headers"]["dlq.error.message"] for letter in letters]
    assert "tracking number 986578788855" in reasons[0] and "before the shipment" in reasons[1]
    assert sorted((row["status"], row["scanned_at"]) for row in applied["scans"]) == [
        ("delivered", T0 + 30 * HOUR), ("in_transit", T0 + 5 * HOUR), ("in_transit", T0 + 6 * HOUR)]


async def test_a_run_of_order_events_leaves_what_applying_them_one_by_one_leaves(
        settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    seller = unique("S")
    merchant, marketplace, erased = (order_confirmed(seller, T0), order_confirmed(seller, T0, channel="marketplace"),
                                     order_confirmed(seller, T0))
    again = order_confirmed(seller, T0 + HOUR, order_id=merchant.data.order_id)  # another event, the same order
    stranger = order_confirmed(seller, T0)  # never confirmed here: its cancellation is not ours
    events = [merchant, marketplace, erased, order_cancelled(marketplace, T0 + 2 * HOUR),
              address_erased(erased, T0 + 3 * HOUR), again, order_cancelled(stranger, T0 + 2 * HOUR)]
    caplog.set_level(logging.WARNING, logger="shared.messaging.consumer")
    async with fulfillment_schema(settings, "fulfillment_run") as as_run, \
            fulfillment_schema(settings, "fulfillment_one") as one_by_one:
        await processor(as_run).process(records(events))
        for record in records(events):
            await processor(one_by_one).process([record])
        applied = await state(as_run)
        assert applied == await state(one_by_one)
    assert not isolated(caplog)

    orders = {row["order_id"]: row for row in applied["orders"]}
    assert set(orders) == {merchant.data.order_id, marketplace.data.order_id, erased.data.order_id}
    assert orders[merchant.data.order_id]["confirmed_at"] == merchant.time, "the first confirmation stays"
    cancelled = orders[marketplace.data.order_id]
    assert cancelled["cancelled_at"] == T0 + 2 * HOUR and cancelled["ship_due_at"] is None
    assert orders[erased.data.order_id]["address_erased_at"] == T0 + 3 * HOUR
    ship_to = orders[erased.data.order_id]["ship_to"]
    assert ship_to["name"] is None and ship_to["city"] == "Springfield"


class Counting:
    """A connection that counts the statements sent through it: each is one round trip."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self.statements = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._conn, name)
        if name not in ("fetch", "fetchrow", "fetchval", "execute", "executemany"):
            return attribute

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.statements += 1
            return await attribute(*args, **kwargs)

        return counted


async def test_a_run_of_scans_costs_a_few_statements_however_long_it_is(settings: Settings) -> None:
    seller = unique("S")
    confirmed = [order_confirmed(seller, T0) for _ in range(50)]
    numbers = [marketplace_tracking_number(order.data.order_id) for order in confirmed]
    scans = [scan(seller, Carrier.MARKETPLACE, number, status, T0 + hours * HOUR) for status, hours in
             ((ScanStatus.IN_TRANSIT, 5), (ScanStatus.OUT_FOR_DELIVERY, 20)) for number in numbers]
    runs = [[Incoming(event, record, record.topic) for event, record in zip(part, records(part), strict=True)]
            for part in (scans[:1], scans)]
    async with fulfillment_schema(settings, "fulfillment") as pool:
        await ship(pool, confirmed, [(Carrier.MARKETPLACE, number) for number in numbers], T0 + HOUR)
        statements = []
        for run in runs:
            async with pool.acquire() as conn:
                transaction = conn.transaction()
                await transaction.start()
                counting = Counting(conn)
                async with outbox.batched(counting):  # a stand-in for the connection
                    await service.record_scans(counting, run)
                statements.append(counting.statements)
                assert await conn.fetchval("SELECT count(*) FROM scans") == len(run)
                await transaction.rollback()
    # read shipments, read their scans, insert scans, write shipments back, stage events
    assert statements == [5, 5]
