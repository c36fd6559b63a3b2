"""What the batch tests of the order service share: its consumer on a schema of its own (the real
`BatchProcessor` and the service's dispatcher, fed records directly: no broker), a snapshot of what it
stored and staged, and the events of an order's life (we play the storefront, listing and fulfillment).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from services.order import handlers
from services.order.app import SPEC
from shared import db
from shared.events import Event, new_event, topics
from shared.events.common import Carrier
from shared.events.fulfillment import ShipmentConfirmed, ShipmentDelivered, ShipmentLine
from shared.events.ingress import CheckoutOrderPlaced
from shared.messaging.consumer import BatchProcessor, Record
from shared.settings import Settings


@dataclass
class Consumer:
    """The order service's batch consumer on its own schema; `statements` counts what it sends PostgreSQL."""

    dsn: str
    schema: str
    pool: asyncpg.Pool
    processor: BatchProcessor
    statements: list[str] = field(default_factory=list)
    _offset: int = 0

    async def apply(self, events: Sequence[Event[Any]]) -> None:
        """One consumed batch: the events in this order, on their topics."""
        records = []
        for event in events:
            self._offset += 1
            records.append(Record(event.data.TOPICS[0], 0, self._offset, event.sellerid.encode(), event.to_bytes()))
        await self.processor.process(records)

    async def apply_one_by_one(self, events: Sequence[Event[Any]]) -> None:
        for event in events:
            await self.apply([event])

    async def snapshot(self) -> Snapshot:
        orders = await self.pool.fetch("SELECT * FROM orders ORDER BY seller_id, order_id")
        staged = await self.pool.fetch("SELECT topic, key, event_type, value, headers FROM outbox ORDER BY id")
        traces: dict[str, str] = {}
        # Data keys are random: what compares is whether an order has one.
        return Snapshot([{**row, "data_key": row["data_key"] is not None} for row in orders],
                        [_staged(row, traces) for row in staged])


@dataclass(frozen=True)
class Snapshot:
    orders: list[dict[str, Any]]
    #: In staging order. Ids of events made up on the spot are left out, and trace contexts are named by
    #: first appearance: what they tell is which rows share the trace of the event that caused them.
    outbox: list[dict[str, Any]]

    def of(self, event_type: str) -> list[dict[str, Any]]:
        return [row for row in self.outbox if row["event_type"] == event_type]


def _staged(row: asyncpg.Record, traces: dict[str, str]) -> dict[str, Any]:
    staged = dict(row)
    if "traceparent" in staged["headers"]:
        trace = staged["headers"]["traceparent"]
        staged["headers"]["traceparent"] = traces.setdefault(trace, f"trace {len(traces) + 1}")
    if not staged["topic"].endswith(topics.DLQ_SUFFIX):
        staged["value"] = json.loads(staged["value"])
        if staged["event_type"] != "sellerflow.order.confirmed.v1":  # the one id derived from the order
            del staged["value"]["id"]
        staged["value"] = _unsealed(staged["value"])
    return staged


def _unsealed(value: Any) -> Any:
    """A sealed envelope (random key and nonce) as the mark that something was sealed there."""
    if isinstance(value, dict):
        return "sealed" if value.get("enc") == "v1" else {k: _unsealed(v) for k, v in value.items()}
    return [_unsealed(v) for v in value] if isinstance(value, list) else value


@asynccontextmanager
async def consumer(settings: Settings, name: str) -> AsyncIterator[Consumer]:
    """The consumer on a fresh schema `name` of this test's prefix; the schema is dropped on exit."""
    assert settings.database_url
    dsn, schema = settings.database_url.get_secret_value(), f"{settings.db_schema_prefix}{name}"
    await db.migrate(dsn, schema, [db.MESSAGING_MIGRATIONS, SPEC.migrations])
    pool = await db.create_pool(dsn, schema, size=1)
    try:
        processor = BatchProcessor(pool=pool, handler=handlers.events, service="order", group=f"{schema}-order",
                                   logical_topic=lambda physical: physical)
        started = Consumer(dsn, schema, pool, processor)
        async with pool.acquire() as conn:  # the pool's one connection: every statement is seen
            conn.add_query_logger(lambda query: started.statements.append(query.query))
        yield started
    finally:
        await pool.close()
        await db.drop_schema(dsn, schema)


# --- what other systems send ----------------------------------------------------------------------


def placed_again(placed: Event[Any]) -> Event[Any]:
    """The storefront resends an order: the same order id, a new event id."""
    return new_event(placed.data_as(CheckoutOrderPlaced), seller_id=placed.sellerid, subject=placed.subject,
                     time=placed.time, source=placed.source)


def shipped(placed: Event[Any], shipment_id: str, lines: Sequence[tuple[str, str, int]], at: datetime,
            channel: str = "merchant") -> Event[Any]:
    """Fulfillment's `shipment.confirmed`: (listing, sku, units) leave at `at`."""
    order = placed.data_as(CheckoutOrderPlaced)
    data = ShipmentConfirmed(
        order_id=order.order_id, purchased_at=order.purchased_at, fulfillment_channel=channel,
        shipment_id=shipment_id, shipped_at=at, ship_by=order.purchased_at + timedelta(days=1),
        deliver_by=order.purchased_at + timedelta(days=8), carrier=Carrier.UPS,
        tracking_number="1Z999AA10123456784", tracking_format_valid=True,
        lines=[ShipmentLine(listing_id=listing, sku=sku, quantity=units) for listing, sku, units in lines],
    )
    return new_event(data, seller_id=placed.sellerid, subject=shipment_id, time=at, source="/sellerflow/fulfillment")


def delivered(shipment: Event[Any], at: datetime) -> Event[Any]:
    facts = shipment.data_as(ShipmentConfirmed)
    data = ShipmentDelivered(
        order_id=facts.order_id, purchased_at=facts.purchased_at, fulfillment_channel=facts.fulfillment_channel,
        shipment_id=facts.shipment_id, shipped_at=facts.shipped_at, ship_by=facts.ship_by,
        deliver_by=facts.deliver_by, delivered_at=at,
    )
    return new_event(data, seller_id=shipment.sellerid, subject=facts.shipment_id, time=at,
                     source="/sellerflow/fulfillment")
