"""SQL for the fulfillment schema, and the explicit mapping between rows and domain objects.

Deadlines for clock ticks are stored beside the state (`ship_due_at`, `overdue_due_at`,
`scan_deadline`) and indexed where not NULL: a tick reads only what is due.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.fulfillment.domain import FulfillmentPolicy, Scan, Shipment
from services.fulfillment.orders import Address, OrderLine, OrderToShip
from services.fulfillment.tracking import TrackingStatus
from shared.events.common import Carrier, FulfillmentChannel, ScanStatus
from shared.events.fulfillment import TrackingVerdict

_ORDER_STATE = (
    "channel", "purchased_at", "confirmed_at", "ship_by", "deliver_by", "lines", "ship_to", "shipped", "shipments",
    "cancelled_at", "overdue_reported_at", "address_erased_at", "ship_due_at", "overdue_due_at",
)  # fmt: skip
_ORDER_COLUMNS = ", ".join(("seller_id", "order_id", *_ORDER_STATE))
_SHIPMENT_STATE = (
    "order_id", "carrier", "tracking_number", "channel", "lines", "purchased_at", "confirmed_at", "shipped_at",
    "ship_by", "deliver_by", "tracking_status", "tracking_verdict", "tracking_reason", "delivered_at",
    "scan_deadline",
)  # fmt: skip
_SHIPMENT_COLUMNS = ", ".join(("seller_id", "shipment_id", *_SHIPMENT_STATE))


def _placeholders(count: int) -> str:
    return ", ".join(f"${i}" for i in range(1, count + 1))


def _assignments(columns: Sequence[str]) -> str:
    return ", ".join(f"{name} = ${i}" for i, name in enumerate(columns, start=3))


# --- orders to ship -------------------------------------------------------------------------------


def _order_values(order: OrderToShip, policy: FulfillmentPolicy) -> list[Any]:
    to = order.ship_to
    ship_to = None if to is None else {"name": to.name, "lines": list(to.lines), "city": to.city,
                                       "region": to.region, "postal_code": to.postal_code,
                                       "country": to.country, "phone": to.phone}
    lines = [{"listing_id": line.listing_id, "sku": line.sku, "quantity": line.quantity} for line in order.lines]
    return [
        order.seller_id, order.order_id, order.channel.value, order.purchased_at, order.confirmed_at,
        order.ship_by, order.deliver_by, lines, ship_to, order.shipped, order.shipments, order.cancelled_at,
        order.overdue_reported_at, order.address_erased_at, order.marketplace_ship_at(policy), order.overdue_at(),
    ]  # fmt: skip


def _order(row: asyncpg.Record) -> OrderToShip:
    to = row["ship_to"]
    return OrderToShip(
        seller_id=row["seller_id"],
        order_id=row["order_id"],
        channel=FulfillmentChannel(row["channel"]),
        purchased_at=row["purchased_at"],
        confirmed_at=row["confirmed_at"],
        ship_by=row["ship_by"],
        deliver_by=row["deliver_by"],
        lines=tuple(OrderLine(line["listing_id"], line["sku"], line["quantity"]) for line in row["lines"]),
        ship_to=None if to is None else Address(to["name"], tuple(to["lines"]), to["city"], to["region"],
                                                to["postal_code"], to["country"], to["phone"]),
        shipped=dict(row["shipped"]),
        shipments=row["shipments"],
        cancelled_at=row["cancelled_at"],
        overdue_reported_at=row["overdue_reported_at"],
        address_erased_at=row["address_erased_at"],
    )


async def insert_orders(conn: asyncpg.Connection, orders: Sequence[OrderToShip], policy: FulfillmentPolicy) -> None:
    """New orders; one already here (the same `order.confirmed` twice) is left as it is."""
    await conn.executemany(
        f"INSERT INTO orders ({_ORDER_COLUMNS}) VALUES ({_placeholders(2 + len(_ORDER_STATE))})"
        " ON CONFLICT (seller_id, order_id) DO NOTHING",
        [_order_values(order, policy) for order in orders],
    )


async def save_orders(conn: asyncpg.Connection, orders: Sequence[OrderToShip], policy: FulfillmentPolicy) -> None:
    await conn.executemany(
        f"UPDATE orders SET {_assignments(_ORDER_STATE)} WHERE seller_id = $1 AND order_id = $2",
        [_order_values(order, policy) for order in orders],
    )


async def load_orders(conn: asyncpg.Connection, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], OrderToShip]:
    """Orders by (seller, order id), locked in key order: two transactions never wait on each other in a circle."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = await conn.fetch(
        f"SELECT {_ORDER_COLUMNS} FROM orders WHERE (seller_id, order_id) IN"
        " (SELECT * FROM unnest($1::text[], $2::text[])) ORDER BY seller_id, order_id FOR UPDATE",
        [seller for seller, _ in wanted], [order for _, order in wanted],
    )
    return {(row["seller_id"], row["order_id"]): _order(row) for row in rows}


