"""SQL for listings, their stock and the reservations of orders (locking order: see repository.py).

Stock changes are conditional updates (`... WHERE on_hand - reserved >= q`) on rows the caller has
locked, and a CHECK constraint stands behind them: stock never goes negative, even if a caller errs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from services.listing.repository import Executor, Lock, columns_of, lock_clause, placeholders_of


@dataclass(frozen=True)
class ListingRow:
    listing_id: str
    seller_id: str
    sku: str
    product_id: str
    product_key: str
    title: str
    brand: str
    description: str
    bullet_points: list[str]
    condition: str
    price: Decimal
    currency: str
    handling_days: int
    fulfillment_channel: str
    image_urls: list[str]
    category: str | None
    status: str
    paused: bool
    held: bool
    suppressed_by: list[str]
    on_hand: int
    reserved: int
    created_at: datetime
    updated_at: datetime

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class ReservationRow:
    seller_id: str
    order_id: str
    status: str  # pending (being decided), held, released, shipped, failed
    held: list[dict[str, Any]]  # [{listing_id, sku, quantity}]: units still held
    failure_reason: str | None
    detail: str | None
    created_at: datetime
    updated_at: datetime


class SkuTaken(Exception):
    pass


class ListingIdTaken(Exception):
    pass


class DuplicateDetailPage(Exception):
    """L8 raced: another listing of the same product and condition was stored meanwhile."""


_MUTABLE = [f.name for f in fields(ListingRow) if f.name not in ("listing_id", "seller_id", "created_at")]


async def _guarded(conn: asyncpg.Connection, sql: str, *args: Any) -> None:
    try:
        async with conn.transaction():  # a savepoint: the caller's transaction survives a refusal
            await conn.execute(sql, *args)
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name == "listings_one_sku_per_seller":
            raise SkuTaken(str(args[0])) from None
        if error.constraint_name == "listings_pkey":
            raise ListingIdTaken(str(args[0])) from None
        raise DuplicateDetailPage(str(args[0])) from None


async def insert_listing(conn: asyncpg.Connection, row: ListingRow) -> None:
    await _guarded(conn, f"INSERT INTO listings ({columns_of(ListingRow)}) VALUES ({placeholders_of(ListingRow)})",
                   *astuple(row))


async def save_listing(conn: asyncpg.Connection, row: ListingRow) -> None:
    """Write every column a seller's change may touch."""
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(_MUTABLE, start=2))
    await _guarded(conn, f"UPDATE listings SET {assignments} WHERE listing_id = $1",
                   row.listing_id, *(getattr(row, name) for name in _MUTABLE))


async def get_listing(conn: Executor, listing_id: str, *, lock: Lock = None) -> ListingRow | None:
    record = await conn.fetchrow(
        f"SELECT {columns_of(ListingRow)} FROM listings WHERE listing_id = $1{lock_clause(lock)}", listing_id
    )
    return ListingRow(**dict(record)) if record else None


async def listings_of(
    conn: Executor, seller_id: str, *, status: str | None = None, limit: int = 10_000, offset: int = 0,
    lock: Lock = None,
) -> list[ListingRow]:
    records = await conn.fetch(
        f"SELECT {columns_of(ListingRow)} FROM listings WHERE seller_id = $1 AND ($2::text IS NULL OR status = $2)"
        f" ORDER BY listing_id LIMIT $3 OFFSET $4{lock_clause(lock)}",
        seller_id, status, limit, offset,
    )
    return [ListingRow(**dict(r)) for r in records]


async def lists_product(
    conn: Executor, seller_id: str, product_key: str, condition: str, *, besides: str
) -> bool:
    """L8: another listing of the seller (not suppressed) has this product and condition."""
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM listings WHERE seller_id = $1 AND product_key = $2 AND condition = $3"
        " AND listing_id <> $4 AND status <> 'suppressed')",
        seller_id, product_key, condition, besides,
    )
    return found


async def set_standing(
    conn: asyncpg.Connection, changes: Sequence[tuple[str, str, bool]], at: datetime
) -> None:
    """(listing id, status, held) for each listing an account change switches."""
    await conn.executemany(
        "UPDATE listings SET status = $2, held = $3, updated_at = $4 WHERE listing_id = $1",
        [(listing_id, status, held, at) for listing_id, status, held in changes],
    )


# --- stock -----------------------------------------------------------------------------------------


