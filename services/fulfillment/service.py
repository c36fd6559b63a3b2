"""Fulfillment use cases: each runs inside the caller's transaction and stages the events it causes.

Refusals of consumed events (a scan for an unknown tracking number, a delivery before the
shipment) raise `Unprocessable`: the consumer dead-letters that event with the reason.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import asyncpg

from services.fulfillment import publishing, repository
from services.fulfillment.domain import DEFAULT_FULFILLMENT_POLICY, Scan, Shipment, ShipmentError
from services.fulfillment.domain_events import ShipmentEvent
from services.fulfillment.orders import Address, OrderLine, OrderToShip
from services.fulfillment.tracking import marketplace_tracking_number, normalise_tracking_number
from shared.events import Event, ingress
from shared.events import order as orders
from shared.events.clock import ClockTicked
from shared.events.common import Carrier
from shared.messaging import outbox
from shared.messaging.consumer import Incoming, Unprocessable, handling

log = logging.getLogger(__name__)

POLICY = DEFAULT_FULFILLMENT_POLICY
#: Orders or shipments a clock tick changes per statement; a tick goes on until none is due.
TICK_CHUNK = 2000


class UnknownOrder(LookupError):
    """No confirmed order of this seller has that id (yet)."""


#: Why a seller's shipment is refused: an unknown order, an order that cannot ship (`NotShippable`) or a rule.
Refusal = UnknownOrder | ShipmentError


@dataclass(frozen=True)
class NewShipment:
    """A seller's shipment of one order: each line names a SKU or a listing of the order."""

    order_id: str
    carrier: Carrier
    tracking_number: str
    lines: Sequence[tuple[str | None, str | None, int]]  # (sku, listing id, quantity)
    at: datetime  # business time of the confirmation
    shipment_id: str | None = None  # the caller's id makes a retried request harmless


@dataclass(frozen=True)
class Confirmation:
    """The answer to one `NewShipment`: the shipment (new, or the same `shipment_id` confirmed before), or why not."""

    shipment: Shipment | None = None
    new: bool = False
    refusal: Refusal | None = None


async def follow_orders(conn: asyncpg.Connection, run: Sequence[Incoming]) -> None:
    """`order.confirmed`, `order.cancelled`, `order.pii_erased`, set-based: the orders a run names are read
    (locked) at once, each event applies in memory in batch order, new and changed orders are written once.
    An order never confirmed here is not ours: its cancellation or erasure changes nothing."""
    keys = [(item.event.sellerid, item.event.data.order_id) for item in run]
    stored = await repository.load_orders(conn, keys)
    known, changed = dict(stored), set()
    for item, key in zip(run, keys, strict=True):
        with handling(item):
            if isinstance(item.event.data, orders.OrderConfirmed):
                known.setdefault(key, _order_to_ship(item.event))  # the same order twice: the first stays
            elif (order := known.get(key)) is not None:
                _follow(order, item.event)
                changed.add(key)
    await repository.insert_orders(conn, [order for key, order in known.items() if key not in stored], POLICY)
    await repository.save_orders(conn, [known[key] for key in sorted(changed) if key in stored], POLICY)


def _order_to_ship(event: Event[Any]) -> OrderToShip:
    """`order.confirmed`: an order to ship, with its lines, deadlines and (merchant) destination. Only the
    city, region and country are kept: nothing here needs the buyer's name or street (the seller reads them
    from the order service), so this schema holds no buyer data to erase (domain.md section 8)."""
    confirmed = event.data_as(orders.OrderConfirmed)
    return OrderToShip(
        seller_id=event.sellerid, order_id=confirmed.order_id, channel=confirmed.fulfillment_channel,
        purchased_at=confirmed.purchased_at, confirmed_at=event.time, ship_by=confirmed.ship_by,
        deliver_by=confirmed.deliver_by,
        lines=tuple(OrderLine(line.listing_id, line.sku, line.quantity) for line in confirmed.lines),
        ship_to=_destination(confirmed),
    )  # fmt: skip


def _destination(confirmed: orders.OrderConfirmed) -> Address | None:
    if (sealed := confirmed.ship_to_sealed) is not None:
        return Address(None, (), sealed.city, sealed.region, None, sealed.country)
    if (clear := confirmed.ship_to) is not None:  # published before buyer data was sealed
        return Address(None, (), clear.city, clear.region, None, clear.country)
    return None


def _follow(order: OrderToShip, event: Event[Any]) -> None:
    """`order.cancelled`: nothing more ships, nothing is overdue. `order.pii_erased`: the order service
    decided; the erasure is recorded here too (and a copy of an address kept before sealing goes)."""
    if isinstance(event.data, orders.OrderCancelled):
        order.cancel(event.data.cancelled_at)
    else:
        with _refusals(f"order {order.order_id}"):
            order.erase_address(event.time)


