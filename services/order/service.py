"""Order use cases. Each runs inside the caller's transaction, changes orders through the domain and
stages the events it causes in the outbox.

A consumed event is first read as what it asks of its order (`ASKS`: a `Placement` of a new order or a
`Change` to one the seller has, pure); `batch.py` applies a run of them set-based. HTTP commands and
clock ticks are applied here.

A refused step (a transition the table forbids, a reservation that does not match the order, an
unknown order) raises `Unprocessable`: the consumer dead-letters that one event with the reason.
Reasons name orders, SKUs and statuses, never buyer data.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

import asyncpg

from services.order import publishing, repository
from services.order.domain import NOT_DELIVERED_SCANS, Order, OrderError, OrderLine, Reservation, ShipTo
from services.order.domain_events import OrderEvent
from services.order.lines import ReservedLine
from services.order.promises import DEFAULT_POLICY
from shared.crypto import DataKey
from shared.events import Event, Payload, ingress, listing
from shared.events import fulfillment as shipments
from shared.events.clock import ClockTicked
from shared.events.order import OrderRejection
from shared.messaging import outbox
from shared.messaging.consumer import Unprocessable
from shared.settings import get_settings

log = logging.getLogger(__name__)

#: The order policy, with the holiday settings of the environment (HOLIDAYS_ADD, HOLIDAYS_REMOVE).
POLICY = replace(DEFAULT_POLICY, holidays_add=get_settings().holidays_add,
                 holidays_remove=get_settings().holidays_remove)
#: Orders a clock tick changes per statement; a tick goes on until none is due.
TICK_CHUNK = 2000

Step = Callable[[Order], list[OrderEvent]]


class UnknownOrder(LookupError):
    pass


@contextmanager
def refusals(order_id: str) -> Iterator[None]:
    """A domain refusal of an event becomes the reason it is dead-lettered with."""
    try:
        yield
    except OrderError as error:
        raise Unprocessable(f"order {order_id}: {error}") from error


@dataclass(frozen=True)
class Placement:
    """A storefront's new order as placed, and what placing it says: stored unless its id is known."""

    order: Order
    events: list[OrderEvent]
    at: datetime

    @property
    def order_id(self) -> str:
        return self.order.id


@dataclass(frozen=True)
class Change:
    """What an event asks of an order the seller has: `step`, at business time `at` (its `updated_at`).
    `matters`, when given, says whether the step can change this order at all: if not, it is skipped and
    the order is not written back (most carrier scans change nothing here)."""

    order_id: str
    at: datetime
    step: Step
    matters: Callable[[Order], bool] | None = None


def place_order(event: Event[Any]) -> Placement:
    """A storefront's order: pending (or rejected if malformed). An order id seen before is not placed again."""
    placed = event.data_as(ingress.CheckoutOrderPlaced)
    to = placed.ship_to
    order, events = Order.place(
        id=placed.order_id, seller_id=event.sellerid, buyer_id=placed.buyer_id, currency=placed.currency,
        lines=[OrderLine(line.sku, line.quantity, line.unit_price.amount, line.listing_id) for line in placed.lines],
        purchased_at=placed.purchased_at, shipping_speed=placed.shipping_speed, channel=placed.fulfillment_channel,
        ship_to=ShipTo(to.name, tuple(to.lines), to.city, to.region, to.postal_code, to.country, to.phone),
        data_key=DataKey.generate(),
    )
    return Placement(order, events, event.time)


def confirm_order(event: Event[Any]) -> Change:
    """Stock reserved: unshipped, with ship-by and deliver-by from the reservation's handling days."""
    reserved = event.data_as(listing.InventoryReserved)
    lines = tuple(ReservedLine(line.listing_id, line.sku, line.quantity) for line in reserved.lines)
    reservation = Reservation(lines, reserved.handling_days, reserved.seller_country)
    return Change(reserved.order_id, event.time, lambda order: order.confirm(reservation, at=event.time, policy=POLICY))


def reject_order(event: Event[Any]) -> Change:
    """Stock could not be reserved: rejected with the listing service's reason."""
    failed = event.data_as(listing.InventoryReservationFailed)
    reason = OrderRejection(failed.reason.value)
    return Change(failed.order_id, event.time, lambda order: order.reject(reason, at=event.time, detail=failed.detail))


def request_cancellation(event: Event[Any]) -> Change:
    """The buyer asks to cancel before shipment; the seller accepts or ships."""
    request = event.data_as(ingress.CheckoutCancellationRequested)

    def ask(order: Order) -> list[OrderEvent]:
        if order.buyer_id != request.buyer_id:
            raise OrderError("the cancellation request comes from another buyer than the order's")
        return order.request_cancellation(request.requested_at, request.reason)

    return Change(request.order_id, event.time, ask)


