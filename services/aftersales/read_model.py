"""The orders this service knows (from order.events and fulfillment.events), and the parked items.

A batch's order and shipment events are folded per order in memory, then written with one
pipelined upsert per table (`executemany`): a batch of 500 events is a few round trips.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeAlias
from uuid import UUID

import asyncpg

from shared.events import Event
from shared.events.common import CancelledBy, FulfillmentChannel, OrderStatus
from shared.events.fulfillment import ShipmentConfirmed, ShipmentDelivered, ShipmentTrackingValidated
from shared.events.order import (
    OrderCancelled,
    OrderConfirmed,
    OrderFacts,
    OrderPlaced,
    OrderRejected,
    OrderStatusChanged,
)
from shared.messaging.consumer import Record

Conn: TypeAlias = asyncpg.Connection | asyncpg.Pool

#: The event types the read model folds.
ORDER_FACTS: tuple[type[OrderFacts], ...] = (
    OrderPlaced, OrderConfirmed, OrderRejected, OrderCancelled, OrderStatusChanged,
    ShipmentConfirmed, ShipmentTrackingValidated, ShipmentDelivered,
)


class NotYet(Exception):
    """The item's order is not known yet (`order`), or its order is not delivered yet (`delivery`):
    the item waits (is parked) and is applied when that fact arrives."""

    def __init__(self, waiting_for: str) -> None:
        super().__init__(f"waiting for the {waiting_for}")
        self.waiting_for = waiting_for


@dataclass(frozen=True)
class KnownOrder:
    """An order as this service knows it."""

    seller_id: str
    order_id: str
    purchased_at: datetime
    fulfillment_channel: FulfillmentChannel
    currency: str
    total: Decimal  # what the buyer paid
    status: str | None
    cancelled_by: str | None
    ship_by: datetime | None
    delivered_at: datetime | None

    @property
    def cancelled_by_seller(self) -> bool:
        """A seller cancellation; a system auto-cancel counts as one (domain.md section 3)."""
        return self.cancelled_by in (CancelledBy.SELLER, CancelledBy.SYSTEM)


@dataclass
class _OrderPatch:
    seller_id: str
    order_id: str
    purchased_at: datetime
    fulfillment_channel: str
    currency: str | None = None
    total: Decimal | None = None
    status: str | None = None
    cancelled_by: str | None = None
    ship_by: datetime | None = None
    delivered_at: datetime | None = None


@dataclass
class _ShipmentPatch:
    seller_id: str
    shipment_id: str
    order_id: str
    shipped_at: datetime
    ship_by: datetime
    tracking_valid: bool | None = None
    first_scan_at: datetime | None = None
    delivered_at: datetime | None = None


def _fold(events: Iterable[Event[Any]]) -> tuple[list[_OrderPatch], list[_ShipmentPatch]]:
    orders: dict[tuple[str, str], _OrderPatch] = {}
    shipments: dict[tuple[str, str], _ShipmentPatch] = {}
    for event in events:
        data = event.data
        assert isinstance(data, OrderFacts)
        key = (event.sellerid, data.order_id)
        order = orders.setdefault(key, _OrderPatch(*key, data.purchased_at, str(data.fulfillment_channel)))
        match data:
            case OrderPlaced() | OrderConfirmed():
                order.currency, order.total = data.currency, data.total.amount
                if isinstance(data, OrderConfirmed):
                    order.ship_by, order.status = data.ship_by, OrderStatus.UNSHIPPED
                elif order.status is None:
                    order.status = OrderStatus.PENDING
            case OrderRejected():
                order.status = OrderStatus.REJECTED
            case OrderCancelled():
                order.status, order.cancelled_by = OrderStatus.CANCELLED, str(data.by)
            case OrderStatusChanged():
                order.status = data.new_status
            case ShipmentConfirmed() | ShipmentTrackingValidated() | ShipmentDelivered():
                shipment = shipments.setdefault(
                    (event.sellerid, data.shipment_id),
                    _ShipmentPatch(event.sellerid, data.shipment_id, data.order_id, data.shipped_at, data.ship_by),
                )
                if isinstance(data, ShipmentConfirmed) and not data.tracking_format_valid:
                    shipment.tracking_valid = False
                elif isinstance(data, ShipmentTrackingValidated):
                    shipment.tracking_valid, shipment.first_scan_at = data.valid, data.first_scan_at
                elif isinstance(data, ShipmentDelivered):
                    shipment.delivered_at = data.delivered_at
                    order.delivered_at = max(order.delivered_at or data.delivered_at, data.delivered_at)
    return list(orders.values()), list(shipments.values())


def _values(patch: _OrderPatch | _ShipmentPatch) -> tuple[Any, ...]:
    # Field by field: `dataclasses.astuple` deep-copies every value (a sixth of this service's CPU).
    values = (getattr(patch, f.name) for f in dataclasses.fields(patch))
    return tuple(str(v) if isinstance(v, OrderStatus) else v for v in values)


async def apply_facts(conn: asyncpg.Connection, events: Sequence[Event[Any]]) -> list[tuple[str, str]]:
    """Fold order and shipment events into the read model; return the (seller, order) keys touched."""
    orders, shipments = _fold(events)
    if orders:
        await conn.executemany(
            "INSERT INTO orders (seller_id, order_id, purchased_at, fulfillment_channel, currency, total, status,"
            " cancelled_by, ship_by, delivered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            " ON CONFLICT (seller_id, order_id) DO UPDATE SET"
            " currency = COALESCE(EXCLUDED.currency, orders.currency),"
            " total = COALESCE(EXCLUDED.total, orders.total),"
            " status = COALESCE(EXCLUDED.status, orders.status),"
            " cancelled_by = COALESCE(EXCLUDED.cancelled_by, orders.cancelled_by),"
            " ship_by = COALESCE(EXCLUDED.ship_by, orders.ship_by),"
            " delivered_at = GREATEST(orders.delivered_at, EXCLUDED.delivered_at)",
            [_values(order) for order in orders],
        )
    if shipments:
        await conn.executemany(
            "INSERT INTO shipments (seller_id, shipment_id, order_id, shipped_at, ship_by, tracking_valid,"
            " first_scan_at, delivered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " ON CONFLICT (seller_id, shipment_id) DO UPDATE SET"
            " tracking_valid = COALESCE(EXCLUDED.tracking_valid, shipments.tracking_valid),"
            " first_scan_at = COALESCE(shipments.first_scan_at, EXCLUDED.first_scan_at),"
            " delivered_at = COALESCE(EXCLUDED.delivered_at, shipments.delivered_at)",
            [_values(shipment) for shipment in shipments],
        )
    return [(order.seller_id, order.order_id) for order in orders]


async def known_order(conn: Conn, seller_id: str, order_id: str, *, lock: bool = False) -> KnownOrder | None:
    """The order, if order.placed or order.confirmed was seen; `lock` serialises refunds of one order."""
    record = await conn.fetchrow(
        "SELECT seller_id, order_id, purchased_at, fulfillment_channel, currency, total, status, cancelled_by,"
        " ship_by, delivered_at FROM orders WHERE seller_id = $1 AND order_id = $2 AND total IS NOT NULL"
        + (" FOR UPDATE" if lock else ""),
        seller_id, order_id,
    )
    if record is None:
        return None
    values = dict(record)
    values["fulfillment_channel"] = FulfillmentChannel(values["fulfillment_channel"])
    values["currency"] = values["currency"].strip()
    return KnownOrder(**values)


@dataclass(frozen=True)
class ShippingRecord:
    shipped_on_time: bool  # every shipment confirmed (or first scanned) by ship-by
    tracking_valid: bool  # every shipment's tracking judged valid


async def shipping_record(conn: Conn, seller_id: str, order_id: str) -> ShippingRecord:
    record = await conn.fetchrow(
        "SELECT count(*) > 0 AND coalesce(bool_and(shipped_at <= ship_by"
        "   OR coalesce(first_scan_at <= ship_by, false)), false) AS on_time,"
        " count(*) > 0 AND coalesce(bool_and(tracking_valid IS TRUE), false) AS tracking_valid"
        " FROM shipments WHERE seller_id = $1 AND order_id = $2",
        seller_id, order_id,
    )
    assert record is not None
    return ShippingRecord(record["on_time"], record["tracking_valid"])


async def erase_texts(conn: Conn, seller_id: str, order_id: str) -> None:
    """The order's personal data was erased: so are the words buyers and sellers wrote about it."""
    await conn.execute(
        "UPDATE buyer_messages SET subject = NULL, body = NULL WHERE seller_id = $1 AND order_id = $2",
        seller_id, order_id,
    )
    await conn.execute(
        "UPDATE seller_messages SET body = NULL WHERE seller_id = $1 AND order_id = $2", seller_id, order_id
    )


