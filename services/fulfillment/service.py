"""Fulfillment use cases: each runs inside the caller's transaction and stages the events it causes.

Refusals of consumed events (a scan for an unknown tracking number, a delivery before the
shipment) raise `Unprocessable`: the consumer dead-letters that event with the reason.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.fulfillment import publishing, repository
from services.fulfillment.domain import DEFAULT_FULFILLMENT_POLICY, Shipment, ShipmentError
from services.fulfillment.orders import Address, OrderLine, OrderToShip
from services.fulfillment.tracking import marketplace_tracking_number, normalise_tracking_number
from shared.events import Event, ingress
from shared.events import order as orders
from shared.events.clock import ClockTicked
from shared.events.common import Carrier
from shared.messaging import outbox
from shared.messaging.consumer import Unprocessable

log = logging.getLogger(__name__)

POLICY = DEFAULT_FULFILLMENT_POLICY
#: Orders or shipments a clock tick changes per statement; a tick goes on until none is due.
TICK_CHUNK = 2000


class UnknownOrder(LookupError):
    """No confirmed order of this seller has that id (yet)."""


@dataclass(frozen=True)
class NewShipment:
    """A seller's shipment: each line names a SKU or a listing of the order."""

    carrier: Carrier
    tracking_number: str
    lines: Sequence[tuple[str | None, str | None, int]]  # (sku, listing id, quantity)
    shipment_id: str | None = None  # the caller's id makes a retried request harmless


async def track_confirmed_order(conn: asyncpg.Connection, event: Event[Any]) -> None:
    """`order.confirmed`: an order to ship, with its lines, deadlines and (merchant) address."""
    confirmed = event.data_as(orders.OrderConfirmed)
    to = confirmed.ship_to
    order = OrderToShip(
        seller_id=event.sellerid, order_id=confirmed.order_id, channel=confirmed.fulfillment_channel,
        purchased_at=confirmed.purchased_at, confirmed_at=event.time, ship_by=confirmed.ship_by,
        deliver_by=confirmed.deliver_by,
        lines=tuple(OrderLine(line.listing_id, line.sku, line.quantity) for line in confirmed.lines),
        ship_to=None if to is None else Address(to.name, tuple(to.lines), to.city, to.region, to.postal_code,
                                                to.country, to.phone),
    )  # fmt: skip
    await repository.insert_order(conn, order, POLICY)


async def stop_cancelled_order(conn: asyncpg.Connection, event: Event[Any]) -> None:
    """`order.cancelled`: nothing more ships, nothing is overdue. An order never confirmed is not ours."""
    cancelled = event.data_as(orders.OrderCancelled)
    order = await repository.load_order(conn, event.sellerid, cancelled.order_id)
    if order is not None:
        order.cancel(cancelled.cancelled_at)
        await repository.save_orders(conn, [order], POLICY)


async def erase_address(conn: asyncpg.Connection, event: Event[Any]) -> None:
    """`order.pii_erased`: the order service decided; the copy of the address here goes too."""
    erased = event.data_as(orders.OrderPiiErased)
    order = await repository.load_order(conn, event.sellerid, erased.order_id)
    if order is not None:
        with _refusals(f"order {erased.order_id}"):
            order.erase_address(event.time)
        await repository.save_orders(conn, [order], POLICY)


async def record_scan(conn: asyncpg.Connection, event: Event[Any]) -> None:
    """A carrier scan: tracking updated, validated on the first one, delivered on `delivered`."""
    scan = event.data_as(ingress.CarrierScanRecorded)
    number = normalise_tracking_number(scan.tracking_number)
    found = await repository.by_tracking_number(conn, event.sellerid, scan.carrier, number)
    if not found:
        raise Unprocessable(f"no shipment of seller {event.sellerid} has {scan.carrier} tracking number {number}")
    at = scan.scanned_at or event.time
    for shipment in found:
        seen = len(shipment.scans)
        with _refusals(f"shipment {shipment.id}"):
            events = shipment.record_scan(scan.status, at, POLICY, location=scan.location)
        if len(shipment.scans) == seen:
            log.info("duplicate carrier scan; applied once", extra={"shipment_id": shipment.id})
            continue
        await repository.insert_scans(conn, shipment.seller_id, shipment.id, shipment.scans[seen:])
        await repository.save_shipments(conn, [shipment], POLICY)
        await outbox.stage(conn, publishing.shipment_envelopes(shipment, events, {}))


async def confirm_shipment(conn: asyncpg.Connection, seller_id: str, order_id: str, request: NewShipment,
                           at: datetime) -> tuple[Shipment, bool]:
    """The seller confirms a merchant-fulfilled shipment (partial allowed, never more than ordered).
    Returns the shipment and whether it is new (False: the same `shipment_id` was confirmed before)."""
    order = await repository.load_order(conn, seller_id, order_id)
    if order is None:
        raise UnknownOrder(order_id)
    if request.shipment_id is not None:
        existing = await repository.shipment_rows(conn, seller_id, shipment_id=request.shipment_id)
        if existing and existing[0]["order_id"] == order_id:
            return repository.shipment_of(existing[0]), False
        if existing:
            raise ShipmentError(f"shipment {request.shipment_id} belongs to another order")
    lines: dict[str, int] = {}
    for sku, listing_id, quantity in request.lines:
        resolved = _sku(order, sku, listing_id)
        lines[resolved] = lines.get(resolved, 0) + quantity
    order.ship(lines, at)
    shipment, events = Shipment.confirm(
        id=request.shipment_id or shipment_id(seller_id, order_id, order.shipments), order_id=order_id,
        seller_id=seller_id, carrier=request.carrier, tracking_number=request.tracking_number, lines=lines,
        confirmed_at=at, ship_by=order.ship_by, deliver_by=order.deliver_by, purchased_at=order.purchased_at,
        policy=POLICY,
    )
    await _store_shipments(conn, [(order, shipment, events)])
    return shipment, True


