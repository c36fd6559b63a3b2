"""Order use cases: each runs inside the caller's transaction and stages the events it causes."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import asyncpg

from services.order import repository
from services.order.repository import OrderRow
from shared.events import Event, new_event
from shared.events.common import Money, OrderStatus
from shared.events.ingress import CheckoutOrderPlaced
from shared.events.order import OrderPlaced, PlacedLine
from shared.messaging import outbox

log = logging.getLogger(__name__)
SOURCE = "/sellerflow/order"


async def place_order(conn: asyncpg.Connection, event: Event[Any]) -> None:
    """A storefront's order: stored as pending, announced as `order.placed`. An order id seen before is skipped."""
    order = event.data_as(CheckoutOrderPlaced)
    total = sum((line.unit_price.amount * line.quantity for line in order.lines), Decimal("0"))
    row = OrderRow(
        seller_id=event.sellerid,
        order_id=order.order_id,
        buyer_id=order.buyer_id,
        status=OrderStatus.PENDING,
        currency=order.currency,
        total=total,
        purchased_at=order.purchased_at,
        shipping_speed=order.shipping_speed,
        fulfillment_channel=order.fulfillment_channel,
        lines=[line.model_dump(mode="json") for line in order.lines],
        ship_to=order.ship_to.model_dump(mode="json"),
        ship_to_country=order.ship_to.country,
        ship_by=None,
        deliver_by=None,
        updated_at=event.time,
    )
    if not await repository.insert_new(conn, row):
        log.info("order id seen before; skipped", extra={"order_id": order.order_id})
        return
    placed = OrderPlaced(
        order_id=order.order_id,
        purchased_at=order.purchased_at,
        fulfillment_channel=order.fulfillment_channel,
        buyer_id=order.buyer_id,
        lines=[PlacedLine.model_validate(line.model_dump()) for line in order.lines],
        currency=order.currency,
        total=Money(amount=total, currency=order.currency),
        shipping_speed=order.shipping_speed,
        ship_to_country=order.ship_to.country,
    )
    await outbox.stage(conn, [new_event(placed, seller_id=event.sellerid, subject=order.order_id,
                                        time=event.time, source=SOURCE)])