async def erase_orderless_texts(conn: Conn, before: datetime) -> None:
    """Messages about no order: their words go `orderless_text_retention` after the last of them."""
    await conn.execute(
        "UPDATE buyer_messages SET subject = NULL, body = NULL WHERE order_id IS NULL"
        " AND (subject IS NOT NULL OR body IS NOT NULL) AND coalesce(replied_at, received_at) <= $1", before,
    )
    await conn.execute(
        "UPDATE seller_messages SET body = NULL WHERE order_id IS NULL AND body IS NOT NULL AND sent_at <= $1", before
    )


# --- parked items ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parked:
    id: int
    seller_id: str
    order_id: str
    waiting_for: str
    logical_topic: str
    record: Record


async def park(
    conn: asyncpg.Connection, *, seller_id: str, order_id: str, waiting_for: str, event_id: UUID, event_type: str,
    record: Record, logical_topic: str, parked_at: datetime, expires_at: datetime,
) -> bool:
    """Keep an item until its order arrives; False if it is parked already (a redelivery)."""
    result: str = await conn.execute(
        "INSERT INTO parked (seller_id, order_id, waiting_for, event_id, event_type, value, topic, logical_topic,"
        ' partition, "offset", key, header_names, header_values, parked_at, expires_at)'
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT DO NOTHING",
        seller_id, order_id, waiting_for, event_id, event_type, record.value, record.topic, logical_topic,
        record.partition, record.offset, record.key, [name for name, _ in record.headers],
        [value for _, value in record.headers], parked_at, expires_at,
    )
    return result.endswith(" 1")