async def due_orders(conn: asyncpg.Connection, column: str, now: datetime, limit: int) -> list[OrderToShip]:
    """Orders whose `column` deadline (ship_due_at or overdue_due_at) is due at `now`, locked."""
    if column not in ("ship_due_at", "overdue_due_at"):
        raise ValueError(column)
    comparison = "<=" if column == "ship_due_at" else "<"  # the warehouse ships at; overdue is after
    rows = await conn.fetch(
        f"SELECT {_ORDER_COLUMNS} FROM orders WHERE {column} {comparison} $1"
        f" ORDER BY {column}, seller_id, order_id LIMIT $2 FOR UPDATE",
        now, limit,
    )
    return [_order(row) for row in rows]


# --- shipments ------------------------------------------------------------------------------------


def _shipment_values(shipment: Shipment, listing_of: Mapping[str, str], policy: FulfillmentPolicy) -> list[Any]:
    pending = shipment.tracking_status is TrackingStatus.PENDING
    lines = [{"listing_id": listing_of.get(sku), "sku": sku, "quantity": qty} for sku, qty in shipment.lines.items()]
    return [
        shipment.seller_id, shipment.id, shipment.order_id, shipment.carrier.value, shipment.tracking_number,
        shipment.channel.value, lines, shipment.purchased_at, shipment.confirmed_at, shipment.shipped_at,
        shipment.ship_by, shipment.deliver_by, shipment.tracking_status.value,
        shipment.tracking_verdict.value if shipment.tracking_verdict else None, shipment.tracking_reason,
        shipment.delivered_at, shipment.confirmed_at + policy.tracking.scan_window if pending else None,
    ]  # fmt: skip


def _shipment(row: asyncpg.Record, scans: Iterable[Scan] = ()) -> Shipment:
    return Shipment(
        id=row["shipment_id"],
        order_id=row["order_id"],
        seller_id=row["seller_id"],
        carrier=Carrier(row["carrier"]),
        tracking_number=row["tracking_number"],
        lines={line["sku"]: line["quantity"] for line in row["lines"]},
        channel=FulfillmentChannel(row["channel"]),
        confirmed_at=row["confirmed_at"],
        shipped_at=row["shipped_at"],
        ship_by=row["ship_by"],
        deliver_by=row["deliver_by"],
        purchased_at=row["purchased_at"],
        tracking_status=TrackingStatus(row["tracking_status"]),
        tracking_verdict=TrackingVerdict(row["tracking_verdict"]) if row["tracking_verdict"] else None,
        tracking_reason=row["tracking_reason"],
        scans=list(scans),
        delivered_at=row["delivered_at"],
    )


def listings_of(shipment_row: asyncpg.Record) -> dict[str, str]:
    return {line["sku"]: line["listing_id"] for line in shipment_row["lines"]}


async def insert_shipments(conn: asyncpg.Connection, shipments: Sequence[tuple[Shipment, Mapping[str, str]]],
                           policy: FulfillmentPolicy) -> None:
    """New shipments, each with the listing of each of its SKUs."""
    await conn.executemany(
        f"INSERT INTO shipments ({_SHIPMENT_COLUMNS}) VALUES ({_placeholders(2 + len(_SHIPMENT_STATE))})",
        [_shipment_values(shipment, listing_of, policy) for shipment, listing_of in shipments],
    )


async def save_shipments(conn: asyncpg.Connection, shipments: Sequence[Shipment], policy: FulfillmentPolicy) -> None:
    """Write back the tracking state of shipments loaded in this transaction (lines never change)."""
    columns = ("tracking_status", "tracking_verdict", "tracking_reason", "delivered_at", "scan_deadline")
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(columns, start=3))
    rows = []
    for shipment in shipments:
        values = _shipment_values(shipment, {}, policy)
        rows.append([values[0], values[1], *values[-len(columns):]])
    await conn.executemany(f"UPDATE shipments SET {assignments} WHERE seller_id = $1 AND shipment_id = $2", rows)


async def _with_scans(conn: asyncpg.Connection, rows: Sequence[asyncpg.Record]) -> list[Shipment]:
    if not rows:
        return []
    scans = await conn.fetch(
        "SELECT s.shipment_id, s.status, s.scanned_at, s.location FROM scans s"
        " JOIN unnest($1::text[], $2::text[]) AS k(seller_id, shipment_id)"
        " ON s.seller_id = k.seller_id AND s.shipment_id = k.shipment_id ORDER BY s.scanned_at",
        [row["seller_id"] for row in rows], [row["shipment_id"] for row in rows],
    )
    by_shipment: dict[str, list[Scan]] = {}
    for scan in scans:
        by_shipment.setdefault(scan["shipment_id"], []).append(
            Scan(ScanStatus(scan["status"]), scan["scanned_at"], scan["location"])
        )
    return [_shipment(row, by_shipment.get(row["shipment_id"], ())) for row in rows]


