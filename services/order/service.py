"""Order use cases: each runs inside the caller's transaction, changes orders through the domain and
stages the events it causes in the outbox.

A refused step (a transition the table forbids, a reservation that does not match the order, an
unknown order) raises `Unprocessable`: the consumer dead-letters that one event with the reason.
Reasons name orders, SKUs and statuses, never buyer data.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import asyncpg

from services.order import publishing, repository
from services.order.domain import Order, OrderError, OrderLine, Reservation, ShipTo
from services.order.domain_events import OrderEvent
from services.order.lines import ReservedLine
from services.order.promises import DEFAULT_POLICY
from shared.events import Event, ingress, listing
from shared.events import fulfillment as shipments
from shared.events.clock import ClockTicked
from shared.events.order import OrderRejection
from shared.messaging import outbox
from shared.messaging.consumer import Unprocessable

log = logging.getLogger(__name__)

POLICY = DEFAULT_POLICY
#: Orders a clock tick changes per statement; a tick goes on until none is due.
TICK_CHUNK = 2000


class UnknownOrder(LookupError):
    pass


@contextmanager
def refusals(order_id: str) -> Iterator[None]:
    """A domain refusal of an event becomes the reason it is dead-lettered with."""
    try:
        yield
    except OrderError as error:
        raise Unprocessable(f"order {order_id}: {error}") from error


async def place_order(conn: asyncpg.Connection, event: Event[Any]) -> None:
    """A storefront's order: stored pending (or rejected if malformed). An order id seen before is skipped."""
    placed = event.data_as(ingress.CheckoutOrderPlaced)
    to = placed.ship_to
    order, events = Order.place(
        id=placed.order_id, seller_id=event.sellerid, buyer_id=placed.buyer_id, currency=placed.currency,
        lines=[OrderLine(line.sku, line.quantity, line.unit_price.amount, line.listing_id) for line in placed.lines],
        purchased_at=placed.purchased_at, shipping_speed=placed.shipping_speed, channel=placed.fulfillment_channel,
        ship_to=ShipTo(to.name, tuple(to.lines), to.city, to.region, to.postal_code, to.country, to.phone),
    )
    if not await repository.insert_new(conn, order, POLICY, event.time):
        log.info("order id seen before; acknowledged, not applied again", extra={"order_id": order.id})
        return
    await outbox.stage(conn, publishing.envelopes(order, events))


async def confirm_order(conn: asyncpg.Connection, event: Event[Any]) -> None:
    """Stock reserved: unshipped, with ship-by and deliver-by from the reservation's handling days."""
    reserved = event.data_as(listing.InventoryReserved)
    lines = tuple(ReservedLine(line.listing_id, line.sku, line.quantity) for line in reserved.lines)
    await _change(conn, event.sellerid, reserved.order_id, event.time,
                  lambda order: order.confirm(Reservation(lines, reserved.handling_days), at=event.time, policy=POLICY))


async def reject_order(conn: asyncpg.Connection, event: Event[Any]) -> None:
    """Stock could not be reserved: rejected with the listing service's reason."""
    failed = event.data_as(listing.InventoryReservationFailed)
    reason = OrderRejection(failed.reason.value)
    await _change(conn, event.sellerid, failed.order_id, event.time,
                  lambda order: order.reject(reason, at=event.time, detail=failed.detail))


async def request_cancellation(conn: asyncpg.Connection, event: Event[Any]) -> None:
    """The buyer asks to cancel before shipment; the seller accepts or ships."""
    request = event.data_as(ingress.CheckoutCancellationRequested)

    def ask(order: Order) -> list[OrderEvent]:
        if order.buyer_id != request.buyer_id:
            raise OrderError("the cancellation request comes from another buyer than the order's")
        return order.request_cancellation(request.requested_at, request.reason)

    await _change(conn, event.sellerid, request.order_id, event.time, ask)


async def record_shipment(conn: asyncpg.Connection, event: Event[Any]) -> None:
    """Units left (seller's or marketplace's shipment): partially shipped or shipped."""
    shipment = event.data_as(shipments.ShipmentConfirmed)
    lines: dict[str, int] = {}
    for line in shipment.lines:
        lines[line.sku] = lines.get(line.sku, 0) + line.quantity
    await _change(conn, event.sellerid, shipment.order_id, shipment.shipped_at,
                  lambda order: order.record_shipment(lines, shipment.shipped_at, shipment_id=shipment.shipment_id))


async def record_delivery(conn: asyncpg.Connection, event: Event[Any]) -> None:
    """A shipment arrived; the order is delivered once every shipment has."""
    delivered = event.data_as(shipments.ShipmentDelivered)
    await _change(conn, event.sellerid, delivered.order_id, delivered.delivered_at,
                  lambda order: order.record_delivery(delivered.shipment_id, delivered.delivered_at))


async def on_clock_tick(conn: asyncpg.Connection, event: Event[Any]) -> None:
    """Deadlines up to `now`: auto-cancel unshipped merchant orders, erase expired buyer data."""
    now = event.data_as(ClockTicked).now
    await _sweep(conn, now, repository.due_for_auto_cancel, lambda order: order.auto_cancel(now, POLICY))
    erased = await _sweep(conn, now, repository.due_for_erasure, lambda order: order.erase_pii(now, POLICY))
    if erased:  # the relayed copies of `order.confirmed` carried the ship-to
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


Step = Callable[[Order], list[OrderEvent]]


async def _change(conn: asyncpg.Connection, seller_id: str, order_id: str, at: datetime, step: Step) -> None:
    """An event's change to one order; refusals are dead-lettered."""
    with refusals(order_id):
        try:
            await _command(conn, seller_id, order_id, at, step)
        except UnknownOrder:
            raise Unprocessable(f"order {order_id}: unknown to this seller") from None


async def _command(conn: asyncpg.Connection, seller_id: str, order_id: str, at: datetime, step: Step) -> Order:
    order = await repository.load(conn, seller_id, order_id, for_update=True)
    if order is None:
        raise UnknownOrder(order_id)
    events = step(order)
    await repository.save(conn, [order], POLICY, at)
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
        await repository.save(conn, orders, POLICY, now)
        await outbox.stage(conn, events)
        changed += orders
        if len(orders) < TICK_CHUNK:
            break
    if changed:
        log.info("deadlines applied", extra={"orders": len(changed), "now": now.isoformat()})
    return changed

