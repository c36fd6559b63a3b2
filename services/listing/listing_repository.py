"""SQL for listings (locking order: see repository.py); their stock changes and reservations: stock_repository.py."""

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
