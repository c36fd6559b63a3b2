"""Returns and refunds: a return within 30 days of delivery, answered within 48 hours; refunds that
together never exceed what the buyer paid.

Lock order everywhere: the order's read-model row first (it serialises the refunds of one order),
then the aggregate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from services.aftersales import read_model, repository, wire
from services.aftersales.disputes import Claim
from services.aftersales.domain import AftersalesPolicy, OrderRefunds, Refund, Return
from services.aftersales.lifecycle import Refused
from services.aftersales.read_model import KnownOrder, NotYet
from services.aftersales.repository import RETURNS, NotFound
from shared.events import Event
from shared.events.aftersales import (
    RefundIssued,
    ReturnAuthorized,
    ReturnReceived,
    ReturnRejected,
    ReturnRequested,
)
from shared.events.common import RefundInitiator
from shared.events.ingress import BuyerReturnRequested

log = logging.getLogger(__name__)


async def request_return(
    conn: asyncpg.Connection, event: Event[Any], order: KnownOrder | None, policy: AftersalesPolicy
) -> None:
    """A buyer's return request; it waits for the delivery if that is not known yet. Too late: refused."""
    data = event.data_as(BuyerReturnRequested)
    assert order is not None
    if order.delivered_at is None:
        raise NotYet("delivery")
    seller = event.sellerid
    if await RETURNS.get(conn, seller, data.return_id) is not None:
        log.info("return id seen before; skipped", extra={"return_id": data.return_id})
        return
    ret = Return.request(data.return_id, order.order_id, delivered_at=order.delivered_at, at=data.requested_at,
                         policy=policy)
    await RETURNS.insert(conn, seller, ret, reason=str(data.reason))
    requested = ReturnRequested(**_return_facts(order, ret), reason=data.reason)
    await wire.stage(conn, seller, ret.return_id, ret.requested_at, [requested])


async def authorize(conn: asyncpg.Connection, seller_id: str, return_id: str, *, at: datetime) -> Return:
    order, ret = await _load(conn, seller_id, return_id)
    ret.authorize(at=at)
    await RETURNS.update(conn, seller_id, ret)
    answer = ReturnAuthorized(**_return_facts(order, ret), answered_at=at, answered_late=ret.answered_late)
    await wire.stage(conn, seller_id, return_id, at, [answer])
    return ret


async def reject(conn: asyncpg.Connection, seller_id: str, return_id: str, reason: str, *, at: datetime) -> Return:
    order, ret = await _load(conn, seller_id, return_id)
    ret.reject(reason, at=at)
    await RETURNS.update(conn, seller_id, ret)
    answer = ReturnRejected(**_return_facts(order, ret), answered_at=at, reason=reason,
                            answered_late=ret.answered_late)
    await wire.stage(conn, seller_id, return_id, at, [answer])
    return ret


async def mark_received(
    conn: asyncpg.Connection, seller_id: str, return_id: str, *, at: datetime, policy: AftersalesPolicy
) -> Return:
    """The item is back: it must be refunded within 2 days."""
    order, ret = await _load(conn, seller_id, return_id)
    ret.receive(at=at, policy=policy)
    await RETURNS.update(conn, seller_id, ret)
    assert ret.refund_due_by is not None
    received = ReturnReceived(**_return_facts(order, ret), received_at=at, refund_by=ret.refund_due_by)
    await wire.stage(conn, seller_id, return_id, at, [received])
    return ret


@dataclass(frozen=True)
class Refunded:
    refund: Refund
    refundable_left: Decimal
    repeated: bool = False  # the same refund id asked again: nothing new was issued


async def refund_return(
    conn: asyncpg.Connection, seller_id: str, return_id: str, *, refund_id: str, amount: Decimal | None,
    reason: str | None, at: datetime,
) -> Refunded:
    """The seller refunds a return (what is left to refund of the order, unless an amount is given)."""
    order, ret = await _load(conn, seller_id, return_id)
    reason = reason or f"return {return_id}"
    return await seller_refund(conn, order, refund_id=refund_id, amount=amount, reason=reason, at=at, ret=ret)


