"""SQL for sellers, appeals and enforcement decisions, and the explicit row <-> object mapping.

Locking order, everywhere: the seller row first, then its listings by listing id. A use case that
changes an account takes the seller row FOR UPDATE; one that only needs the status to hold still
(a reservation, a listing change) takes it FOR SHARE.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import astuple, dataclass, field, fields
from datetime import date, datetime
from typing import Any, Literal, TypeAlias
from uuid import UUID

import asyncpg

Executor: TypeAlias = asyncpg.Connection | asyncpg.Pool
Lock: TypeAlias = Literal["update", "share"] | None


def lock_clause(lock: Lock) -> str:
    return {None: "", "update": " FOR UPDATE", "share": " FOR SHARE"}[lock]


def columns_of(cls: type[Any]) -> str:
    return ", ".join(f.name for f in fields(cls))


def placeholders_of(cls: type[Any]) -> str:
    return ", ".join(f"${i}" for i in range(1, len(fields(cls)) + 1))


@dataclass(frozen=True)
class SellerRow:
    seller_id: str
    legal_name: str
    country: str
    business_type: str
    contact_email: str
    tax_id_key: str
    tax_id_masked: str
    bank_account_masked: str
    document_type: str
    document_number_masked: str
    document_expires_on: date
    status: str
    reasons: list[dict[str, str]]  # [{code, message}]
    registered_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AppealRow:
    appeal_id: str
    seller_id: str
    root_cause: str
    actions: list[str]
    prevention: str
    violation_ids: list[str]
    enforcement_event_id: UUID | None
    filed_at: datetime
    accepted: bool | None = None
    operator_id: str | None = None
    note: str | None = None
    resolved_violation_ids: list[str] = field(default_factory=list)
    decided_at: datetime | None = None


@dataclass(frozen=True)
class EnforcementRow:
    event_id: UUID
    seller_id: str
    action: str
    outcome: str  # applied, unchanged, ignored
    old_status: str
    new_status: str
    note: str | None
    decided_at: datetime


class TaxIdTaken(Exception):
    """Another account holds the tax id (the unique index said so: a registration raced ours)."""


class SellerIdTaken(Exception):
    pass


# --- sellers ---------------------------------------------------------------------------------------


async def tax_id_held(conn: Executor, tax_id_key: str) -> bool:
    held: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM sellers WHERE tax_id_key = $1 AND status <> 'rejected')", tax_id_key
    )
    return held


async def insert_seller(conn: asyncpg.Connection, seller: SellerRow) -> None:
    """Insert in a savepoint; TaxIdTaken or SellerIdTaken when a unique index refuses it."""
    try:
        async with conn.transaction():
            await conn.execute(
                f"INSERT INTO sellers ({columns_of(SellerRow)}) VALUES ({placeholders_of(SellerRow)})", *astuple(seller)
            )
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name == "sellers_one_account_per_tax_id":
            raise TaxIdTaken(seller.seller_id) from None
        raise SellerIdTaken(seller.seller_id) from None


async def get_seller(conn: Executor, seller_id: str, *, lock: Lock = None) -> SellerRow | None:
    record = await conn.fetchrow(f"SELECT {columns_of(SellerRow)} FROM sellers WHERE seller_id = $1{lock_clause(lock)}",
                                 seller_id)
    return SellerRow(**dict(record)) if record else None


async def get_sellers(conn: Executor, seller_ids: Collection[str], *, lock: Lock = None) -> dict[str, SellerRow]:
    """The sellers there are among these ids, locked (if asked) in seller id order."""
    records = await conn.fetch(
        f"SELECT {columns_of(SellerRow)} FROM sellers WHERE seller_id = ANY($1::text[])"
        f" ORDER BY seller_id{lock_clause(lock)}",
        sorted(seller_ids),
    )
    return {record["seller_id"]: SellerRow(**dict(record)) for record in records}


async def set_seller_status(
    conn: asyncpg.Connection, seller_id: str, status: str, at: datetime, reasons: list[dict[str, str]] | None = None
) -> None:
    await conn.execute(
        "UPDATE sellers SET status = $2, updated_at = $3, reasons = COALESCE($4, reasons) WHERE seller_id = $1",
        seller_id, status, at, reasons,
    )


async def list_sellers(pool: Executor, *, status: str | None, limit: int, offset: int) -> list[SellerRow]:
    records = await pool.fetch(
        f"SELECT {columns_of(SellerRow)} FROM sellers WHERE ($1::text IS NULL OR status = $1)"
        " ORDER BY registered_at, seller_id LIMIT $2 OFFSET $3",
        status, limit, offset,
    )
    return [SellerRow(**dict(r)) for r in records]


# --- appeals ---------------------------------------------------------------------------------------


class AppealOpen(Exception):
    """The seller already has an appeal waiting for a decision."""


async def insert_appeal(conn: asyncpg.Connection, appeal: AppealRow) -> None:
    try:
        async with conn.transaction():
            await conn.execute(
                f"INSERT INTO appeals ({columns_of(AppealRow)}) VALUES ({placeholders_of(AppealRow)})", *astuple(appeal)
            )
    except asyncpg.UniqueViolationError:
        raise AppealOpen(appeal.seller_id) from None


async def get_appeal(conn: Executor, appeal_id: str, *, lock: Lock = None) -> AppealRow | None:
    record = await conn.fetchrow(f"SELECT {columns_of(AppealRow)} FROM appeals WHERE appeal_id = $1{lock_clause(lock)}",
                                 appeal_id)
    return AppealRow(**dict(record)) if record else None


async def decide_appeal(conn: asyncpg.Connection, appeal: AppealRow) -> None:
    await conn.execute(
        "UPDATE appeals SET accepted = $2, operator_id = $3, note = $4, resolved_violation_ids = $5, decided_at = $6"
        " WHERE appeal_id = $1",
        appeal.appeal_id, appeal.accepted, appeal.operator_id, appeal.note, appeal.resolved_violation_ids,
        appeal.decided_at,
    )


async def appeals_of(pool: Executor, seller_id: str) -> list[AppealRow]:
    records = await pool.fetch(
        f"SELECT {columns_of(AppealRow)} FROM appeals WHERE seller_id = $1 ORDER BY filed_at, appeal_id", seller_id
    )
    return [AppealRow(**dict(r)) for r in records]


# --- enforcement decisions -------------------------------------------------------------------------


async def record_enforcement(conn: asyncpg.Connection, row: EnforcementRow) -> None:
    await conn.execute(
        f"INSERT INTO enforcements ({columns_of(EnforcementRow)}) VALUES ({placeholders_of(EnforcementRow)})"
        " ON CONFLICT (event_id) DO NOTHING",
        *astuple(row),
    )


async def latest_enforcement(conn: Executor, seller_id: str) -> UUID | None:
    """The last decision that changed the account: what an appeal answers by default."""
    event_id: UUID | None = await conn.fetchval(
        "SELECT event_id FROM enforcements WHERE seller_id = $1 AND outcome = 'applied'"
        " ORDER BY decided_at DESC, event_id LIMIT 1",
        seller_id,
    )
    return event_id


async def enforcements_of(pool: Executor, seller_id: str) -> list[EnforcementRow]:
    records = await pool.fetch(
        f"SELECT {columns_of(EnforcementRow)} FROM enforcements WHERE seller_id = $1 ORDER BY decided_at, event_id",
        seller_id,
    )
    return [EnforcementRow(**dict(r)) for r in records]
