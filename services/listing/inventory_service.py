"""Stock use cases (domain.md section 2): an order reserves, a cancellation releases, a shipment consumes.

They run in the consumer's batch transaction, set-based: a run of consecutive stock events of a batch
is claimed and locked in a few statements (`stock_run.lock`), each event is decided in batch order in
memory with the pure `inventory` module (stock carried forward from one event to the next), and the
changes are written with one statement per table, as guarded UPDATEs: stock never goes negative, even
with many orders racing for the last unit. A single event is a run of one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import asyncpg

from services.listing import account, inventory, stock_run
from services.listing.inventory import InventoryError, Line, Reservation, ReservationRefused, StockLevel
from services.listing.listing_repository import ListingRow
from services.listing.service import fact, short
from services.listing.stock_repository import ReservationRow
from services.listing.stock_run import StockRun
from shared.events import Event, Payload
from shared.events.common import AccountStatus, ListingStatus
from shared.events.fulfillment import ShipmentConfirmed
from shared.events.listing import (
    AdjustmentReason,
    InventoryAdjusted,
    InventoryReleased,
    InventoryReservationFailed,
    InventoryReserved,
    StockLine,
)
from shared.events.order import OrderCancelled, OrderPlaced, OrderRejected, PlacedLine
from shared.messaging import outbox
from shared.messaging.consumer import Incoming, Unprocessable, handling

log = logging.getLogger(__name__)


async def apply_stock_run(conn: asyncpg.Connection, run: Sequence[Incoming]) -> None:
    """order.placed, order.cancelled, order.rejected and shipment.confirmed: a run of them, in batch order."""
    await _apply(conn, [item.event for item in run], lambda i: handling(run[i]))


async def apply_stock_event(conn: asyncpg.Connection, event: Event[Any]) -> None:
    """One stock event in the caller's transaction and trace: a run of one."""
    await _apply(conn, [event], lambda _: nullcontext())


#: The single-event use cases: each is a run of one.
reserve_stock = release_stock = consume_stock = apply_stock_event


async def _apply(
    conn: asyncpg.Connection, events: Sequence[Event[Any]], scope: Callable[[int], AbstractContextManager[Any]]
) -> None:
    run = await stock_run.lock(conn, events)
    for i, event in enumerate(events):
        with scope(i):  # the events staged for an event continue its trace
            await outbox.stage(conn, decide(run, event))
    await stock_run.write(conn, run)


def decide(run: StockRun, event: Event[Any]) -> list[Event[Any]]:
    """Apply one event to the run's state; returns the events to stage. Raises Unprocessable for an
    event that can never be applied."""
    data: Payload = event.data
    if isinstance(data, OrderPlaced):
        return reserve(run, event)
    if isinstance(data, ShipmentConfirmed):
        return consume(run, event)
    return release(run, event)


def _levels(rows: list[ListingRow]) -> dict[str, StockLevel]:
    return {r.listing_id: StockLevel(r.listing_id, r.on_hand, r.reserved, ListingStatus(r.status)) for r in rows}


def _resolve(line: PlacedLine, by_id: dict[str, ListingRow], by_sku: dict[str, ListingRow]) -> ListingRow | None:
    """The seller's listing a line names, by id or else by SKU; both given must agree."""
    row = by_id.get(line.listing_id) if line.listing_id else by_sku.get(line.sku or "")
    if row is not None and line.sku is not None and row.sku != line.sku:
        return None
    return row


def _key(line: PlacedLine, row: ListingRow | None, by_id: dict[str, ListingRow]) -> str:
    """The listing id of a resolved line; for another, a key no listing has (it is reported unknown)."""
    if row is not None:
        return row.listing_id
    if line.listing_id and line.listing_id not in by_id:
        return line.listing_id
    return f"{line.listing_id or ''} with SKU {line.sku!r}".strip()


