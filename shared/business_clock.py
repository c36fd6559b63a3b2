"""Each service's view of the business clock (design.md section 5).

The consumer advances it on every `clock.ticked` inside the batch's transaction. An HTTP command
takes its business time from the request when the caller gives one (the simulator does), or else
from this clock: never from the wall clock.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
from fastapi import HTTPException


async def advance(conn: asyncpg.Connection, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO business_clock (singleton, now) VALUES (true, $1)"
        " ON CONFLICT (singleton) DO UPDATE SET now = GREATEST(business_clock.now, EXCLUDED.now)",
        now,
    )


async def current(conn: asyncpg.Connection | asyncpg.Pool) -> datetime | None:
    value: datetime | None = await conn.fetchval("SELECT now FROM business_clock")
    return value


async def command_time(conn: asyncpg.Connection | asyncpg.Pool, at: datetime | None) -> datetime:
    """The business time of an HTTP command: the caller's `at`, or the latest tick seen."""
    if at is not None:
        return at
    now = await current(conn)
    if now is None:
        raise HTTPException(409, "no business time yet: pass `at`, or wait for the first clock.ticked")
    return now
