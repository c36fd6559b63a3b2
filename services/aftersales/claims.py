"""A-to-z claims and chargebacks: their life cycles, outcomes, and whether each counts against the seller.

A claim is decided by the A-to-z team (ingress `atoz.claim_decided`) or an operator over HTTP, with
the same rules: a grant is marketplace-funded automatically for a delivery claim on an order that
shipped on time with valid tracking; a granted refund is issued (capped at what is left to refund);
an appeal reverses a grant.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from services.aftersales import read_model, repository, returns, wire
from services.aftersales.disputes import Chargeback, Claim, ClaimStatus, auto_funding
from services.aftersales.domain import AftersalesPolicy, OrderRefunds
from services.aftersales.read_model import KnownOrder
from services.aftersales.repository import CHARGEBACKS, CLAIMS, NotFound
from shared.events import Event
from shared.events.common import ClaimOutcome, RefundInitiator
from shared.events.disputes import ChargebackDecided, ChargebackFiled, ClaimDecided, ClaimFiled
from shared.events.ingress import (
    AtozClaimDecided,
    BankChargebackDecided,
    BankChargebackFiled,
    BuyerClaimFiled,
    BuyerClaimWithdrawn,
)
from shared.messaging.consumer import Unprocessable

log = logging.getLogger(__name__)
_GRANTED = (ClaimOutcome.GRANTED_SELLER_FUNDED, ClaimOutcome.GRANTED_MARKETPLACE_FUNDED)


async def file_claim(
    conn: asyncpg.Connection, event: Event[Any], order: KnownOrder | None, policy: AftersalesPolicy
) -> None:
    data = event.data_as(BuyerClaimFiled)
    assert order is not None
    claim = Claim.file(data.claim_id, order.order_id, data.reason, at=data.filed_at,
                       cancelled_by_seller=order.cancelled_by_seller)
    if data.amount.currency != order.currency:
        raise Unprocessable(f"claim {data.claim_id} is in {data.amount.currency}, order in {order.currency}")
    if not await CLAIMS.insert(conn, event.sellerid, claim, amount=data.amount.amount, currency=order.currency):
        log.info("claim id seen before; skipped", extra={"claim_id": data.claim_id})
        return
    filed = ClaimFiled(**wire.order_facts(order), claim_id=claim.claim_id, reason=claim.reason, amount=data.amount,
                       filed_at=claim.filed_at)
    await wire.stage(conn, event.sellerid, claim.claim_id, claim.filed_at, [filed])


async def withdraw_claim(
    conn: asyncpg.Connection, event: Event[Any], order: KnownOrder | None, policy: AftersalesPolicy
) -> None:
    data = event.data_as(BuyerClaimWithdrawn)
    assert order is not None
    claim, _ = await _claim_of(conn, event.sellerid, data.claim_id, data.order_id)
    if claim.status is ClaimStatus.WITHDRAWN:
        return  # the same withdrawal again
    claim.withdraw(at=data.withdrawn_at)
    await CLAIMS.update(conn, event.sellerid, claim)
    await _announce(conn, order, claim, appeal=False, decided_by=None, reason=None)


async def on_atoz_decision(
    conn: asyncpg.Connection, event: Event[Any], order: KnownOrder | None, policy: AftersalesPolicy
) -> None:
    """The A-to-z team decided a claim (or reversed its decision on appeal); a decision seen before is skipped."""
    data = event.data_as(AtozClaimDecided)
    assert order is not None
    order = await read_model.known_order(conn, order.seller_id, order.order_id, lock=True)
    assert order is not None
    claim, _ = await _claim_of(conn, event.sellerid, data.claim_id, data.order_id)
    seen = claim.reversed_at if data.reverses_earlier_decision else claim.decided_at
    if seen == data.decided_at:
        log.info("claim decision seen before; skipped", extra={"claim_id": data.claim_id})
        return
    if data.refund is not None and data.refund.currency != order.currency:
        raise Unprocessable(f"claim {data.claim_id}: refund in {data.refund.currency}, order in {order.currency}")
    refund = data.refund.amount if data.refund is not None else None
    await decide(conn, order, claim, data.outcome, at=data.decided_at, appeal=data.reverses_earlier_decision,
                 refund=refund, reason=data.reason, decided_by=None)


async def decide_by_operator(
    conn: asyncpg.Connection, seller_id: str, claim_id: str, outcome: ClaimOutcome, *, at: datetime, appeal: bool,
    refund: Decimal | None, reason: str | None,
) -> Claim:
    """An operator's decision; a grant refunds the claimed amount unless another `refund` is given."""
    found = await CLAIMS.get(conn, seller_id, claim_id)
    if found is None:
        raise NotFound(f"no claim {claim_id} for this seller")
    order = await read_model.known_order(conn, seller_id, found.order_id, lock=True)
    assert order is not None
    claim, row = await _claim_of(conn, seller_id, claim_id, found.order_id)
    if refund is None and not appeal and outcome in _GRANTED:
        refund = row["amount"]
    await decide(conn, order, claim, outcome, at=at, appeal=appeal, refund=refund, reason=reason,
                 decided_by="operator")
    return claim