async def record_scans(conn: asyncpg.Connection, run: Sequence[Incoming]) -> None:
    """Carrier scans, set-based: tracking updated, validated on the first one, delivered on `delivered`.

    Every parcel the run names is read (locked, with its scans) at once; scans apply in memory in batch
    order, so two scans of one parcel see each other and the same scan twice is applied once; the new
    scans, the changed shipments and their events are written once each."""
    scans = [item.event.data_as(ingress.CarrierScanRecorded) for item in run]
    keys = [(item.event.sellerid, scan.carrier, normalise_tracking_number(scan.tracking_number))
            for item, scan in zip(run, scans, strict=True)]
    parcels = await repository.by_tracking_numbers(conn, keys)
    new_scans: list[tuple[Shipment, Scan]] = []
    rows: list[outbox.OutboxRow] = []
    for item, scan, key in zip(run, scans, keys, strict=True):
        with handling(item):  # the events staged for this scan continue its trace
            if not (found := parcels.get(key)):
                raise Unprocessable(f"no shipment of seller {key[0]} has {scan.carrier} tracking number {key[2]}")
            for shipment, taken, events in _scanned(found, scan, scan.scanned_at or item.event.time):
                new_scans += [(shipment, new_scan) for new_scan in taken]
                rows += [outbox.event_row(e) for e in publishing.shipment_envelopes(shipment, events, {})]
    await repository.insert_scans(conn, new_scans)
    changed = {(shipment.seller_id, shipment.id): shipment for shipment, _ in new_scans}
    await repository.save_shipments(conn, list(changed.values()), POLICY)
    await outbox.stage_rows(conn, rows)


def _scanned(shipments: list[Shipment], scan: ingress.CarrierScanRecorded, at: datetime
             ) -> Iterator[tuple[Shipment, list[Scan], list[ShipmentEvent]]]:
    """The scan applied to each shipment with that number: those that took it (a duplicate is skipped), with
    the scans they took and the events it caused."""
    for shipment in shipments:
        seen = len(shipment.scans)
        with _refusals(f"shipment {shipment.id}"):
            events = shipment.record_scan(scan.status, at, POLICY, location=scan.location)
        if len(shipment.scans) == seen:
            log.info("duplicate carrier scan; applied once", extra={"shipment_id": shipment.id})
            continue
        yield shipment, shipment.scans[seen:], events


async def confirm_shipments(conn: asyncpg.Connection, seller_id: str, requests: Sequence[NewShipment]
                            ) -> list[Confirmation]:
    """The seller confirms merchant-fulfilled shipments (partial allowed, never more than ordered).

    The orders named are read (locked) at once; each request is decided in memory in the order given, so
    two shipments of one order see each other; a refused one changes nothing and stops none of the others;
    the accepted ones are stored together. One answer per request, in the same order."""
    orders_by_key = await repository.load_orders(conn, [(seller_id, request.order_id) for request in requests])
    known = await repository.shipments_by_id(conn, seller_id, [r.shipment_id for r in requests if r.shipment_id])
    answers: list[Confirmation] = []
    accepted: list[tuple[tuple[str, str], Shipment, list[ShipmentEvent]]] = []
    for request in requests:
        try:
            shipment, events = _confirm(seller_id, request, orders_by_key, known)
        except (UnknownOrder, ShipmentError) as refusal:
            answers.append(Confirmation(refusal=refusal))
            continue
        answers.append(Confirmation(shipment, new=events is not None))
        if events is not None:
            accepted.append(((seller_id, request.order_id), shipment, events))
    await _store_shipments(conn, [(orders_by_key[key], shipment, events) for key, shipment, events in accepted])
    return answers


def _confirm(seller_id: str, request: NewShipment, orders_by_key: dict[tuple[str, str], OrderToShip],
             known: dict[str, Shipment]) -> tuple[Shipment, list[ShipmentEvent] | None]:
    """One shipment decided in memory: the shipment and its events (None: that `shipment_id` was confirmed
    before). Accepted, it updates `orders_by_key` and `known`; refused, it raises and changes nothing."""
    key = (seller_id, request.order_id)
    if (order := orders_by_key.get(key)) is None:
        raise UnknownOrder(request.order_id)
    if request.shipment_id is not None and (existing := known.get(request.shipment_id)) is not None:
        if existing.order_id != request.order_id:
            raise ShipmentError(f"shipment {request.shipment_id} belongs to another order")
        return existing, None
    lines: dict[str, int] = {}
    for sku, listing_id, quantity in request.lines:
        resolved = _sku(order, sku, listing_id)
        lines[resolved] = lines.get(resolved, 0) + quantity
    shipped = replace(order, shipped=dict(order.shipped))  # the order changes only once everything passed
    shipped.ship(lines, request.at)
    shipment, events = Shipment.confirm(
        id=request.shipment_id or shipment_id(seller_id, request.order_id, shipped.shipments),
        order_id=request.order_id, seller_id=seller_id, carrier=request.carrier,
        tracking_number=request.tracking_number, lines=lines, confirmed_at=request.at, ship_by=order.ship_by,
        deliver_by=order.deliver_by, purchased_at=order.purchased_at, policy=POLICY,
    )
    orders_by_key[key], known[shipment.id] = shipped, shipment
    return shipment, events


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
    orders_shipped = {(order.seller_id, order.order_id): order for order, _, _ in shipped}  # each once, as it ends
    await repository.save_orders(conn, list(orders_shipped.values()), POLICY)
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
