"""Aftersales entry points: the batch handler of its topics and the HTTP API. Each calls one use case.

HTTP errors: 401 without a token, 403 for another seller's data or a seller calling an operator
route, 404 for an unknown id, 409 for a refused transition (already answered, already decided) or
no business time yet, 422 for a broken rule (a refund above what was paid, a return rejected
without a reason) and for a seller message blocked by the messaging rules (recorded, not delivered).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import asyncpg
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse

from services.aftersales import claims, config, feedback, messages, queries, returns, service
from services.aftersales.domain import Return, ReturnStatus
from services.aftersales.http_models import (
    AnsweredReturn,
    ClaimDecision,
    ClaimView,
    Command,
    DecidedClaim,
    DeliveryView,
    FeedbackRemoval,
    MessageText,
    MessageView,
    OrderRefund,
    RefundView,
    Rejection,
    ReturnRefund,
    ReturnView,
    WorkView,
)
from services.aftersales.lifecycle import Refused, RefusedTransition
from services.aftersales.messages import Delivery
from services.aftersales.repository import NotFound
from shared import business_clock
from shared.auth import CurrentPrincipal, Principal, require_access, require_operator
from shared.events.common import ClaimOutcome
from shared.http_guard import errors
from shared.messaging.consumer import BatchHandler
from shared.runtime import Ctx, ServiceContext


def make_handler(ctx: ServiceContext) -> BatchHandler:
    """The batch handler of ingress.buyer, order.events, fulfillment.events and clock.events."""
    return service.AftersalesConsumer(policy=config.get_settings().policy(),
                                      group=f"{ctx.settings.topic_prefix}{ctx.name}")


router = APIRouter(prefix="/v1", tags=["aftersales"], responses=errors(401, 403, 404, 409, 413, 422))
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


# --- helpers --------------------------------------------------------------------------------------


def _seller_of(principal: Principal, seller_id: str | None) -> str:
    chosen = seller_id or principal.seller_id
    if chosen is None:
        raise HTTPException(422, "the operator names a seller: ?seller_id=")
    require_access(principal, chosen)
    return chosen


@asynccontextmanager
async def _command(ctx: ServiceContext) -> AsyncIterator[asyncpg.Connection]:
    """One transaction; domain refusals become HTTP errors (and roll everything back)."""
    try:
        async with ctx.pool.acquire() as conn, conn.transaction():
            yield conn
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    except RefusedTransition as error:
        raise HTTPException(409, error.reason) from None
    except Refused as error:
        raise HTTPException(422, error.reason) from None


def _operator_seller(principal: Principal, seller_id: str | None, found: list[str], what: str) -> str:
    require_operator(principal)
    if seller_id is not None:
        return seller_id
    if len(found) != 1:
        raise HTTPException(404 if not found else 409, f"{what}: " + ("not found" if not found else
                                                                       "several sellers have it: ?seller_id="))
    return found[0]


def _delivered(delivery: Delivery) -> DeliveryView | JSONResponse:
    view = DeliveryView(message_id=delivery.message_id, delivered=delivery.delivered, rules=delivery.rules,
                        minutes_to_reply=delivery.minutes_to_reply, on_time=delivery.on_time)
    if delivery.delivered:
        return view
    return JSONResponse({"detail": "blocked by the messaging rules", **view.model_dump()}, status_code=422)


def _answered(ret: Return) -> AnsweredReturn:
    return AnsweredReturn(return_id=ret.return_id, status=ret.status, answered_at=ret.answered_at,
                          answered_late=ret.answered_late, refund_due_by=ret.refund_due_by)


def _refund_view(done: returns.Refunded) -> RefundView:
    refund = done.refund
    return RefundView(refund_id=refund.refund_id, order_id=refund.order_id, amount=refund.amount,
                      currency=refund.currency, refundable_left=done.refundable_left, repeated=done.repeated)


# --- messages -------------------------------------------------------------------------------------


@router.get("/messages", summary="The seller's buyer messages by due-by; ?unanswered=true: the inbox")
async def list_messages(ctx: Ctx, principal: CurrentPrincipal, unanswered: bool = False,
                        seller_id: str | None = None, limit: Limit = 100, offset: Offset = 0) -> list[MessageView]:
    seller = _seller_of(principal, seller_id)
    rows = await queries.inbox(ctx.pool, seller, unanswered=unanswered, limit=limit, offset=offset)
    return [MessageView.model_validate(row) for row in rows]


@router.post("/messages/{message_id}/reply", summary="Reply to a buyer message (screened by M1-M8)",
             response_model=DeliveryView, responses={422: {"description": "Blocked, or a rule broken"}})
async def reply(ctx: Ctx, principal: CurrentPrincipal, message_id: str, body: MessageText,
                seller_id: str | None = None) -> DeliveryView | JSONResponse:
    seller = _seller_of(principal, seller_id)
    policy = config.get_settings().message_policy()
    async with _command(ctx) as conn:
        at = await business_clock.command_time(conn, body.at)
        delivery = await messages.reply(conn, seller, message_id, body.text, at=at, policy=policy,
                                        reply_id=body.message_id)
    return _delivered(delivery)


@router.post("/messages/{message_id}/no-reply-needed", summary="Mark a buyer message as needing no reply")
async def no_reply_needed(ctx: Ctx, principal: CurrentPrincipal, message_id: str, body: Command,
                          seller_id: str | None = None) -> dict[str, str]:
    seller = _seller_of(principal, seller_id)
    async with _command(ctx) as conn:
        at = await business_clock.command_time(conn, body.at)
        await messages.mark_no_reply_needed(conn, seller, message_id, at=at)
    return {"message_id": message_id, "status": "no_reply_needed"}


@router.post("/orders/{order_id}/messages", summary="Send the buyer a message about an order (screened by M1-M8)",
             response_model=DeliveryView, responses={422: {"description": "Blocked by the messaging rules"}})
async def send_message(ctx: Ctx, principal: CurrentPrincipal, order_id: str, body: MessageText,
                       seller_id: str | None = None) -> DeliveryView | JSONResponse:
    seller = _seller_of(principal, seller_id)
    policy = config.get_settings().message_policy()
    async with _command(ctx) as conn:
        at = await business_clock.command_time(conn, body.at)
        delivery = await messages.send_about_order(conn, seller, order_id, body.text, at=at, policy=policy,
                                                   message_id=body.message_id)
    return _delivered(delivery)


# --- returns and refunds --------------------------------------------------------------------------


@router.get("/returns", summary="The seller's returns, optionally of one status")
async def list_returns(ctx: Ctx, principal: CurrentPrincipal, status: ReturnStatus | None = None,
                       seller_id: str | None = None, limit: Limit = 100, offset: Offset = 0) -> list[ReturnView]:
    seller = _seller_of(principal, seller_id)
    rows = await queries.returns_of(ctx.pool, seller, status=status and str(status), limit=limit, offset=offset)
    return [ReturnView.model_validate(row) for row in rows]


@router.post("/returns/{return_id}/authorize", summary="Authorize a return (answer within 48 hours)")
async def authorize_return(ctx: Ctx, principal: CurrentPrincipal, return_id: str, body: Command,
                           seller_id: str | None = None) -> AnsweredReturn:
    seller = _seller_of(principal, seller_id)
    async with _command(ctx) as conn:
        at = await business_clock.command_time(conn, body.at)
        return _answered(await returns.authorize(conn, seller, return_id, at=at))


@router.post("/returns/{return_id}/reject", summary="Reject a return with a reason (answer within 48 hours)")
async def reject_return(ctx: Ctx, principal: CurrentPrincipal, return_id: str, body: Rejection,
                        seller_id: str | None = None) -> AnsweredReturn:
    seller = _seller_of(principal, seller_id)
    async with _command(ctx) as conn:
        at = await business_clock.command_time(conn, body.at)
        return _answered(await returns.reject(conn, seller, return_id, body.reason, at=at))


@router.post("/returns/{return_id}/receive", summary="The returned item arrived: refund within 2 days")
async def receive_return(ctx: Ctx, principal: CurrentPrincipal, return_id: str, body: Command,
                         seller_id: str | None = None) -> AnsweredReturn:
    seller = _seller_of(principal, seller_id)
    policy = config.get_settings().policy()
    async with _command(ctx) as conn:
        at = await business_clock.command_time(conn, body.at)
        return _answered(await returns.mark_received(conn, seller, return_id, at=at, policy=policy))


@router.post("/returns/{return_id}/refund", summary="Refund a return (never above what was paid)")
async def refund_return(ctx: Ctx, principal: CurrentPrincipal, return_id: str, body: ReturnRefund,
                        seller_id: str | None = None) -> RefundView:
    seller = _seller_of(principal, seller_id)
    async with _command(ctx) as conn:
        at = await business_clock.command_time(conn, body.at)
        done = await returns.refund_return(conn, seller, return_id, refund_id=body.refund_id or _refund_id(),
                                           amount=body.amount, reason=body.reason, at=at)
    return _refund_view(done)


@router.post("/orders/{order_id}/refunds", summary="Refund an order (all refunds together never above what was paid)")
async def refund_order(ctx: Ctx, principal: CurrentPrincipal, order_id: str, body: OrderRefund,
                       seller_id: str | None = None) -> RefundView:
    seller = _seller_of(principal, seller_id)
    async with _command(ctx) as conn:
        at = await business_clock.command_time(conn, body.at)
        done = await returns.refund_order(conn, seller, order_id, refund_id=body.refund_id or _refund_id(),
                                          amount=body.amount, reason=body.reason, at=at)
    return _refund_view(done)


def _refund_id() -> str:
    return f"rf-{uuid.uuid4().hex}"


# --- claims and feedback --------------------------------------------------------------------------


@router.get("/claims", summary="The seller's A-to-z claims; ?open=true: those not decided yet")
async def list_claims(ctx: Ctx, principal: CurrentPrincipal, open: bool = False, seller_id: str | None = None,
                      limit: Limit = 100, offset: Offset = 0) -> list[ClaimView]:
    seller = _seller_of(principal, seller_id)
    rows = await queries.claims_of(ctx.pool, seller, open_only=open, limit=limit, offset=offset)
    return [ClaimView.model_validate(row) for row in rows]


@router.post("/claims/{claim_id}/decision", summary="Decide an A-to-z claim, or reverse a grant on appeal (operator)")
async def decide_claim(ctx: Ctx, principal: CurrentPrincipal, claim_id: str, body: ClaimDecision,
                       seller_id: str | None = None) -> DecidedClaim:
    found = [] if seller_id else await queries.sellers_with_claim(ctx.pool, claim_id)
    seller = _operator_seller(principal, seller_id, found, f"claim {claim_id}")
    outcome = {"granted": ClaimOutcome.GRANTED_MARKETPLACE_FUNDED if body.appeal else
               ClaimOutcome.GRANTED_SELLER_FUNDED}.get(body.outcome) or ClaimOutcome(body.outcome)
    async with _command(ctx) as conn:
        at = await business_clock.command_time(conn, body.at)
        claim = await claims.decide_by_operator(conn, seller, claim_id, outcome, at=at, appeal=body.appeal,
                                                refund=body.refund, reason=body.reason)
    return DecidedClaim(claim_id=claim.claim_id, status=claim.status, outcome=claim.outcome,
                        counts_against_seller=claim.counts_as_defect)


@router.post("/feedback/{feedback_id}/removal", summary="Remove a feedback: it no longer counts (operator)")
async def remove_feedback(ctx: Ctx, principal: CurrentPrincipal, feedback_id: str, body: FeedbackRemoval,
                          seller_id: str | None = None) -> dict[str, str]:
    found = [] if seller_id else await queries.sellers_with_feedback(ctx.pool, feedback_id)
    seller = _operator_seller(principal, seller_id, found, f"feedback {feedback_id}")
    async with _command(ctx) as conn:
        at = await business_clock.command_time(conn, body.at)
        removed = await feedback.remove_by_operator(conn, seller, feedback_id, at=at, reason=body.reason)
    return {"feedback_id": removed.feedback_id, "status": removed.status}


# --- the seller's open work -----------------------------------------------------------------------


@router.get("/work", summary="The seller's open work: messages due, returns awaiting an answer or a refund, "
            "open claims and chargebacks, negative feedback to follow up")
async def open_work(ctx: Ctx, principal: CurrentPrincipal, seller_id: str | None = None,
                    limit: Limit = 100) -> WorkView:
    seller = _seller_of(principal, seller_id)
    now = await business_clock.current(ctx.pool)
    since = now - config.get_settings().policy().feedback_follow_up if now is not None else None
    return WorkView.model_validate(await queries.open_work(ctx.pool, seller, feedback_since=since, limit=limit))
