"""The seller's lists: the inbox of buyer messages and the open work. Reads only, each on an index."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

_MESSAGE = ("message_id, order_id, subject, body, received_at, due_by, status, replied_at, reply_id,"
            " overdue_at IS NOT NULL AS overdue")
_RETURN = ("return_id, order_id, reason, status, requested_at, answer_due_by, answered_at, received_at,"
           " refund_due_by, answer_overdue_at IS NOT NULL OR refund_overdue_at IS NOT NULL AS overdue")
_CLAIM = ("claim_id, order_id, reason, amount, currency, filed_at, status, outcome, decided_at, reversed_at,"
          " cancelled_by_seller, refunded_after_filing")
_CHARGEBACK = "chargeback_id, order_id, reason, amount, currency, filed_at, status, outcome, decided_at"
_FEEDBACK = "feedback_id, order_id, stars, received_at AS left_at, status, removed_at"


def _rows(records: list[asyncpg.Record]) -> list[dict[str, Any]]:
    return [dict(record) for record in records]


async def inbox(pool: asyncpg.Pool, seller_id: str, *, unanswered: bool, limit: int, offset: int
                ) -> list[dict[str, Any]]:
    """Buyer messages by due-by, soonest first; `unanswered` keeps only those awaiting a reply."""
    where = "seller_id = $1" + (" AND status = 'awaiting_reply'" if unanswered else "")
    records = await pool.fetch(
        f"SELECT {_MESSAGE} FROM buyer_messages WHERE {where} ORDER BY due_by, message_id LIMIT $2 OFFSET $3",
        seller_id, limit, offset,
    )
    return _rows(records)


async def returns_of(pool: asyncpg.Pool, seller_id: str, *, status: str | None, limit: int, offset: int
                     ) -> list[dict[str, Any]]:
    records = await pool.fetch(
        f"SELECT {_RETURN} FROM returns WHERE seller_id = $1 AND ($2::text IS NULL OR status = $2)"
        " ORDER BY requested_at, return_id LIMIT $3 OFFSET $4",
        seller_id, status, limit, offset,
    )
    return _rows(records)


async def claims_of(pool: asyncpg.Pool, seller_id: str, *, open_only: bool, limit: int, offset: int
                    ) -> list[dict[str, Any]]:
    where = "seller_id = $1" + (" AND status = 'filed'" if open_only else "")
    records = await pool.fetch(
        f"SELECT {_CLAIM} FROM claims WHERE {where} ORDER BY filed_at, claim_id LIMIT $2 OFFSET $3",
        seller_id, limit, offset,
    )
    return _rows(records)


async def sellers_with_claim(pool: asyncpg.Pool, claim_id: str) -> list[str]:
    """Which sellers have a claim with this id (an operator may name a claim without its seller)."""
    records = await pool.fetch("SELECT seller_id FROM claims WHERE claim_id = $1 LIMIT 2", claim_id)
    return [record["seller_id"] for record in records]


async def sellers_with_feedback(pool: asyncpg.Pool, feedback_id: str) -> list[str]:
    records = await pool.fetch("SELECT seller_id FROM feedback WHERE feedback_id = $1 LIMIT 2", feedback_id)
    return [record["seller_id"] for record in records]


async def open_work(pool: asyncpg.Pool, seller_id: str, *, feedback_since: datetime | None, limit: int
                    ) -> dict[str, list[dict[str, Any]]]:
    """Everything waiting on the seller, each list soonest deadline first."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        messages = await conn.fetch(
            f"SELECT {_MESSAGE} FROM buyer_messages WHERE seller_id = $1 AND status = 'awaiting_reply'"
            " ORDER BY due_by, message_id LIMIT $2", seller_id, limit,
        )
        returns = await conn.fetch(
            f"SELECT {_RETURN} FROM returns WHERE seller_id = $1 AND status IN ('requested', 'received')"
            " ORDER BY CASE WHEN status = 'received' THEN refund_due_by ELSE answer_due_by END, return_id"
            " LIMIT $2", seller_id, limit,
        )
        claims = await conn.fetch(
            f"SELECT {_CLAIM} FROM claims WHERE seller_id = $1 AND status = 'filed' ORDER BY filed_at, claim_id"
            " LIMIT $2", seller_id, limit,
        )
        chargebacks = await conn.fetch(
            f"SELECT {_CHARGEBACK} FROM chargebacks WHERE seller_id = $1 AND status = 'filed'"
            " ORDER BY filed_at, chargeback_id LIMIT $2", seller_id, limit,
        )
        negative = await conn.fetch(
            f"SELECT {_FEEDBACK} FROM feedback WHERE seller_id = $1 AND negative AND status = 'published'"
            " AND ($2::timestamptz IS NULL OR received_at >= $2) ORDER BY received_at DESC, feedback_id LIMIT $3",
            seller_id, feedback_since, limit,
        )
    return {
        "messages_due": _rows(messages),
        "returns_awaiting": _rows(returns),
        "open_claims": _rows(claims),
        "open_chargebacks": _rows(chargebacks),
        "negative_feedback": _rows(negative),
    }