async def lock_for_order(
    conn: asyncpg.Connection, seller_id: str, listing_ids: Sequence[str], skus: Sequence[str]
) -> list[ListingRow]:
    """The seller's listings an order names by id or SKU, locked in listing id order."""
    records = await conn.fetch(
        f"SELECT {columns_of(ListingRow)} FROM listings WHERE seller_id = $1"
        " AND (listing_id = ANY($2::text[]) OR sku = ANY($3::text[])) ORDER BY listing_id FOR UPDATE",
        seller_id, list(listing_ids), list(skus),
    )
    return [ListingRow(**dict(r)) for r in records]


async def lock_listings(conn: asyncpg.Connection, listing_ids: Sequence[str]) -> list[ListingRow]:
    records = await conn.fetch(
        f"SELECT {columns_of(ListingRow)} FROM listings WHERE listing_id = ANY($1::text[])"
        " ORDER BY listing_id FOR UPDATE",
        sorted(set(listing_ids)),
    )
    return [ListingRow(**dict(r)) for r in records]


class StockConflict(RuntimeError):
    """A guarded stock update touched fewer rows than asked: the caller's decision was stale."""


async def _stock_update(
    conn: asyncpg.Connection, sql: str, lines: Sequence[tuple[str, int]], at: datetime
) -> None:
    ids, quantities = [listing_id for listing_id, _ in lines], [q for _, q in lines]
    result: str = await conn.execute(sql, ids, quantities, at)
    if int(result.split()[-1]) != len(lines):
        raise StockConflict(f"stock changed under a lock: {result}")


async def reserve_units(conn: asyncpg.Connection, lines: Sequence[tuple[str, int]], at: datetime) -> None:
    """Reserve (listing id, units) for each line, only where that many units are available."""
    await _stock_update(
        conn,
        "UPDATE listings l SET reserved = l.reserved + v.q, updated_at = $3"
        " FROM unnest($1::text[], $2::int[]) AS v(id, q) WHERE l.listing_id = v.id AND l.on_hand - l.reserved >= v.q",
        lines, at,
    )


async def release_units(conn: asyncpg.Connection, lines: Sequence[tuple[str, int]], at: datetime) -> None:
    await _stock_update(
        conn,
        "UPDATE listings l SET reserved = l.reserved - v.q, updated_at = $3"
        " FROM unnest($1::text[], $2::int[]) AS v(id, q) WHERE l.listing_id = v.id AND l.reserved >= v.q",
        lines, at,
    )


async def ship_units(conn: asyncpg.Connection, lines: Sequence[tuple[str, int]], at: datetime) -> None:
    """Reserved units leave with a shipment: off the shelf and out of the reservation."""
    await _stock_update(
        conn,
        "UPDATE listings l SET reserved = l.reserved - v.q, on_hand = l.on_hand - v.q, updated_at = $3"
        " FROM unnest($1::text[], $2::int[]) AS v(id, q) WHERE l.listing_id = v.id AND l.reserved >= v.q",
        lines, at,
    )


# --- reservations ----------------------------------------------------------------------------------


async def claim_order(conn: asyncpg.Connection, seller_id: str, order_id: str, at: datetime) -> bool:
    """True the first time an order is seen: it is reserved (or refused) once, whatever the event id."""
    result: str = await conn.execute(
        "INSERT INTO reservations (seller_id, order_id, status, created_at, updated_at)"
        " VALUES ($1, $2, 'pending', $3, $3) ON CONFLICT (seller_id, order_id) DO NOTHING",
        seller_id, order_id, at,
    )
    return result.endswith(" 1")


async def get_reservation(conn: Executor, seller_id: str, order_id: str, *, lock: Lock = None) -> ReservationRow | None:
    record = await conn.fetchrow(
        f"SELECT {columns_of(ReservationRow)} FROM reservations"
        f" WHERE seller_id = $1 AND order_id = $2{lock_clause(lock)}",
        seller_id, order_id,
    )
    return ReservationRow(**dict(record)) if record else None


async def save_reservation(conn: asyncpg.Connection, row: ReservationRow) -> None:
    await conn.execute(
        "UPDATE reservations SET status = $3, held = $4, failure_reason = $5, detail = $6, updated_at = $7"
        " WHERE seller_id = $1 AND order_id = $2",
        row.seller_id, row.order_id, row.status, row.held, row.failure_reason, row.detail, row.updated_at,
    )


async def claim_shipment(
    conn: asyncpg.Connection, seller_id: str, shipment_id: str, order_id: str, at: datetime
) -> bool:
    """True the first time a shipment's units are consumed."""
    result: str = await conn.execute(
        "INSERT INTO shipments_consumed (seller_id, shipment_id, order_id, consumed_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (seller_id, shipment_id) DO NOTHING",
        seller_id, shipment_id, order_id, at,
    )
    return result.endswith(" 1")
