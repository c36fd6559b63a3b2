"""SQL for stock: the reservation of each order, the shipments consumed, and stock changes of a run of events.

Set-based: a run of events claims, locks and writes with one statement per table, whatever its length.
Locks are taken in the locking order of repository.py (the seller rows first; then reservations and
listings, each in key order), so a run never deadlocks with an HTTP command. Stock changes are
guarded updates on rows the caller locked, and a CHECK constraint stands behind them: stock never
goes negative, even if a caller errs.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.listing.listing_repository import ListingRow
from services.listing.repository import Executor, Lock, columns_of, lock_clause

OrderKey = tuple[str, str]  # (seller id, order id)
ShipmentKey = tuple[str, str]  # (seller id, shipment id)


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

    @property
    def key(self) -> OrderKey:
        return self.seller_id, self.order_id


@dataclass(frozen=True)
class StockChange:
    """What a run did to one listing: units off the shelf and out of reservations, net, and when last."""

    listing_id: str
    on_hand_delta: int
    reserved_delta: int
    at: datetime


class StockConflict(RuntimeError):
    """A guarded stock update touched fewer rows than asked: the caller's decision was stale."""


# --- claims: once per order and per shipment, whatever the event id --------------------------------


async def claim_orders(conn: asyncpg.Connection, claims: Sequence[tuple[str, str, datetime]]) -> set[OrderKey]:
    """(seller id, order id, at) for each order; returns those seen for the first time (each is
    reserved, or refused, once). Give each order once."""
    rows = await conn.fetch(
        "INSERT INTO reservations (seller_id, order_id, status, created_at, updated_at)"
        " SELECT s, o, 'pending', t, t FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS c(s, o, t)"
        " ON CONFLICT (seller_id, order_id) DO NOTHING RETURNING seller_id, order_id",
        *_columns(sorted(claims), 3),
    )
    return {(row["seller_id"], row["order_id"]) for row in rows}


async def claim_shipments(
    conn: asyncpg.Connection, claims: Sequence[tuple[str, str, str, datetime]]
) -> set[ShipmentKey]:
    """(seller id, shipment id, order id, at) for each shipment; returns those whose units are not
    consumed yet. Give each shipment once."""
    rows = await conn.fetch(
        "INSERT INTO shipments_consumed (seller_id, shipment_id, order_id, consumed_at)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])"
        " ON CONFLICT (seller_id, shipment_id) DO NOTHING RETURNING seller_id, shipment_id",
        *_columns(sorted(claims), 4),
    )
    return {(row["seller_id"], row["shipment_id"]) for row in rows}


# --- reservations ----------------------------------------------------------------------------------


async def get_reservation(conn: Executor, seller_id: str, order_id: str, *, lock: Lock = None) -> ReservationRow | None:
    record = await conn.fetchrow(
        f"SELECT {columns_of(ReservationRow)} FROM reservations"
        f" WHERE seller_id = $1 AND order_id = $2{lock_clause(lock)}",
        seller_id, order_id,
    )
    return ReservationRow(**dict(record)) if record else None


async def lock_reservations(conn: asyncpg.Connection, keys: Collection[OrderKey]) -> dict[OrderKey, ReservationRow]:
    """The reservations of these orders (those that exist), locked in key order."""
    records = await conn.fetch(
        f"SELECT {columns_of(ReservationRow)} FROM reservations"
        " WHERE (seller_id, order_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))"
        " ORDER BY seller_id, order_id FOR UPDATE",
        *_columns(sorted(keys), 2),
    )
    rows = [ReservationRow(**dict(r)) for r in records]
    return {row.key: row for row in rows}


async def save_reservations(conn: asyncpg.Connection, rows: Collection[ReservationRow]) -> None:
    """Write each reservation's state (its row exists: claimed or locked by the caller), in key order."""
    await conn.executemany(
        "UPDATE reservations SET status = $3, held = $4, failure_reason = $5, detail = $6, updated_at = $7"
        " WHERE seller_id = $1 AND order_id = $2",
        [(r.seller_id, r.order_id, r.status, r.held, r.failure_reason, r.detail, r.updated_at)
         for r in sorted(rows, key=lambda r: r.key)],
    )


# --- listings' stock -------------------------------------------------------------------------------


async def lock_stock(
    conn: asyncpg.Connection, by_id: Collection[tuple[str, str]], by_sku: Collection[tuple[str, str]]
) -> list[ListingRow]:
    """The listings named (seller id, listing id) or (seller id, SKU), of that seller, locked in listing id order."""
    records = await conn.fetch(
        f"SELECT {columns_of(ListingRow)} FROM listings WHERE listing_id IN ("
        " SELECT l.listing_id FROM unnest($1::text[], $2::text[]) AS k(seller_id, listing_id)"
        "  JOIN listings l ON l.seller_id = k.seller_id AND l.listing_id = k.listing_id"
        " UNION ALL"
        " SELECT l.listing_id FROM unnest($3::text[], $4::text[]) AS k(seller_id, sku)"
        "  JOIN listings l ON l.seller_id = k.seller_id AND l.sku = k.sku"
        ") ORDER BY listing_id FOR UPDATE",
        *_columns(sorted(by_id), 2), *_columns(sorted(by_sku), 2),
    )
    return [ListingRow(**dict(r)) for r in records]


async def change_stock(conn: asyncpg.Connection, changes: Collection[StockChange]) -> None:
    """Apply each listing's net change, only where the stock it leaves is not negative (the rows are
    locked by the caller, so a refusal means its decision was wrong: StockConflict)."""
    ordered = sorted(changes, key=lambda c: c.listing_id)
    result: str = await conn.execute(
        "UPDATE listings l SET on_hand = l.on_hand + v.dh, reserved = l.reserved + v.dr, updated_at = v.at"
        " FROM unnest($1::text[], $2::int[], $3::int[], $4::timestamptz[]) AS v(id, dh, dr, at)"
        " WHERE l.listing_id = v.id AND l.reserved + v.dr >= 0 AND l.on_hand + v.dh >= l.reserved + v.dr",
        *_columns([(c.listing_id, c.on_hand_delta, c.reserved_delta, c.at) for c in ordered], 4),
    )
    if int(result.split()[-1]) != len(ordered):
        raise StockConflict(f"stock changed under a lock: {result}")


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as `width` column arrays, for unnest."""
    return [[row[i] for row in rows] for i in range(width)]
