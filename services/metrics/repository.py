"""SQL for the metrics schema: batch upserts (unnest) so a consumed batch costs a few round trips."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import asyncpg

from services.metrics.domain import BucketKey, OrderFact, SalesBucket


async def insert_new_orders(conn: asyncpg.Connection, facts: Sequence[OrderFact]) -> list[OrderFact]:
    """Record order facts; return those not seen before (an order counts once)."""
    if not facts:
        return []
    rows = await conn.fetch(
        "INSERT INTO order_facts (seller_id, order_id, purchased_at, fulfillment_channel, currency, total, units)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[],"
        " $6::numeric[], $7::int[])"
        " ON CONFLICT (seller_id, order_id) DO NOTHING RETURNING seller_id, order_id",
        [f.seller_id for f in facts], [f.order_id for f in facts], [f.purchased_at for f in facts],
        [f.fulfillment_channel for f in facts], [f.currency for f in facts], [f.total for f in facts],
        [f.units for f in facts],
    )
    new = {(r["seller_id"], r["order_id"]) for r in rows}
    return [f for f in facts if (f.seller_id, f.order_id) in new]


async def add_sales(conn: asyncpg.Connection, buckets: dict[BucketKey, SalesBucket]) -> None:
    if not buckets:
        return
    keys = sorted(buckets)  # a fixed order: two replicas' batches never deadlock on the same rows
    await conn.execute(
        "INSERT INTO sales_daily (seller_id, day, currency, orders, units, gross)"
        " SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::int[], $5::int[], $6::numeric[])"
        " ON CONFLICT (seller_id, day, currency) DO UPDATE SET orders = sales_daily.orders + EXCLUDED.orders,"
        " units = sales_daily.units + EXCLUDED.units, gross = sales_daily.gross + EXCLUDED.gross",
        [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys],
        [buckets[k].orders for k in keys], [buckets[k].units for k in keys], [buckets[k].gross for k in keys],
    )


async def sales_rows(
    pool: asyncpg.Pool, seller_id: str, first: date, last: date
) -> list[tuple[date, str, int, int, Decimal]]:
    records = await pool.fetch(
        "SELECT day, currency, orders, units, gross FROM sales_daily"
        " WHERE seller_id = $1 AND day BETWEEN $2 AND $3",
        seller_id, first, last,
    )
    return [(r["day"], r["currency"], r["orders"], r["units"], r["gross"]) for r in records]
