"""What the fulfillment batch and bulk tests share: the events the order service and the carriers would
send, a fulfillment schema of a test's own, and its state in a form two runs can be compared by."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg

from services.fulfillment import handlers
from shared import db
from shared.events import Event, new_event, topics
from shared.events import order as orders
from shared.events.common import CancelledBy, Carrier, ScanStatus
from shared.events.ingress import CarrierScanRecorded
from shared.messaging.consumer import BatchProcessor, Record
from shared.settings import Settings
from tests.support.factories import unique

MIGRATIONS = [db.MESSAGING_MIGRATIONS, Path(handlers.__file__).parent / "migrations"]
ADDRESS = {"name": "Ada Buyer", "lines": ["1 Main St"], "city": "Springfield", "region": "IL",
           "postal_code": "62701", "country": "US", "phone": "+1 217 555 0100"}
LINES = (("L-A", "SKU-A", 2), ("L-B", "SKU-B", 1))  # (listing, sku, quantity)


def order_confirmed(seller: str, at: datetime, *, order_id: str | None = None, channel: str = "merchant",
                    lines: Sequence[tuple[str, str, int]] = LINES) -> Event[Any]:
    """The order service's `order.confirmed` (we play the order service): ship by a day, deliver by five."""
    order_id = order_id or unique("O")
    price = {"amount": Decimal("10.00"), "currency": "USD"}
    data = orders.OrderConfirmed.model_validate({
        "order_id": order_id, "purchased_at": at, "fulfillment_channel": channel, "shipping_speed": "standard",
        "lines": [{"listing_id": listing, "sku": sku, "quantity": qty, "unit_price": price}
                  for listing, sku, qty in lines],
        "currency": "USD", "total": {"amount": Decimal("10.00") * sum(q for _, _, q in lines), "currency": "USD"},
        "ship_by": at + timedelta(days=1), "deliver_by": at + timedelta(days=5),
        "ship_to": ADDRESS if channel == "merchant" else None,
    })
    return new_event(data, seller_id=seller, subject=order_id, time=at + timedelta(minutes=1),
                     source="/sellerflow/order")


def order_cancelled(confirmed: Event[Any], at: datetime) -> Event[Any]:
    order = confirmed.data_as(orders.OrderConfirmed)
    data = orders.OrderCancelled(order_id=order.order_id, purchased_at=order.purchased_at,
                                 fulfillment_channel=order.fulfillment_channel, by=CancelledBy.SELLER,
                                 reason="no stock", before_shipment=True, cancelled_at=at)
    return new_event(data, seller_id=confirmed.sellerid, subject=order.order_id, time=at, source="/sellerflow/order")


def address_erased(confirmed: Event[Any], at: datetime) -> Event[Any]:
    order_id = confirmed.data_as(orders.OrderConfirmed).order_id
    data = orders.OrderPiiErased(order_id=order_id, trigger=orders.ErasureTrigger.CANCELLED)
    return new_event(data, seller_id=confirmed.sellerid, subject=order_id, time=at, source="/sellerflow/order")


def scan(seller: str, carrier: Carrier, number: str, status: ScanStatus, at: datetime) -> Event[Any]:
    """A carrier's scan; every call a new event id, even for the same scan (carriers resend)."""
    data = CarrierScanRecorded(carrier=carrier, tracking_number=number, status=status, scanned_at=at,
                               location="Springfield, IL")
    return new_event(data, seller_id=seller, subject=number, time=at, source="https://carrier.example/scans")


def records(events: Sequence[Event[Any]]) -> list[Record]:
    """Events as consumed records of their topic (logical names: the processor maps them as they are)."""
    return [Record(topic=event.data.TOPICS[0], partition=0, offset=offset, key=event.key, value=event.to_bytes())
            for offset, event in enumerate(events)]


def processor(pool: asyncpg.Pool) -> BatchProcessor:
    """The fulfillment service's consumer logic on a pool, without a broker."""
    return BatchProcessor(pool=pool, handler=handlers.events, service="fulfillment", group="fulfillment",
                          logical_topic=lambda topic: topic)


@asynccontextmanager
async def fulfillment_schema(settings: Settings, name: str) -> AsyncIterator[asyncpg.Pool]:
    """A migrated fulfillment schema of the test's own, dropped afterwards."""
    assert settings.database_url
    dsn, schema = settings.database_url.get_secret_value(), settings.schema_for(name)
    await db.migrate(dsn, schema, MIGRATIONS)
    pool = await db.create_pool(dsn, schema, size=2)
    try:
        yield pool
    finally:
        await pool.close()
        await db.drop_schema(dsn, schema)


async def state(pool: asyncpg.Pool) -> dict[str, list[Any]]:
    """Every table a consumed event changes, and the outbox as staged (event ids aside: they are new each
    time), in a stable order: equal for two schemas that applied the same events."""
    tables = {
        "orders": "SELECT * FROM orders ORDER BY seller_id, order_id",
        "shipments": "SELECT * FROM shipments ORDER BY seller_id, shipment_id",
        "scans": "SELECT * FROM scans ORDER BY seller_id, shipment_id, scanned_at, status",
        "outbox": "SELECT topic, key, event_type, value FROM outbox ORDER BY id",
    }
    found = {name: [dict(row) for row in await pool.fetch(query)] for name, query in tables.items()}
    for row in found["outbox"]:
        body = json.loads(row.pop("value"))
        if not row["topic"].endswith(topics.DLQ_SUFFIX):
            body.pop("id")
        row["body"] = body
    return found