async def refund_order(
    conn: asyncpg.Connection, seller_id: str, order_id: str, *, refund_id: str, amount: Decimal, reason: str,
    at: datetime,
) -> Refunded:
    order = await read_model.known_order(conn, seller_id, order_id, lock=True)
    if order is None:
        raise NotFound(f"no order {order_id} for this seller")
    return await seller_refund(conn, order, refund_id=refund_id, amount=amount, reason=reason, at=at)


async def seller_refund(
    conn: asyncpg.Connection, order: KnownOrder, *, refund_id: str, amount: Decimal | None, reason: str,
    at: datetime, ret: Return | None = None,
) -> Refunded:
    """A refund the seller issues; a refund id used before for the same amount is answered, not repeated."""
    refunds = OrderRefunds(order.order_id, order.total, order.currency,
                           await repository.refunds_of(conn, order.seller_id, order.order_id))
    previous = next((r for r in refunds.refunds if r.refund_id == refund_id), None)
    if previous is not None and amount in (None, previous.amount):
        return Refunded(previous, refunds.refundable, repeated=True)
    if previous is None and await repository.refund_amount(conn, order.seller_id, refund_id) is not None:
        raise Refused(f"refund id {refund_id} was used for another order")
    refund = await issue_refund(conn, order, refunds, refund_id=refund_id, amount=amount, reason=reason,
                                initiated_by=RefundInitiator.SELLER, at=at, ret=ret)
    return Refunded(refund, refunds.refundable)


async def issue_refund(
    conn: asyncpg.Connection, order: KnownOrder, refunds: OrderRefunds, *, refund_id: str, amount: Decimal | None,
    reason: str, initiated_by: RefundInitiator, at: datetime, ret: Return | None = None, claim: Claim | None = None,
) -> Refund:
    """Issue a refund of a locked order (`amount` None: all that is left); it may settle a return, and a
    seller's refund after a claim was filed makes that claim a defect."""
    seller = order.seller_id
    if ret is not None:
        ret.refund(at=at, initiated_by=initiated_by)  # refuses before anything is written
    refund = refunds.issue(refund_id, refunds.refundable if amount is None else amount, order.currency,
                           reason=reason, initiated_by=initiated_by, at=at)
    if initiated_by is RefundInitiator.SELLER:
        concerned = [c for c in await repository.claims_of(conn, seller, order.order_id)
                     if c.record_seller_refund(at=at)]
        for concerned_claim in concerned:
            await repository.CLAIMS.update(conn, seller, concerned_claim)
        claim = concerned[-1] if concerned else None
    if ret is not None:
        await RETURNS.update(conn, seller, ret)
    await repository.insert_refund(conn, seller, refund, return_id=ret.return_id if ret else None,
                                   claim_id=claim.claim_id if claim else None)
    issued = RefundIssued(
        **wire.order_facts(order), refund_id=refund_id, amount=wire.money(refund.amount, order.currency),
        order_total=wire.money(order.total, order.currency), reason=reason, initiated_by=initiated_by,
        issued_at=at, return_id=ret.return_id if ret else None, claim_id=claim.claim_id if claim else None,
        claim_counts_against_seller=claim.counts_as_defect if claim else None,
        return_requested_at=ret.requested_at if ret else None,
        return_answered_late=ret.answered_late if ret else None,
        rejected_return_refunded_by_claim=ret.rejected_then_refunded_by_claim if ret else None,
    )
    await wire.stage(conn, seller, refund_id, at, [issued])
    return refund


async def _load(conn: asyncpg.Connection, seller_id: str, return_id: str) -> tuple[KnownOrder, Return]:
    """The return and its order, both locked (the order first)."""
    found = await RETURNS.get(conn, seller_id, return_id)
    if found is None:
        raise NotFound(f"no return {return_id} for this seller")
    order = await read_model.known_order(conn, seller_id, found.order_id, lock=True)
    ret = await RETURNS.get(conn, seller_id, return_id, lock=True)
    assert order is not None and ret is not None  # a return is only recorded for a known order
    return order, ret


def _return_facts(order: KnownOrder, ret: Return) -> dict[str, Any]:
    return {**wire.order_facts(order), "return_id": ret.return_id, "requested_at": ret.requested_at,
            "answer_by": ret.answer_due_by}