def _parked(row: asyncpg.Record) -> Parked:
    record = Record(row["topic"], row["partition"], row["offset"], row["key"], row["value"],
                    tuple(zip(row["header_names"], row["header_values"], strict=True)))
    return Parked(row["id"], row["seller_id"], row["order_id"], row["waiting_for"], row["logical_topic"], record)


async def parked_for(conn: asyncpg.Connection, keys: Sequence[tuple[str, str]]) -> list[Parked]:
    """Items waiting for any of these orders, in arrival order, locked."""
    if not keys:
        return []
    rows = await conn.fetch(
        "SELECT p.* FROM parked p JOIN unnest($1::text[], $2::text[]) AS k(seller_id, order_id)"
        " USING (seller_id, order_id) ORDER BY p.id FOR UPDATE OF p",
        [seller for seller, _ in keys], [order for _, order in keys],
    )
    return [_parked(row) for row in rows]


async def unpark(conn: asyncpg.Connection, parked_id: int) -> None:
    await conn.execute("DELETE FROM parked WHERE id = $1", parked_id)


async def expire_parked(conn: asyncpg.Connection, now: datetime) -> list[Parked]:
    """Remove and return the items that waited too long (by business time), oldest first."""
    rows = await conn.fetch("DELETE FROM parked WHERE expires_at <= $1 RETURNING *", now)
    return sorted((_parked(row) for row in rows), key=lambda parked: parked.id)


async def wait_for(conn: asyncpg.Connection, parked_id: int, waiting_for: str) -> None:
    """The order arrived but the item still waits, now for something else (a return for the delivery)."""
    await conn.execute("UPDATE parked SET waiting_for = $2 WHERE id = $1", parked_id, waiting_for)
