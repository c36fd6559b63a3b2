"""Seller feedback (one per order; 1-2 stars negative; removable) and product reviews (never feedback)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import asyncpg

from services.aftersales import read_model, repository, wire
from services.aftersales.disputes import Feedback, FeedbackStatus
from services.aftersales.domain import AftersalesPolicy
from services.aftersales.read_model import KnownOrder
from services.aftersales.repository import FEEDBACK, NotFound
from shared.events import Event
from shared.events.aftersales import ReviewReceived
from shared.events.disputes import FeedbackReceived, FeedbackRemoved
from shared.events.ingress import BuyerFeedbackLeft, BuyerFeedbackRemoved, BuyerReviewPosted
from shared.messaging.consumer import Unprocessable

log = logging.getLogger(__name__)


async def leave_feedback(
    conn: asyncpg.Connection, event: Event[Any], order: KnownOrder | None, policy: AftersalesPolicy
) -> None:
    """Feedback on an order; the same feedback again is skipped, a second one for the order refused."""
    data = event.data_as(BuyerFeedbackLeft)
    assert order is not None
    existing = await repository.feedback_of_order(conn, event.sellerid, order.order_id)
    if existing is not None and existing.feedback_id == data.feedback_id:
        log.info("feedback seen before; skipped", extra={"feedback_id": data.feedback_id})
        return
    feedback = Feedback.receive(data.feedback_id, order.order_id, data.stars, at=data.left_at, existing=existing,
                                policy=policy)
    if not await FEEDBACK.insert(conn, event.sellerid, feedback):
        raise Unprocessable(f"feedback id {data.feedback_id} is already used for another order")
    received = FeedbackReceived(**wire.order_facts(order), feedback_id=feedback.feedback_id, stars=feedback.stars,
                                left_at=feedback.received_at)
    await wire.stage(conn, event.sellerid, feedback.feedback_id, feedback.received_at, [received])


async def on_buyer_removal(
    conn: asyncpg.Connection, event: Event[Any], order: KnownOrder | None, policy: AftersalesPolicy
) -> None:
    data = event.data_as(BuyerFeedbackRemoved)
    assert order is not None
    feedback = await FEEDBACK.get(conn, event.sellerid, data.feedback_id, lock=True)
    if feedback is None or feedback.order_id != data.order_id:
        raise Unprocessable(f"no feedback {data.feedback_id} on order {data.order_id}")
    if feedback.status is FeedbackStatus.REMOVED:
        return  # removed already: the same removal again
    await _remove(conn, order, feedback, at=data.removed_at, by=None, reason=data.reason)


async def remove_by_operator(
    conn: asyncpg.Connection, seller_id: str, feedback_id: str, *, at: datetime, reason: str | None
) -> Feedback:
    feedback = await FEEDBACK.get(conn, seller_id, feedback_id, lock=True)
    if feedback is None:
        raise NotFound(f"no feedback {feedback_id} for this seller")
    order = await read_model.known_order(conn, seller_id, feedback.order_id)
    assert order is not None  # feedback is only recorded for a known order
    await _remove(conn, order, feedback, at=at, by="operator", reason=reason)
    return feedback


async def _remove(conn: asyncpg.Connection, order: KnownOrder, feedback: Feedback, *, at: datetime, by: str | None,
                  reason: str | None) -> None:
    feedback.remove(at=at)
    await FEEDBACK.update(conn, order.seller_id, feedback)
    removed = FeedbackRemoved(**wire.order_facts(order), feedback_id=feedback.feedback_id, stars=feedback.stars,
                              left_at=feedback.received_at, removed_at=at, removed_by=by, reason=reason)
    await wire.stage(conn, order.seller_id, feedback.feedback_id, at, [removed])


async def post_review(
    conn: asyncpg.Connection, event: Event[Any], order: KnownOrder | None, policy: AftersalesPolicy
) -> None:
    """A product review: recorded per listing and announced for the listing's rating; never seller feedback."""
    data = event.data_as(BuyerReviewPosted)
    inserted = await repository.insert_review(conn, event.sellerid, data.review_id, data.listing_id, data.order_id,
                                              data.stars, data.posted_at)
    if not inserted:
        log.info("review id seen before; skipped", extra={"review_id": data.review_id})
        return
    review = ReviewReceived(review_id=data.review_id, listing_id=data.listing_id, order_id=data.order_id,
                            stars=data.stars, posted_at=data.posted_at)
    await wire.stage(conn, event.sellerid, data.review_id, data.posted_at, [review])