async def decide(
    conn: asyncpg.Connection, order: KnownOrder, claim: Claim, outcome: ClaimOutcome, *, at: datetime, appeal: bool,
    refund: Decimal | None, reason: str | None, decided_by: str | None,
) -> None:
    """Decide (or, on appeal, reverse) a claim of a locked order; a grant's refund is issued with it."""
    claim.cancelled_by_seller = order.cancelled_by_seller  # the order may have been cancelled since filing
    if outcome is ClaimOutcome.GRANTED_SELLER_FUNDED:
        shipping = await read_model.shipping_record(conn, order.seller_id, order.order_id)
        outcome = auto_funding(claim.reason, shipping.shipped_on_time, shipping.tracking_valid)
    if appeal:
        claim.reverse_on_appeal(outcome, at=at)
    else:
        claim.decide(outcome, at=at)
    await CLAIMS.update(conn, order.seller_id, claim, decided_by=decided_by)
    await _announce(conn, order, claim, appeal=appeal, decided_by=decided_by, reason=reason)
    if not appeal and outcome in _GRANTED and refund:
        await _refund_grant(conn, order, claim, refund, at=at)


async def _refund_grant(conn: asyncpg.Connection, order: KnownOrder, claim: Claim, amount: Decimal, *,
                        at: datetime) -> None:
    """The buyer gets the granted amount back, capped at what is left to refund; it settles an open return."""
    refunds = OrderRefunds(order.order_id, order.total, order.currency,
                           await repository.refunds_of(conn, order.seller_id, order.order_id))
    amount = min(amount, refunds.refundable)
    if amount <= 0:
        log.info("claim granted on a fully refunded order; nothing to refund", extra={"claim_id": claim.claim_id})
        return
    ret = await repository.open_return_of(conn, order.seller_id, order.order_id)
    await returns.issue_refund(conn, order, refunds, refund_id=f"rf-{uuid.uuid4().hex}", amount=amount,
                               reason=f"A-to-z claim {claim.claim_id} granted", initiated_by=RefundInitiator.CLAIM,
                               at=at, ret=ret, claim=claim)


async def _announce(conn: asyncpg.Connection, order: KnownOrder, claim: Claim, *, appeal: bool,
                    decided_by: str | None, reason: str | None) -> None:
    assert claim.outcome is not None
    at = claim.reversed_at if appeal else claim.decided_at
    assert at is not None
    decided = ClaimDecided(**wire.order_facts(order), claim_id=claim.claim_id, outcome=claim.outcome,
                           counts_against_seller=claim.counts_as_defect, reverses_earlier_decision=appeal,
                           decided_by=decided_by, decided_at=at, reason=reason)
    await wire.stage(conn, order.seller_id, claim.claim_id, at, [decided])


async def _claim_of(conn: asyncpg.Connection, seller_id: str, claim_id: str,
                    order_id: str) -> tuple[Claim, asyncpg.Record]:
    found = await CLAIMS.get_row(conn, seller_id, claim_id, lock=True)
    if found is None or found[0].order_id != order_id:
        raise Unprocessable(f"no claim {claim_id} on order {order_id}")
    return found


# --- chargebacks ----------------------------------------------------------------------------------


async def file_chargeback(
    conn: asyncpg.Connection, event: Event[Any], order: KnownOrder | None, policy: AftersalesPolicy
) -> None:
    data = event.data_as(BankChargebackFiled)
    assert order is not None
    chargeback = Chargeback.file(data.chargeback_id, order.order_id, data.reason, at=data.filed_at)
    if not await CHARGEBACKS.insert(conn, event.sellerid, chargeback, amount=data.amount.amount,
                                    currency=data.amount.currency):
        log.info("chargeback id seen before; skipped", extra={"chargeback_id": data.chargeback_id})
        return
    filed = ChargebackFiled(**wire.order_facts(order), chargeback_id=chargeback.chargeback_id,
                            reason=chargeback.reason, amount=data.amount, filed_at=chargeback.filed_at)
    await wire.stage(conn, event.sellerid, chargeback.chargeback_id, chargeback.filed_at, [filed])


async def decide_chargeback(
    conn: asyncpg.Connection, event: Event[Any], order: KnownOrder | None, policy: AftersalesPolicy
) -> None:
    data = event.data_as(BankChargebackDecided)
    assert order is not None
    chargeback = await CHARGEBACKS.get(conn, event.sellerid, data.chargeback_id, lock=True)
    if chargeback is None or chargeback.order_id != data.order_id:
        raise Unprocessable(f"no chargeback {data.chargeback_id} on order {data.order_id}")
    if chargeback.outcome is data.outcome and chargeback.decided_at == data.decided_at:
        return  # the same verdict again
    chargeback.decide(data.outcome, at=data.decided_at)
    await CHARGEBACKS.update(conn, event.sellerid, chargeback)
    decided = ChargebackDecided(**wire.order_facts(order), chargeback_id=chargeback.chargeback_id,
                                reason=chargeback.reason, outcome=data.outcome,
                                counts_against_seller=chargeback.counts_as_defect, decided_at=data.decided_at)
    await wire.stage(conn, event.sellerid, chargeback.chargeback_id, data.decided_at, [decided])
