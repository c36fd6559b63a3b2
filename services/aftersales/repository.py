"""SQL for the aftersales aggregates: messages, returns, refunds, claims, chargebacks, feedback, reviews.

Each domain dataclass maps to its table column for column (same names) plus `seller_id` and the
table's extra columns, declared once in a `Stored`. The read model of orders and the parked items
are in `read_model.py`; the seller's lists (inbox, work) in `queries.py`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeAlias, TypeVar

import asyncpg

from services.aftersales.disputes import Chargeback, Claim, Feedback
from services.aftersales.domain import BuyerMessage, Refund, Return
from shared.events.common import RefundInitiator

T = TypeVar("T")
Conn: TypeAlias = asyncpg.Connection | asyncpg.Pool


class NotFound(LookupError):
    """No such message, return, claim, feedback or order for this seller."""


def _enum_of(hint: Any) -> type[StrEnum] | None:
    """The StrEnum in `X` or `X | None`, if any."""
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    for option in options:
        if isinstance(option, type) and issubclass(option, StrEnum):
            return option
    return None


class Stored(Generic[T]):
    """How a domain dataclass is stored: its fields as columns, keyed by (seller_id, `key`)."""

    def __init__(self, table: str, cls: type[T], key: str, extras: tuple[str, ...] = ()) -> None:
        assert dataclasses.is_dataclass(cls)
        self.table, self.cls, self.key, self.extras = table, cls, key, extras
        self.fields = tuple(f.name for f in dataclasses.fields(cls))
        hints = typing.get_type_hints(cls)
        self.enums = {name: enum for name in self.fields if (enum := _enum_of(hints[name])) is not None}

    def _object(self, record: asyncpg.Record) -> T:
        values = {name: record[name] for name in self.fields}
        for name, enum in self.enums.items():
            if values[name] is not None:
                values[name] = enum(values[name])
        return self.cls(**values)

    async def get(self, conn: Conn, seller_id: str, key: str, *, lock: bool = False) -> T | None:
        found = await self.get_row(conn, seller_id, key, lock=lock)
        return found[0] if found else None

    async def get_row(
        self, conn: Conn, seller_id: str, key: str, *, lock: bool = False
    ) -> tuple[T, asyncpg.Record] | None:
        """The object and its whole row (for the extra columns); `lock` takes the row for update."""
        record = await conn.fetchrow(
            f"SELECT * FROM {self.table} WHERE seller_id = $1 AND {self.key} = $2"
            + (" FOR UPDATE" if lock else ""),
            seller_id, key,
        )
        return (self._object(record), record) if record else None

    async def insert(self, conn: Conn, seller_id: str, obj: T, **extras: Any) -> bool:
        """Insert unless the natural key is there already; True when inserted (a duplicate is False)."""
        columns = ("seller_id", *self.fields, *extras)
        values = [seller_id, *(_plain(getattr(obj, name)) for name in self.fields), *extras.values()]
        placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 1))
        result: str = await conn.execute(
            f"INSERT INTO {self.table} ({', '.join(columns)}) VALUES ({placeholders}) ON CONFLICT DO NOTHING",
            *values,
        )
        return result.endswith(" 1")

    async def update(self, conn: Conn, seller_id: str, obj: T, **extras: Any) -> None:
        changed = [name for name in self.fields if name != self.key]
        values = [*(_plain(getattr(obj, name)) for name in changed), *extras.values()]
        sets = ", ".join(f"{name} = ${i}" for i, name in enumerate([*changed, *extras], start=3))
        await conn.execute(
            f"UPDATE {self.table} SET {sets} WHERE seller_id = $1 AND {self.key} = $2",
            seller_id, getattr(obj, self.key), *values,
        )


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, StrEnum) else value


MESSAGES = Stored("buyer_messages", BuyerMessage, "message_id", extras=("buyer_id", "subject", "body"))
RETURNS = Stored("returns", Return, "return_id", extras=("reason",))
CLAIMS = Stored("claims", Claim, "claim_id", extras=("amount", "currency"))
CHARGEBACKS = Stored("chargebacks", Chargeback, "chargeback_id", extras=("amount", "currency"))
FEEDBACK = Stored("feedback", Feedback, "feedback_id")


# --- buyer messages -------------------------------------------------------------------------------


async def record_reply(conn: Conn, seller_id: str, message: BuyerMessage, reply_id: str) -> None:
    await MESSAGES.update(conn, seller_id, message)
    await conn.execute(
        "UPDATE buyer_messages SET reply_id = $3 WHERE seller_id = $1 AND message_id = $2",
        seller_id, message.message_id, reply_id,
    )


# --- seller messages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SellerMessage:
    message_id: str
    order_id: str | None
    in_reply_to: str | None
    body: str
    sent_at: datetime
    delivered: bool
    rules: list[str]
    review_request: bool


async def insert_seller_message(conn: Conn, seller_id: str, message: SellerMessage) -> None:
    await conn.execute(
        "INSERT INTO seller_messages (seller_id, message_id, order_id, in_reply_to, body, sent_at, delivered,"
        " rules, review_request) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        seller_id, *(getattr(message, f.name) for f in dataclasses.fields(SellerMessage)),
    )


async def seller_message(conn: Conn, seller_id: str, message_id: str) -> SellerMessage | None:
    row = await conn.fetchrow(
        "SELECT message_id, order_id, in_reply_to, body, sent_at, delivered, rules, review_request"
        " FROM seller_messages WHERE seller_id = $1 AND message_id = $2", seller_id, message_id,
    )
    return SellerMessage(**dict(row)) if row else None


async def review_requests_sent(conn: Conn, seller_id: str, order_id: str) -> int:
    """Review requests delivered for an order (M8 counts them; blocked ones were never delivered)."""
    count: int = await conn.fetchval(
        "SELECT count(*) FROM seller_messages WHERE seller_id = $1 AND order_id = $2 AND review_request AND delivered",
        seller_id, order_id,
    )
    return count


# --- refunds --------------------------------------------------------------------------------------


async def refunds_of(conn: Conn, seller_id: str, order_id: str) -> list[Refund]:
    records = await conn.fetch(
        "SELECT refund_id, order_id, amount, currency, reason, initiated_by, issued_at FROM refunds"
        " WHERE seller_id = $1 AND order_id = $2 ORDER BY issued_at, refund_id",
        seller_id, order_id,
    )
    return [Refund(r["refund_id"], r["order_id"], r["amount"], r["currency"].strip(), r["reason"],
                   RefundInitiator(r["initiated_by"]), r["issued_at"]) for r in records]


async def insert_refund(
    conn: Conn, seller_id: str, refund: Refund, *, return_id: str | None, claim_id: str | None
) -> None:
    await conn.execute(
        "INSERT INTO refunds (seller_id, refund_id, order_id, amount, currency, reason, initiated_by, issued_at,"
        " return_id, claim_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        seller_id, refund.refund_id, refund.order_id, refund.amount, refund.currency, refund.reason,
        str(refund.initiated_by), refund.issued_at, return_id, claim_id,
    )


async def refund_amount(conn: Conn, seller_id: str, refund_id: str) -> Decimal | None:
    amount: Decimal | None = await conn.fetchval(
        "SELECT amount FROM refunds WHERE seller_id = $1 AND refund_id = $2", seller_id, refund_id
    )
    return amount


# --- other aggregates of an order -----------------------------------------------------------------


async def claims_of(conn: Conn, seller_id: str, order_id: str) -> list[Claim]:
    """The order's claims, oldest first, locked: a refund or a cancellation may change whether they count."""
    records = await conn.fetch(
        "SELECT * FROM claims WHERE seller_id = $1 AND order_id = $2 ORDER BY filed_at, claim_id FOR UPDATE",
        seller_id, order_id,
    )
    return [CLAIMS._object(r) for r in records]