async def on_clock_tick(conn: asyncpg.Connection, event: Event[Any]) -> None:
    """Deadlines up to `now`: the warehouse ships, overdue orders are reported, unscanned tracking judged."""
    now = event.data_as(ClockTicked).now
    await _ship_from_marketplace(conn, now)
    await _report_overdue(conn, now)
    await _judge_unscanned_tracking(conn, now)


def shipment_id(seller_id: str, order_id: str, number: int) -> str:
    """The `number`-th shipment of an order: the same id on a replay of the same events."""
    return "SH-" + hashlib.sha256(f"{seller_id}/{order_id}/{number}".encode()).hexdigest()[:24]


async def _ship_from_marketplace(conn: asyncpg.Connection, now: datetime) -> None:
    while due := await repository.due_orders(conn, "ship_due_at", now, TICK_CHUNK):
        taken = await repository.taken_tracking_numbers(
            conn, Carrier.MARKETPLACE, [(order.seller_id, _tba(order.order_id, 0)) for order in due]
        )
        shipped = []
        for order in due:
            attempt = await _free_tba(conn, order, taken)
            lines = {sku: qty for sku, qty in order.outstanding.items() if qty}
            shipment, events = Shipment.ship_from_marketplace(
                id=shipment_id(order.seller_id, order.order_id, order.shipments + 1), order_id=order.order_id,
                seller_id=order.seller_id, lines=lines, confirmed_at=order.confirmed_at, ship_by=order.ship_by,
                deliver_by=order.deliver_by, purchased_at=order.purchased_at, attempt=attempt, policy=POLICY,
            )
            order.ship(lines, shipment.shipped_at, by_seller=False)
            shipped.append((order, shipment, events))
        await _store_shipments(conn, shipped)
        if len(due) < TICK_CHUNK:
            break


def _tba(order_id: str, attempt: int) -> str:
    return marketplace_tracking_number(order_id if attempt == 0 else f"{order_id}#{attempt}")


async def _free_tba(conn: asyncpg.Connection, order: OrderToShip, taken: set[tuple[str, str]]) -> int:
    """The first attempt whose TBA number no other shipment of the seller has: 12 digits of a hash
    collide now and then, and scans are matched on seller, carrier and number."""
    attempt = 0
    while (order.seller_id, _tba(order.order_id, attempt)) in taken:
        attempt += 1
        candidate = (order.seller_id, _tba(order.order_id, attempt))
        taken |= await repository.taken_tracking_numbers(conn, Carrier.MARKETPLACE, [candidate])
    taken.add((order.seller_id, _tba(order.order_id, attempt)))
    return attempt


async def _report_overdue(conn: asyncpg.Connection, now: datetime) -> None:
    while due := await repository.due_orders(conn, "overdue_due_at", now, TICK_CHUNK):
        events = [envelope for order in due for envelope in publishing.overdue_envelopes(order,
                                                                                          order.report_overdue(now))]
        await repository.save_orders(conn, due, POLICY)
        await outbox.stage(conn, events)
        if len(due) < TICK_CHUNK or not events:
            break


async def _judge_unscanned_tracking(conn: asyncpg.Connection, now: datetime) -> None:
    while due := await repository.due_for_tracking_verdict(conn, now, TICK_CHUNK):
        events = [envelope for shipment in due
                  for envelope in publishing.shipment_envelopes(shipment, shipment.validate_tracking(now, POLICY), {})]
        await repository.save_shipments(conn, due, POLICY)
        await outbox.stage(conn, events)
        if len(due) < TICK_CHUNK or not events:
            break


async def _store_shipments(conn: asyncpg.Connection, shipped: Sequence[tuple[OrderToShip, Shipment, list[Any]]]
                           ) -> None:
    if not shipped:
        return
    listing_of = [{line.sku: line.listing_id for line in order.lines} for order, _, _ in shipped]
    await repository.insert_shipments(conn, [(s, lo) for (_, s, _), lo in zip(shipped, listing_of, strict=True)],
                                      POLICY)
    await repository.save_orders(conn, [order for order, _, _ in shipped], POLICY)
    await outbox.stage(conn, [envelope for (_, shipment, events), lo in zip(shipped, listing_of, strict=True)
                              for envelope in publishing.shipment_envelopes(shipment, events, lo)])


def _sku(order: OrderToShip, sku: str | None, listing_id: str | None) -> str:
    if listing_id is None:
        if sku is None:
            raise ShipmentError("a shipment line names a sku or a listing")
        return sku
    resolved = order.sku_of(listing_id)
    if sku is not None and sku != resolved:
        raise ShipmentError(f"listing {listing_id} is sku {resolved}, not {sku}")
    return resolved


@contextmanager
def _refusals(what: str) -> Iterator[None]:
    """A shipment rule's refusal of a consumed event becomes the reason it is dead-lettered with."""
    try:
        yield
    except ShipmentError as error:
        raise Unprocessable(f"{what}: {error}") from error