def record_shipment(event: Event[Any]) -> Change:
    """Units left (seller's or marketplace's shipment): partially shipped or shipped."""
    shipment = event.data_as(shipments.ShipmentConfirmed)
    lines: dict[str, int] = {}
    for line in shipment.lines:
        lines[line.sku] = lines.get(line.sku, 0) + line.quantity
    return Change(shipment.order_id, shipment.shipped_at,
                  lambda order: order.record_shipment(lines, shipment.shipped_at, shipment_id=shipment.shipment_id))


def record_delivery(event: Event[Any]) -> Change:
    """A shipment arrived; the order is delivered once every shipment has."""
    delivered = event.data_as(shipments.ShipmentDelivered)
    return Change(delivered.order_id, delivered.delivered_at,
                  lambda order: order.record_delivery(delivered.shipment_id, delivered.delivered_at))


def record_carrier_scan(event: Event[Any]) -> Change:
    """A carrier scan: a parcel lost or returned to sender starts the erasure clock of its buyer's data."""
    scan = event.data_as(shipments.ShipmentTrackingUpdated)
    return Change(scan.order_id, scan.scanned_at,
                  lambda order: order.record_carrier_scan(scan.shipment_id, scan.status, scan.scanned_at),
                  matters=lambda order: scan.status in NOT_DELIVERED_SCANS or scan.shipment_id in order.lost_parcels)


#: Every order-changing event this service consumes, and what it asks: applied a run at a time (batch.py).
ASKS: Mapping[type[Payload], Callable[[Event[Any]], Placement | Change]] = MappingProxyType({
    ingress.CheckoutOrderPlaced: place_order,
    ingress.CheckoutCancellationRequested: request_cancellation,
    listing.InventoryReserved: confirm_order,
    listing.InventoryReservationFailed: reject_order,
    shipments.ShipmentConfirmed: record_shipment,
    shipments.ShipmentDelivered: record_delivery,
    shipments.ShipmentTrackingUpdated: record_carrier_scan,
})


def asked(event: Event[Any]) -> Placement | Change:
    """What a consumed order event asks (pure: nothing is read or changed yet)."""
    return ASKS[type(event.data)](event)


async def on_clock_tick(conn: asyncpg.Connection, event: Event[Any]) -> None:
    """Deadlines up to `now`: auto-cancel unshipped merchant orders, erase expired buyer data."""
    now = event.data_as(ClockTicked).now
    await _sweep(conn, now, repository.due_for_auto_cancel, lambda order: order.auto_cancel(now, POLICY))
    erased = await _sweep(conn, now, repository.due_for_erasure, lambda order: order.erase_pii(now, POLICY))
    if erased:  # defence in depth: sealed, the relayed copies are unreadable once the key is gone anyway
        await repository.forget_sent_events(
            conn, [publishing.confirmation_event_id(order.seller_id, order.id) for order in erased]
        )


async def cancel_by_seller(conn: asyncpg.Connection, seller_id: str, order_id: str, reason: str,
                           at: datetime) -> Order:
    """The seller cancels before shipment, with a reason: counted against the seller."""
    return await _command(conn, seller_id, order_id, at, lambda order: order.cancel_by_seller(reason, at))


async def accept_cancellation(conn: asyncpg.Connection, seller_id: str, order_id: str, at: datetime) -> Order:
    """The seller accepts the buyer's open request: a buyer cancellation, not counted against the seller."""
    return await _command(conn, seller_id, order_id, at, lambda order: order.accept_cancellation(at))


async def _command(conn: asyncpg.Connection, seller_id: str, order_id: str, at: datetime, step: Step) -> Order:
    order = await repository.load(conn, seller_id, order_id, for_update=True)
    if order is None:
        raise UnknownOrder(order_id)
    events = step(order)
    await repository.save(conn, [(order, at)], POLICY)
    await outbox.stage(conn, publishing.envelopes(order, events))
    return order


async def _sweep(
    conn: asyncpg.Connection,
    now: datetime,
    due: Callable[[asyncpg.Connection, datetime, int], Awaitable[list[Order]]],
    step: Step,
) -> list[Order]:
    """Apply `step` to every due order, a chunk at a time: set-based reads and writes, one lock each."""
    changed: list[Order] = []
    while orders := await due(conn, now, TICK_CHUNK):
        events = [event for order in orders for event in publishing.envelopes(order, step(order))]
        await repository.save(conn, [(order, now) for order in orders], POLICY)
        await outbox.stage(conn, events)
        changed += orders
        if len(orders) < TICK_CHUNK:
            break
    if changed:
        log.info("deadlines applied", extra={"orders": len(changed), "now": now.isoformat()})
    return changed