ParcelKey = tuple[str, Carrier, str]  # seller, carrier, normalised tracking number


async def by_tracking_numbers(conn: asyncpg.Connection, keys: Iterable[ParcelKey]) -> dict[ParcelKey, list[Shipment]]:
    """The shipments each (seller, carrier, number) names (usually one), with their scans; locked in key
    order (seller, shipment id), so two transactions never wait on each other in a circle."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = await conn.fetch(
        f"SELECT {_SHIPMENT_COLUMNS} FROM shipments WHERE (seller_id, carrier, tracking_number) IN"
        " (SELECT * FROM unnest($1::text[], $2::text[], $3::text[])) ORDER BY seller_id, shipment_id FOR UPDATE",
        [seller for seller, _, _ in wanted], [carrier.value for _, carrier, _ in wanted],
        [number for _, _, number in wanted],
    )
    found: dict[ParcelKey, list[Shipment]] = {}
    for shipment in await _with_scans(conn, rows):
        found.setdefault((shipment.seller_id, shipment.carrier, shipment.tracking_number), []).append(shipment)
    return found


async def due_for_tracking_verdict(conn: asyncpg.Connection, now: datetime, limit: int) -> list[Shipment]:
    """Shipments still pending whose scan window closed at or before `now` (a tick), locked, with their scans."""
    rows = await conn.fetch(
        f"SELECT {_SHIPMENT_COLUMNS} FROM shipments WHERE scan_deadline <= $1"
        " ORDER BY scan_deadline, seller_id, shipment_id LIMIT $2 FOR UPDATE",
        now, limit,
    )
    return await _with_scans(conn, rows)


async def insert_scans(conn: asyncpg.Connection, scans: Sequence[tuple[Shipment, Scan]]) -> None:
    """New scans of shipments, in one statement; a scan already stored is left as it is."""
    if not scans:
        return
    await conn.execute(
        "INSERT INTO scans (seller_id, shipment_id, status, scanned_at, location)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[])"
        " ON CONFLICT DO NOTHING",
        [shipment.seller_id for shipment, _ in scans], [shipment.id for shipment, _ in scans],
        [scan.status.value for _, scan in scans], [scan.at for _, scan in scans],
        [scan.location for _, scan in scans],
    )


async def taken_tracking_numbers(conn: asyncpg.Connection, carrier: Carrier,
                                 numbers: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (seller, tracking number) pairs some shipment of that carrier already has."""
    rows = await conn.fetch(
        "SELECT s.seller_id, s.tracking_number FROM shipments s"
        " JOIN unnest($2::text[], $3::text[]) AS k(seller_id, tracking_number)"
        " ON s.seller_id = k.seller_id AND s.tracking_number = k.tracking_number WHERE s.carrier = $1",
        carrier.value, [seller for seller, _ in numbers], [number for _, number in numbers],
    )
    return {(row["seller_id"], row["tracking_number"]) for row in rows}


async def shipments_by_id(conn: asyncpg.Connection, seller_id: str, ids: Iterable[str]) -> dict[str, Shipment]:
    """The seller's shipments with these ids (without their scans), for reading."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await conn.fetch(
        f"SELECT {_SHIPMENT_COLUMNS} FROM shipments WHERE seller_id = $1 AND shipment_id = ANY($2::text[])",
        seller_id, wanted,
    )
    return {row["shipment_id"]: _shipment(row) for row in rows}


async def shipment_rows(conn: asyncpg.Connection | asyncpg.Pool, seller_id: str, order_id: str
                        ) -> list[asyncpg.Record]:
    """The shipments of an order, for reading."""
    return list(await conn.fetch(
        f"SELECT {_SHIPMENT_COLUMNS} FROM shipments WHERE seller_id = $1 AND order_id = $2"
        " ORDER BY shipped_at, shipment_id",
        seller_id, order_id,
    ))


async def shipments_since(pool: asyncpg.Pool, seller_id: str, *, channel: str | None, since: datetime | None,
                          limit: int) -> list[asyncpg.Record]:
    """A seller's shipments in the order they left, optionally of one channel and from `since` on."""
    return list(await pool.fetch(
        f"SELECT {_SHIPMENT_COLUMNS} FROM shipments WHERE seller_id = $1"
        " AND ($2::text IS NULL OR channel = $2) AND ($3::timestamptz IS NULL OR shipped_at >= $3)"
        " ORDER BY shipped_at, shipment_id LIMIT $4",
        seller_id, channel, since, limit,
    ))


def shipment_of(row: asyncpg.Record) -> Shipment:
    return _shipment(row)
