"""The consumer's use cases: keep the order read model, apply or park each ingress item, run deadlines.

One batch is one transaction (the consumer's). Order and shipment events are folded first, set-based,
so an item that arrives in the same batch as its order finds it; then the items waiting for those
orders are applied in arrival order; then the batch's other events in order. An item for an order
not known yet is parked (in this transaction, with its record) and applied when the order arrives,
or dead-lettered from a clock tick once it has waited `park_for` of business time: never dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Final

import asyncpg

from services.aftersales import claims, feedback, messages, read_model, repository, returns, sellers
from services.aftersales.domain import AftersalesPolicy
from services.aftersales.read_model import ORDER_FACTS, KnownOrder, NotYet, Parked
from shared import business_clock
from shared.db import TRANSIENT_DB_ERRORS
from shared.events import Event
from shared.events.clock import ClockTicked
from shared.events.ingress import (
    AtozClaimDecided,
    BankChargebackDecided,
    BankChargebackFiled,
    BuyerClaimFiled,
    BuyerClaimWithdrawn,
    BuyerFeedbackLeft,
    BuyerFeedbackRemoved,
    BuyerMessageSent,
    BuyerReturnRequested,
    BuyerReviewPosted,
)
from shared.events.order import OrderPiiErased
from shared.events.seller import SellerRegistered
from shared.messaging import dead_letters
from shared.messaging.consumer import Incoming, Unprocessable, handling, parse

log = logging.getLogger(__name__)

IngressCase = Callable[[asyncpg.Connection, Event[Any], KnownOrder | None, AftersalesPolicy], Awaitable[None]]

#: Every ingress type this service applies, and whether it waits for its order. A review is about a
#: listing: its order id only marks a verified purchase, so it never waits.
INGRESS: Final[Mapping[str, tuple[IngressCase, bool]]] = {
    BuyerMessageSent.EVENT_TYPE: (messages.receive_message, True),
    BuyerReturnRequested.EVENT_TYPE: (returns.request_return, True),
    BuyerFeedbackLeft.EVENT_TYPE: (feedback.leave_feedback, True),
    BuyerFeedbackRemoved.EVENT_TYPE: (feedback.on_buyer_removal, True),
    BuyerReviewPosted.EVENT_TYPE: (feedback.post_review, False),
    BuyerClaimFiled.EVENT_TYPE: (claims.file_claim, True),
    BuyerClaimWithdrawn.EVENT_TYPE: (claims.withdraw_claim, True),
    AtozClaimDecided.EVENT_TYPE: (claims.on_atoz_decision, True),
    BankChargebackFiled.EVENT_TYPE: (claims.file_chargeback, True),
    BankChargebackDecided.EVENT_TYPE: (claims.decide_chargeback, True),
}


class ParkingExpired(Unprocessable):
    """An item waited `park_for` for its order (or its delivery) and is dead-lettered."""


async def apply_item(conn: asyncpg.Connection, event: Event[Any], policy: AftersalesPolicy) -> None:
    """Apply one ingress item; NotYet when its order (or, for a return, the delivery) is not known yet."""
    case, waits_for_order = INGRESS[event.type]
    order_id: str | None = getattr(event.data, "order_id", None)
    order = None
    if waits_for_order and order_id is not None:
        order = await read_model.known_order(conn, event.sellerid, order_id)
        if order is None:
            raise NotYet("order")
    await case(conn, event, order, policy)


@dataclass(frozen=True)
class AftersalesConsumer:
    """The batch handler: `await consumer(conn, batch)` inside the consumer's transaction."""

    policy: AftersalesPolicy
    group: str  # the consumer group, named in dead letters

    #: What this service applies; the consumer skips other types (no parse, no inbox row).
    handled_types: ClassVar[frozenset[str]] = frozenset({
        *(fact.EVENT_TYPE for fact in ORDER_FACTS), *INGRESS, ClockTicked.EVENT_TYPE, OrderPiiErased.EVENT_TYPE,
        SellerRegistered.EVENT_TYPE})

    async def __call__(self, conn: asyncpg.Connection, batch: Sequence[Incoming]) -> None:
        registrations = [item.event for item in batch if isinstance(item.event.data, SellerRegistered)]
        if registrations:
            await sellers.record_registrations(conn, registrations)
        facts = [item.event for item in batch if isinstance(item.event.data, ORDER_FACTS)]
        if facts:
            touched = await read_model.apply_facts(conn, facts)
            await self.release(conn, touched)
        strangers = await sellers.unknown(conn, {item.event.sellerid for item in batch if item.event.type in INGRESS})
        for item in batch:
            data = item.event.data
            if isinstance(data, (*ORDER_FACTS, SellerRegistered)):
                continue
            with handling(item):
                if item.event.type in INGRESS and item.event.sellerid in strangers:
                    await self.refuse(conn, item, sellers.refusal(item.event.sellerid))
                elif item.event.type in INGRESS:
                    await self.receive(conn, item)
                elif isinstance(data, ClockTicked):
                    await self.tick(conn, data.now)
                elif isinstance(data, OrderPiiErased):
                    await read_model.erase_texts(conn, item.event.sellerid, data.order_id)

    async def receive(self, conn: asyncpg.Connection, item: Incoming) -> None:
        try:
            await apply_item(conn, item.event, self.policy)
        except NotYet as waiting:
            await self.park(conn, item, waiting.waiting_for)

    async def refuse(self, conn: asyncpg.Connection, item: Incoming, reason: str) -> None:
        """Dead-letter an item that can never apply, in this transaction; the rest of the batch goes on."""
        letter = dead_letters.DeadLetter(record=item.record, logical_topic=item.topic, group=self.group,
                                         error_type=Unprocessable.__name__, reason=reason)
        await dead_letters.stage_once(conn, [letter], service="aftersales")
        log.error("item refused", extra={"reason": reason})

    async def park(self, conn: asyncpg.Connection, item: Incoming, waiting_for: str) -> None:
        event = item.event
        order_id: str = event.data.order_id
        now = await business_clock.current(conn)
        parked_at = max(event.time, now) if now is not None else event.time
        parked = await read_model.park(
            conn, seller_id=event.sellerid, order_id=order_id, waiting_for=waiting_for, event_id=event.id,
            event_type=event.type, record=item.record, logical_topic=item.topic, parked_at=parked_at,
            expires_at=parked_at + self.policy.park_for,
        )
        log.info("item parked", extra={"order_id": order_id, "waiting_for": waiting_for, "new": parked})

    async def release(self, conn: asyncpg.Connection, touched: Sequence[tuple[str, str]]) -> None:
        """Apply the items waiting for these orders, in arrival order; each alone (a savepoint)."""
        for parked in await read_model.parked_for(conn, touched):
            try:
                item = Incoming(parse(parked.record, parked.logical_topic), parked.record, parked.logical_topic)
                with handling(item):
                    async with conn.transaction():
                        await apply_item(conn, item.event, self.policy)
            except NotYet as waiting:
                if waiting.waiting_for != parked.waiting_for:
                    await read_model.wait_for(conn, parked.id, waiting.waiting_for)
                continue  # still waiting
            except TRANSIENT_DB_ERRORS:
                raise
            except Exception as error:
                reason = str(error) if isinstance(error, Unprocessable) else f"{type(error).__name__}: {error}"
                await self.dead_letter(conn, parked, error, reason)
            await read_model.unpark(conn, parked.id)

    async def tick(self, conn: asyncpg.Connection, now: datetime) -> None:
        """Deadlines up to `now`: overdue replies and returns recorded; items that waited too long dead-lettered;
        the texts of messages about no order erased once their retention is over."""
        overdue = await repository.mark_overdue(conn, now)
        await read_model.erase_orderless_texts(conn, now - self.policy.orderless_text_retention)
        expired = await read_model.expire_parked(conn, now)
        for parked in expired:
            reason = _expiry_reason(parked, self.policy.park_for)
            await self.dead_letter(conn, parked, ParkingExpired(reason), reason)
        if any(overdue.values()) or expired:
            log.info("deadlines passed", extra={"now": now.isoformat(), **overdue, "parked_expired": len(expired)})

    async def dead_letter(self, conn: asyncpg.Connection, parked: Parked, error: BaseException, reason: str) -> None:
        letter = dead_letters.DeadLetter(record=parked.record, logical_topic=parked.logical_topic, group=self.group,
                                         error_type=type(error).__name__, reason=reason)
        await dead_letters.stage_once(conn, [letter], service="aftersales")
        log.error("parked item dead-lettered", extra={"order_id": parked.order_id, "reason": reason})


def _expiry_reason(parked: Parked, waited: timedelta) -> str:
    days = f"{waited / timedelta(days=1):g} days"
    if parked.waiting_for == "delivery":
        return f"order {parked.order_id} not delivered within {days}: a return needs a delivered order"
    return f"order {parked.order_id} unknown: no order.placed or order.confirmed within {days}"
