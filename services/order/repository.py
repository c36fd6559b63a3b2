"""SQL for the order schema, and the explicit mapping between rows and what the service uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg


@dataclass(frozen=True)
class OrderRow:
    seller_id: str
    order_id: str
    buyer_id: str
    status: str
    currency: str
    total: Decimal
    purchased_at: datetime
    shipping_speed: str
    fulfillment_channel: str
    lines: list[dict[str, Any]]
    ship_to: dict[str, Any] | None
    ship_to_country: str
    ship_by: datetime | None
    deliver_by: datetime | None
    updated_at: datetime


_COLUMNS = ", ".join(OrderRow.__dataclass_fields__)


def _row(record: asyncpg.Record) -> OrderRow:
    return OrderRow(**dict(record))


async def insert_new(conn: asyncpg.Connection, order: OrderRow) -> bool:
    """Insert unless the seller already has this order id; True when inserted."""
    values = [getattr(order, name) for name in OrderRow.__dataclass_fields__]
    placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    result: str = await conn.execute(
        f"INSERT INTO orders ({_COLUMNS}) VALUES ({placeholders}) ON CONFLICT (seller_id, order_id) DO NOTHING",
        *values,
    )
    return result.endswith(" 1")


async def get(conn: asyncpg.Connection | asyncpg.Pool, seller_id: str, order_id: str) -> OrderRow | None:
    record = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM orders WHERE seller_id = $1 AND order_id = $2", seller_id, order_id
    )
    return _row(record) if record else None


async def list_for_seller(
    pool: asyncpg.Pool, seller_id: str, *, status: str | None, limit: int, offset: int
) -> list[OrderRow]:
    """A seller's orders by due date: ship-by first (unconfirmed ones last), then purchase time."""
    records = await pool.fetch(
        f"SELECT {_COLUMNS} FROM orders WHERE seller_id = $1 AND ($2::text IS NULL OR status = $2)"
        " ORDER BY ship_by NULLS LAST, purchased_at, order_id LIMIT $3 OFFSET $4",
        seller_id, status, limit, offset,
    )
    return [_row(r) for r in records]
