"""Consumed order events applied a run at a time (design.md section 7).

A run of consecutive order events costs the same few statements whatever its length: one SELECT ...
FOR UPDATE of every order it names, the domain applied in memory in batch order (one `Order` per key
for the whole run, so an event sees what an earlier event of the run did), one INSERT of the new
orders and one pipelined UPDATE of the changed ones. Each event's outgoing events are made under its
own trace context and staged in batch order into the consumer's outbox batch (no round trip).

A refusal raises `Unprocessable` as for a single event: the consumer rolls the batch back and applies
it again event by event (runs of one), dead-lettering only the refused event.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from services.order import publishing, repository
from services.order.domain import Order
from services.order.domain_events import OrderEvent
from services.order.repository import OrderKey
from services.order.service import POLICY, Change, Placement, asked, refusals
from shared.messaging import outbox
from shared.messaging.consumer import Incoming, Unprocessable, handling
from shared.messaging.outbox import OutboxRow

log = logging.getLogger(__name__)


class PlacedConcurrently(RuntimeError):
    """Another transaction inserted an order this run placed and then changed. Not a refusal: the consumer
    applies the batch again event by event, and then finds that order stored."""


async def apply_order_events(conn: asyncpg.Connection, run: Sequence[Incoming]) -> None:
    """Every order-changing event of a run (`service.ASKS`), set-based, in batch order."""
    asks = [(item, asked(item.event)) for item in run]
    keys = {(item.event.sellerid, ask.order_id) for item, ask in asks}
    work = RunOfOrders(await repository.load_locked(conn, keys))
    for item, ask in asks:
        with handling(item):  # the log context, and the trace its outgoing events continue
            work.apply(item.event.sellerid, ask)
    inserted = await repository.insert_new(conn, [(work.orders[k], at) for k, at in work.placed.items()], POLICY)
    await repository.save(conn, [(work.orders[k], at) for k, at in work.changed.items()], POLICY)
    await outbox.stage_rows(conn, work.rows(inserted))


@dataclass
class RunOfOrders:
    """The orders a run works on, as its events have changed them so far, and what to write back."""

    orders: dict[OrderKey, Order]  # stored ones (locked), then those the run places
    placed: dict[OrderKey, datetime] = field(default_factory=dict)  # new in this run -> its updated_at
    changed: dict[OrderKey, datetime] = field(default_factory=dict)  # stored and changed -> its updated_at
    staged: list[tuple[OrderKey, list[OutboxRow]]] = field(default_factory=list)  # per applied event, in order

    def apply(self, seller_id: str, ask: Placement | Change) -> None:
        key = (seller_id, ask.order_id)
        if isinstance(ask, Placement):
            self._place(key, ask)
            return
        order = self.orders.get(key)
        if order is None:
            raise Unprocessable(f"order {ask.order_id}: unknown to this seller")
        if ask.matters is not None and not ask.matters(order):
            return
        with refusals(ask.order_id):
            events = ask.step(order)
        (self.placed if key in self.placed else self.changed)[key] = ask.at
        self._stage(key, order, events)

    def _place(self, key: OrderKey, placement: Placement) -> None:
        if key in self.orders:  # stored, or placed earlier in the run
            log.info("order id seen before; acknowledged, not applied again", extra={"order_id": key[1]})
            return
        self.orders[key] = placement.order
        self.placed[key] = placement.at
        self._stage(key, placement.order, placement.events)

    def _stage(self, key: OrderKey, order: Order, events: list[OrderEvent]) -> None:
        # An outbox row takes the trace context current now: the event being applied.
        self.staged.append((key, [outbox.event_row(event) for event in publishing.envelopes(order, events)]))

    def rows(self, inserted: set[OrderKey]) -> list[OutboxRow]:
        """The rows to stage, in batch order. An order placed here but inserted meanwhile by another
        transaction was seen before: acknowledged, its rows dropped, unless the run changed it further."""
        lost = self.placed.keys() - inserted
        for key in lost:
            if sum(1 for staged, _ in self.staged if staged == key) > 1:
                raise PlacedConcurrently(f"order {key[1]} was placed by another transaction meanwhile")
            log.info("order id seen before; acknowledged, not applied again", extra={"order_id": key[1]})
        return [row for key, rows in self.staged if key not in lost for row in rows]
