"""SQL for the order schema, and the explicit mapping between rows and the `Order` aggregate.

Deadlines the clock-tick handler needs are stored beside the state (`auto_cancel_at`, `erase_at`)
and indexed where not NULL, so a tick finds the due orders without scanning the table.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from services.order.domain import Order, OrderLine, ShipTo
from services.order.promises import OrderPolicy, auto_cancel_deadline
from shared.crypto import DataKey
from shared.events.common import CancelledBy, FulfillmentChannel, OrderStatus, ShippingSpeed
from shared.events.order import OrderRejection

OrderKey = tuple[str, str]  # (seller_id, order_id)
#: An order and the business time of its last change (its `updated_at`).
Stamped = tuple[Order, datetime]

#: Every column but the keys, in the order `_values` gives them, with its type (for `insert_new`).
_STATE_TYPES = {
    "buyer_id": "text", "status": "text", "currency": "text", "total": "numeric", "purchased_at": "timestamptz",
    "shipping_speed": "text", "fulfillment_channel": "text", "lines": "jsonb", "ship_to": "jsonb",
    "ship_to_country": "text", "ship_by": "timestamptz", "deliver_by": "timestamptz", "shipped": "jsonb",
    "shipments": "jsonb", "last_shipped_at": "timestamptz", "cancellation_requested_at": "timestamptz",
    "cancellation_request_reason": "text", "cancelled_by": "text", "cancel_reason": "text",
    "rejection_reason": "text", "rejection_detail": "text", "delivered_at": "timestamptz",
    "closed_at": "timestamptz", "pii_erased_at": "timestamptz", "auto_cancel_at": "timestamptz",
    "erase_at": "timestamptz", "updated_at": "timestamptz", "data_key": "bytea", "lost_parcels": "jsonb",
}  # fmt: skip
_STATE = tuple(_STATE_TYPES)
_TYPES = {"seller_id": "text", "order_id": "text", **_STATE_TYPES}
_COLUMNS = ", ".join(_TYPES)
#: Rows as one array per column. A jsonb value comes as JSON text: a JSON array in a jsonb[] would read as a
#: dimension of the array.
_UNNEST = ", ".join(f"${i}::{'text' if kind == 'jsonb' else kind}[]" for i, kind in enumerate(_TYPES.values(), 1))
_UNNESTED = ", ".join(f"{name}::jsonb" if kind == "jsonb" else name for name, kind in _TYPES.items())
_SELECT = f"SELECT {_COLUMNS} FROM orders"


def _values(order: Order, policy: OrderPolicy, at: datetime) -> list[Any]:
    """The row of an order: keys first, then `_STATE` in order."""
    cancellable = order.status is OrderStatus.UNSHIPPED and order.channel is FulfillmentChannel.MERCHANT
    auto_cancel_at = auto_cancel_deadline(order.ship_by, policy) if cancellable and order.ship_by else None
    erase_at = order.erasure_due_at(policy)
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
        order.data_key.secret if order.data_key else None,
        {sid: lost_at.isoformat() for sid, lost_at in order.lost_parcels.items()},
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
        data_key=DataKey(row["data_key"]) if row["data_key"] else None,
        lost_parcels={sid: datetime.fromisoformat(at) for sid, at in row["lost_parcels"].items()},
    )


async def insert_new(conn: asyncpg.Connection, orders: Sequence[Stamped], policy: OrderPolicy) -> set[OrderKey]:
    """Insert, in one statement, the orders their sellers do not have yet; the keys inserted.

    An order id the seller already has is left as it is (ON CONFLICT DO NOTHING): the caller acknowledges
    it without applying it again.
    """
    if not orders:
        return set()
    columns = zip(*(_values(order, policy, at) for order, at in orders), strict=True)
    arrays = [[None if v is None else json.dumps(v, default=str) for v in column] if kind == "jsonb" else list(column)
              for column, kind in zip(columns, _TYPES.values(), strict=True)]
    rows = await conn.fetch(
        f"INSERT INTO orders ({_COLUMNS}) SELECT {_UNNESTED} FROM unnest({_UNNEST}) AS new ({_COLUMNS})"
        " ON CONFLICT (seller_id, order_id) DO NOTHING RETURNING seller_id, order_id",
        *arrays,
    )
    return {(row["seller_id"], row["order_id"]) for row in rows}


async def save(conn: asyncpg.Connection, orders: Sequence[Stamped], policy: OrderPolicy) -> None:
    """Write back orders loaded (and locked) in this transaction: one statement, pipelined."""
    if not orders:
        return
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(_STATE, start=3))
    await conn.executemany(
        f"UPDATE orders SET {assignments} WHERE seller_id = $1 AND order_id = $2",
        [_values(order, policy, at) for order, at in orders],
    )


async def load(conn: asyncpg.Connection, seller_id: str, order_id: str, *, for_update: bool = True) -> Order | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"{_SELECT} WHERE seller_id = $1 AND order_id = $2{lock}", seller_id, order_id)
    return _order(row) if row else None


async def load_locked(conn: asyncpg.Connection, keys: Collection[OrderKey]) -> dict[OrderKey, Order]:
    """The orders of these keys that exist, in one statement, locked in key order (seller, then order id):
    two transactions locking sets of orders, or one order (an HTTP command), never wait on each other in a
    cycle."""
    if not keys:
        return {}
    sellers, order_ids = zip(*keys, strict=True)
    rows = await conn.fetch(
        f"{_SELECT} WHERE (seller_id, order_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))"
        " ORDER BY seller_id, order_id FOR UPDATE",
        list(sellers), list(order_ids),
    )
    return {(row["seller_id"], row["order_id"]): _order(row) for row in rows}


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
    """Delete relayed outbox rows of events that carried (sealed) personal data (section 8)."""
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