def reserve(run: StockRun, event: Event[Any]) -> list[Event[Any]]:
    """order.placed: reserve every line or none, once per order whatever the event id."""
    order, seller_id, at = event.data_as(OrderPlaced), event.sellerid, event.time
    if not run.first_placement(seller_id, order.order_id):
        log.info("order seen before; not reserved again", extra={"order_id": order.order_id})
        return []
    seller = run.sellers.get(seller_id)
    rows = run.named(seller_id, [line.listing_id for line in order.lines if line.listing_id],
                     [line.sku for line in order.lines if line.sku])
    by_id, by_sku = {r.listing_id: r for r in rows}, {r.sku: r for r in rows}
    resolved = [_resolve(line, by_id, by_sku) for line in order.lines]
    lines = [Line(_key(line, row, by_id), line.quantity) for line, row in zip(order.lines, resolved, strict=True)]
    may_sell = seller is not None and account.may_sell(AccountStatus(seller.status))
    stock = _levels([row for row in resolved if row is not None])
    decision = inventory.reserve(order.order_id, lines, stock, seller_may_sell=may_sell)
    claimed = ReservationRow(seller_id, order.order_id, "held", [], None, None, at, at)
    if isinstance(decision, ReservationRefused):
        detail = ("the seller is not registered; " if seller is None else "") + decision.detail
        known = set(by_id) | {line.listing_id for line in order.lines if line.listing_id}  # not a made-up key
        named = decision.listing_id if decision.listing_id in known else None
        run.save(ReservationRow(seller_id, order.order_id, "failed", [], decision.reason.value, detail, at, at))
        failed = InventoryReservationFailed(order_id=order.order_id, reason=decision.reason, listing_id=named,
                                            detail=short(detail))
        return [fact(failed, seller_id=seller_id, subject=order.order_id, at=at)]
    run.set_stock(decision.stock, at)
    run.save(_with_held(claimed, decision.reservation.lines, {r.listing_id: r.sku for r in rows}))
    reserved_lines = [
        StockLine(listing_id=row.listing_id, sku=row.sku, quantity=line.quantity, handling_days=row.handling_days)
        for line, row in zip(order.lines, resolved, strict=True) if row is not None
    ]
    reserved = InventoryReserved(order_id=order.order_id, lines=reserved_lines,
                                 handling_days=max(line.handling_days or 1 for line in reserved_lines),
                                 seller_country=seller.country if seller is not None else None)
    return [fact(reserved, seller_id=seller_id, subject=order.order_id, at=at)]


def _with_held(row: ReservationRow, held: tuple[Line, ...], skus: dict[str, str]) -> ReservationRow:
    return ReservationRow(
        row.seller_id, row.order_id, row.status if held else "shipped",
        [{"listing_id": line.listing_id, "sku": skus[line.listing_id], "quantity": line.quantity} for line in held],
        row.failure_reason, row.detail, row.created_at, row.updated_at,
    )


def _reservation(row: ReservationRow) -> Reservation:
    return Reservation(row.order_id, tuple(Line(h["listing_id"], int(h["quantity"])) for h in row.held))


def release(run: StockRun, event: Event[Any]) -> list[Event[Any]]:
    """order.cancelled or order.rejected: the units the order still holds go back on sale."""
    data: Payload = event.data
    if isinstance(data, OrderCancelled):
        order_id, why = data.order_id, f"order cancelled by the {data.by.value}: {data.reason}"
    else:
        rejected = event.data_as(OrderRejected)
        order_id, why = rejected.order_id, f"order rejected: {rejected.reason.value}"
    seller_id, at = event.sellerid, event.time
    row = run.reservations.get((seller_id, order_id))
    if row is None or row.status != "held" or not row.held:
        log.info("nothing held for the order; nothing to release", extra={"order_id": order_id})
        return []
    reservation = _reservation(row)
    try:
        update = inventory.release(reservation, _levels(run.stock_of(line.listing_id for line in reservation.lines)))
    except InventoryError as error:
        raise Unprocessable(f"order {order_id}: {error}") from None
    run.set_stock(update.stock, at)
    run.save(ReservationRow(seller_id, order_id, "released", [], row.failure_reason, row.detail, row.created_at, at))
    released = InventoryReleased(order_id=order_id, lines=[StockLine(**held) for held in row.held], reason=short(why))
    return [fact(released, seller_id=seller_id, subject=order_id, at=at)]


def consume(run: StockRun, event: Event[Any]) -> list[Event[Any]]:
    """shipment.confirmed: the shipped units leave the shelf and the order's reservation."""
    shipment, seller_id, at = event.data_as(ShipmentConfirmed), event.sellerid, event.time
    if not run.first_shipment(seller_id, shipment.shipment_id):
        log.info("shipment seen before; not consumed again", extra={"shipment_id": shipment.shipment_id})
        return []
    row = run.reservations.get((seller_id, shipment.order_id))
    if row is None or row.status != "held":
        state = "none" if row is None else row.status
        raise Unprocessable(f"shipment {shipment.shipment_id}: order {shipment.order_id} holds no stock ({state})")
    shipped = [Line(line.listing_id, line.quantity) for line in shipment.lines]
    listings = run.stock_of([*(h["listing_id"] for h in row.held), *(line.listing_id for line in shipped)])
    try:
        update = inventory.consume(_reservation(row), shipped, _levels(listings))
    except InventoryError as error:
        raise Unprocessable(f"shipment {shipment.shipment_id}: {error}") from None
    before = {r.listing_id: r for r in listings}
    run.set_stock(update.stock, at)
    skus = {r.listing_id: r.sku for r in listings}
    run.save(_with_held(row, update.reservation.lines, skus))
    return [
        fact(InventoryAdjusted(listing_id=level.listing_id, sku=skus[level.listing_id],
                               delta=level.on_hand - before[level.listing_id].on_hand, available=level.available,
                               reserved=level.reserved, reason=AdjustmentReason.SHIPMENT, order_id=shipment.order_id),
             seller_id=seller_id, subject=level.listing_id, at=at)
        for level in update.stock
    ]
