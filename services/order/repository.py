"""SQL for the order schema, and the explicit mapping between rows and the `Order` aggregate.

Deadlines the clock-tick handler needs are stored beside the state (`auto_cancel_at`, `erase_at`)
and indexed where not NULL, so a tick finds the due orders without scanning the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from services.order.domain import CLOSED, Order, OrderLine, ShipTo
from services.order.promises import OrderPolicy, auto_cancel_deadline, pii_erasure_due
from shared.events.common import CancelledBy, FulfillmentChannel, OrderStatus, ShippingSpeed
from shared.events.order import OrderRejection

#: Every column but the keys, in the order `_values` gives them.
_STATE = (
    "buyer_id", "status", "currency", "total", "purchased_at", "shipping_speed", "fulfillment_channel", "lines",
    "ship_to", "ship_to_country", "ship_by", "deliver_by", "shipped", "shipments", "last_shipped_at",
    "cancellation_requested_at", "cancellation_request_reason", "cancelled_by", "cancel_reason",
    "rejection_reason", "rejection_detail", "delivered_at", "closed_at", "pii_erased_at", "auto_cancel_at",
    "erase_at", "updated_at",
)  # fmt: skip
_COLUMNS = ", ".join(("seller_id", "order_id", *_STATE))
_SELECT = f"SELECT {_COLUMNS} FROM orders"


def _values(order: Order, policy: OrderPolicy, at: datetime) -> list[Any]:
    """The row of an order: keys first, then `_STATE` in order."""
    cancellable = order.status is OrderStatus.UNSHIPPED and order.channel is FulfillmentChannel.MERCHANT
    auto_cancel_at = auto_cancel_deadline(order.ship_by, policy) if cancellable and order.ship_by else None
    erasable = order.status in CLOSED and order.closed_at is not None and order.pii_erased_at is None
    erase_at = pii_erasure_due(order.closed_at, policy) if erasable and order.closed_at else None
    lines = [{"listing_id": line.listing_id, "sku": line.sku, "quantity": line.quantity,
              "unit_price": {"amount": str(line.unit_price), "currency": order.currency}} for line in order.lines]
    shipments = {sid: (d.isoformat() if d else None) for sid, d in order.shipments.items()}
    to = order.ship_to
    ship_to = {"name": to.name, "lines": list(to.lines), "city": to.city, "region": to.region,
               "postal_code": to.postal_code, "country": to.country, "phone": to.phone}
    return [
        order.seller_id, order.id, order.buyer_id, order.status.value, order.currency, order.total,
        order.purchased_at, order.shipping_speed.value, order.channel.value, lines, ship_to, to.country,
        order.ship_by, order.deliver_by, order.shipped, shipments, order.last_shipped_at,
        order.cancellation_requested_at, order.cancellation_request_reason,
        order.cancelled_by.value if order.cancelled_by else None, order.cancel_reason,
        order.rejection_reason.value if order.rejection_reason else None, order.rejection_detail,
        order.delivered_at, order.closed_at, order.pii_erased_at, auto_cancel_at, erase_at, at,
    ]  # fmt: skip


def _order(row: asyncpg.Record) -> Order:
    to = row["ship_to"]
    return Order(
        id=row["order_id"],
        seller_id=row["seller_id"],
        buyer_id=row["buyer_id"],
        lines=tuple(
            OrderLine(line["sku"], line["quantity"], Decimal(line["unit_price"]["amount"]), line["listing_id"])
            for line in row["lines"]
        ),
        currency=row["currency"],
        purchased_at=row["purchased_at"],
        ship_to=ShipTo(to["name"], tuple(to["lines"]), to["city"], to["region"], to["postal_code"], to["country"],
                       to.get("phone")),
        shipping_speed=ShippingSpeed(row["shipping_speed"]),
        channel=FulfillmentChannel(row["fulfillment_channel"]),
        status=OrderStatus(row["status"]),
        ship_by=row["ship_by"],
        deliver_by=row["deliver_by"],
        shipped=dict(row["shipped"]),
        shipments={sid: datetime.fromisoformat(d) if d else None for sid, d in row["shipments"].items()},
        last_shipped_at=row["last_shipped_at"],
        cancellation_requested_at=row["cancellation_requested_at"],
        cancellation_request_reason=row["cancellation_request_reason"],
        cancelled_by=CancelledBy(row["cancelled_by"]) if row["cancelled_by"] else None,
        cancel_reason=row["cancel_reason"],
        rejection_reason=OrderRejection(row["rejection_reason"]) if row["rejection_reason"] else None,
        rejection_detail=row["rejection_detail"],
        delivered_at=row["delivered_at"],
        closed_at=row["closed_at"],
        pii_erased_at=row["pii_erased_at"],
    )


async def insert_new(conn: asyncpg.Connection, order: Order, policy: OrderPolicy, at: datetime) -> bool:
    """Insert unless the seller already has this order id; True when inserted."""
    values = _values(order, policy, at)
    placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    result: str = await conn.execute(
        f"INSERT INTO orders ({_COLUMNS}) VALUES ({placeholders}) ON CONFLICT (seller_id, order_id) DO NOTHING",
        *values,
    )
    return result.endswith(" 1")


async def save(conn: asyncpg.Connection, orders: Sequence[Order], policy: OrderPolicy, at: datetime) -> None:
    """Write back orders loaded (and locked) in this transaction: one statement, pipelined."""
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(_STATE, start=3))
    await conn.executemany(
        f"UPDATE orders SET {assignments} WHERE seller_id = $1 AND order_id = $2",
        [_values(order, policy, at) for order in orders],
    )


async def load(conn: asyncpg.Connection, seller_id: str, order_id: str, *, for_update: bool = True) -> Order | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"{_SELECT} WHERE seller_id = $1 AND order_id = $2{lock}", seller_id, order_id)
    return _order(row) if row else None


async def due_for_auto_cancel(conn: asyncpg.Connection, now: datetime, limit: int) -> list[Order]:
    """Unshipped merchant orders whose ship-by + grace has passed, locked (index orders_auto_cancel_due)."""
    rows = await conn.fetch(
        f"{_SELECT} WHERE auto_cancel_at < $1 ORDER BY auto_cancel_at, seller_id, order_id LIMIT $2 FOR UPDATE",
        now, limit,
    )
    return [_order(row) for row in rows]


async def due_for_erasure(conn: asyncpg.Connection, now: datetime, limit: int) -> list[Order]:
    """Closed orders whose personal data retention is over, locked (index orders_erasure_due)."""
    rows = await conn.fetch(
        f"{_SELECT} WHERE erase_at <= $1 ORDER BY erase_at, seller_id, order_id LIMIT $2 FOR UPDATE", now, limit,
    )
    return [_order(row) for row in rows]


async def forget_sent_events(conn: asyncpg.Connection, event_ids: Sequence[Any]) -> None:
    """Delete relayed outbox rows: the copies of events that carried personal data (section 8)."""
    await conn.execute("DELETE FROM outbox WHERE event_id = ANY($1::uuid[]) AND sent_at IS NOT NULL", list(event_ids))


async def get(conn: asyncpg.Connection | asyncpg.Pool, seller_id: str, order_id: str) -> Order | None:
    row = await conn.fetchrow(f"{_SELECT} WHERE seller_id = $1 AND order_id = $2", seller_id, order_id)
    return _order(row) if row else None


async def list_for_seller(
    pool: asyncpg.Pool, seller_id: str, *, status: str | None, limit: int, offset: int
) -> list[Order]:
    """A seller's orders by due date: ship-by first (unconfirmed ones last), then purchase time."""
    rows = await pool.fetch(
        f"{_SELECT} WHERE seller_id = $1 AND ($2::text IS NULL OR status = $2)"
        " ORDER BY ship_by NULLS LAST, purchased_at, order_id LIMIT $3 OFFSET $4",
        seller_id, status, limit, offset,
    )
    return [_order(row) for row in rows]
