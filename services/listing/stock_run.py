"""A run of stock events in memory: claimed and locked at its start, decided event by event, written at its end.

`lock` costs a constant number of statements whatever the run's length: claim the run's orders and
shipments, then lock the sellers (FOR SHARE), the reservations and the listings (FOR UPDATE), each in
one query and in key order (the locking order of repository.py). The use cases then read and change
the `StockRun` in batch order, so each event sees what the events before it did, and `write` saves
every change with one statement per table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import asyncpg

from services.listing import repository, stock_repository
from services.listing.inventory import StockLevel
from services.listing.listing_repository import ListingRow
from services.listing.repository import SellerRow
from services.listing.stock_repository import OrderKey, ReservationRow, ShipmentKey, StockChange
from shared.events import Event, Payload
from shared.events.fulfillment import ShipmentConfirmed
from shared.events.order import OrderCancelled, OrderPlaced, OrderRejected


@dataclass
class StockRun:
    """What a run of events may touch, as its events so far left it."""

    sellers: dict[str, SellerRow]
    listings: dict[str, ListingRow]
    reservations: dict[OrderKey, ReservationRow]  # an order claimed by the run has none until it is decided
    new_orders: set[OrderKey] = field(default_factory=set)  # claimed by this run, not decided yet
    new_shipments: set[ShipmentKey] = field(default_factory=set)  # claimed by this run, not consumed yet
    _read: dict[str, ListingRow] = field(init=False)
    _by_sku: dict[tuple[str, str], str] = field(init=False)
    _saved: dict[OrderKey, ReservationRow] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._read = dict(self.listings)
        self._by_sku = {(row.seller_id, row.sku): row.listing_id for row in self.listings.values()}

    def first_placement(self, seller_id: str, order_id: str) -> bool:
        """True once per order the run claimed: the first order.placed of it is decided, later ones skipped."""
        return _take(self.new_orders, (seller_id, order_id))

    def first_shipment(self, seller_id: str, shipment_id: str) -> bool:
        return _take(self.new_shipments, (seller_id, shipment_id))

    def named(self, seller_id: str, listing_ids: Iterable[str], skus: Iterable[str]) -> list[ListingRow]:
        """The seller's listings named by id or by SKU, in listing id order."""
        ids = {i for i in listing_ids if i in self.listings and self.listings[i].seller_id == seller_id}
        ids |= {i for sku in skus if (i := self._by_sku.get((seller_id, sku))) is not None}
        return [self.listings[i] for i in sorted(ids)]

    def stock_of(self, listing_ids: Iterable[str]) -> list[ListingRow]:
        """The listings with these ids (those there are), in listing id order."""
        return [self.listings[i] for i in sorted(set(listing_ids)) if i in self.listings]

    def set_stock(self, levels: Iterable[StockLevel], at: datetime) -> None:
        for level in levels:
            row = self.listings[level.listing_id]
            self.listings[level.listing_id] = replace(row, on_hand=level.on_hand, reserved=level.reserved,
                                                      updated_at=at)

    def save(self, row: ReservationRow) -> None:
        self.reservations[row.key] = row
        self._saved[row.key] = row

    def stock_changes(self) -> list[StockChange]:
        """Each listing an event changed: its net change since the run read it."""
        return [
            StockChange(i, row.on_hand - self._read[i].on_hand, row.reserved - self._read[i].reserved, row.updated_at)
            for i, row in self.listings.items() if row is not self._read[i]
        ]

    def saved(self) -> list[ReservationRow]:
        return list(self._saved.values())


def _take(keys: set[tuple[str, str]], key: tuple[str, str]) -> bool:
    if key in keys:
        keys.remove(key)
        return True
    return False


async def lock(conn: asyncpg.Connection, events: Sequence[Event[Any]]) -> StockRun:
    """Claim the run's orders and shipments, then lock what its events may touch: sellers, reservations, listings."""
    placements = _first(events, OrderPlaced, lambda data: data.order_id)
    shipments = _first(events, ShipmentConfirmed, lambda data: data.shipment_id)
    new_orders = await stock_repository.claim_orders(
        conn, [(*key, event.time) for key, event in placements.items()]) if placements else set()
    new_shipments = await stock_repository.claim_shipments(
        conn, [(*key, event.data.order_id, event.time) for key, event in shipments.items()]) if shipments else set()
    placed = [event for key, event in placements.items() if key in new_orders]
    shipped = [event for key, event in shipments.items() if key in new_shipments]
    sellers = await repository.get_sellers(conn, {event.sellerid for event in events}, lock="share")

    orders = {(e.sellerid, e.data.order_id) for e in events if isinstance(e.data, (OrderCancelled, OrderRejected))}
    orders |= {(e.sellerid, e.data.order_id) for e in shipped}
    orders -= new_orders  # no reservation yet: their order.placed in this run makes it
    reservations = await stock_repository.lock_reservations(conn, orders) if orders else {}

    by_id = {(seller_id, h["listing_id"]) for (seller_id, _), row in reservations.items() for h in row.held}
    by_id |= {(e.sellerid, line.listing_id) for e in [*placed, *shipped] for line in e.data.lines if line.listing_id}
    by_sku = {(e.sellerid, line.sku) for e in placed for line in e.data.lines if line.sku}
    rows = await stock_repository.lock_stock(conn, by_id, by_sku) if by_id or by_sku else []
    return StockRun(sellers, {row.listing_id: row for row in rows}, reservations, new_orders, new_shipments)


def _first(
    events: Sequence[Event[Any]], payload: type[Payload], key: Callable[[Any], str]
) -> dict[tuple[str, str], Event[Any]]:
    """The first event of each (seller, key) among the events of this type, in batch order."""
    first: dict[tuple[str, str], Event[Any]] = {}
    for event in events:
        if isinstance(event.data, payload):
            first.setdefault((event.sellerid, key(event.data)), event)
    return first


async def write(conn: asyncpg.Connection, run: StockRun) -> None:
    """Every change of the run: one statement for the listings, one for the reservations."""
    if changes := run.stock_changes():
        await stock_repository.change_stock(conn, changes)
    if saved := run.saved():
        await stock_repository.save_reservations(conn, saved)