async def open_return_of(conn: Conn, seller_id: str, order_id: str) -> Return | None:
    """The order's latest return not refunded yet, locked (a claim's refund settles it)."""
    record = await conn.fetchrow(
        "SELECT * FROM returns WHERE seller_id = $1 AND order_id = $2 AND status <> 'refunded'"
        " ORDER BY requested_at DESC, return_id DESC LIMIT 1 FOR UPDATE",
        seller_id, order_id,
    )
    return RETURNS._object(record) if record else None


async def feedback_of_order(conn: Conn, seller_id: str, order_id: str) -> Feedback | None:
    record = await conn.fetchrow(
        "SELECT * FROM feedback WHERE seller_id = $1 AND order_id = $2 FOR UPDATE", seller_id, order_id
    )
    return FEEDBACK._object(record) if record else None


async def insert_review(
    conn: Conn, seller_id: str, review_id: str, listing_id: str, order_id: str | None, stars: int,
    posted_at: datetime,
) -> bool:
    result: str = await conn.execute(
        "INSERT INTO reviews (seller_id, review_id, listing_id, order_id, stars, posted_at)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        seller_id, review_id, listing_id, order_id, stars, posted_at,
    )
    return result.endswith(" 1")


# --- deadlines ------------------------------------------------------------------------------------


async def mark_overdue(conn: Conn, now: datetime) -> dict[str, int]:
    """Set-based, on each clock tick: record what passed its deadline unanswered (indexed partial scans)."""
    messages = await conn.execute(
        "UPDATE buyer_messages SET overdue_at = $1"
        " WHERE status = 'awaiting_reply' AND overdue_at IS NULL AND due_by < $1", now,
    )
    answers = await conn.execute(
        "UPDATE returns SET answer_overdue_at = $1"
        " WHERE status = 'requested' AND answer_overdue_at IS NULL AND answer_due_by < $1", now,
    )
    refunds = await conn.execute(
        "UPDATE returns SET refund_overdue_at = $1"
        " WHERE status = 'received' AND refund_overdue_at IS NULL AND refund_due_by < $1", now,
    )
    return {"messages": _count(messages), "return_answers": _count(answers), "return_refunds": _count(refunds)}


def _count(status: str) -> int:
    return int(status.split()[-1])
