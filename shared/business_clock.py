"""Each service's view of the business clock (design.md section 5).

The consumer records every `clock.ticked` inside the batch's transaction: it moves `now` and
`latest_tick`. Only the metrics service moves `now` with event times too, never past the latest
tick plus MAX_CLOCK_SKEW (design.md section 3). An HTTP command takes its business time from the
request when the caller gives one (the simulator does), within the same bound, or else from this
clock: never from the wall clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
from fastapi import HTTPException

from shared.events.time_range import describe


async def record_tick(conn: asyncpg.Connection, tick: datetime, max_clock_skew: timedelta) -> None:
    """A `clock.ticked` arrived: `now` and `latest_tick` move forward to it (never back); the skew
    this service allows after it is recorded with it, for its HTTP commands and its clock moves."""
    await conn.execute(
        "INSERT INTO business_clock (singleton, now, latest_tick, max_clock_skew) VALUES (true, $1, $1, $2)"
        " ON CONFLICT (singleton) DO UPDATE SET now = GREATEST(business_clock.now, EXCLUDED.now),"
        " latest_tick = GREATEST(business_clock.latest_tick, EXCLUDED.latest_tick),"
        " max_clock_skew = EXCLUDED.max_clock_skew",
        tick, max_clock_skew,
    )


async def advance(conn: asyncpg.Connection, now: datetime) -> None:
    """Move `now` forward without a tick (the metrics fold; the caller keeps it within the bound)."""
    await conn.execute(
        "INSERT INTO business_clock (singleton, now) VALUES (true, $1)"
        " ON CONFLICT (singleton) DO UPDATE SET now = GREATEST(business_clock.now, EXCLUDED.now)",
        now,
    )


async def latest_tick(conn: asyncpg.Connection | asyncpg.Pool) -> datetime | None:
    value: datetime | None = await conn.fetchval("SELECT latest_tick FROM business_clock")
    return value


async def bound(conn: asyncpg.Connection | asyncpg.Pool) -> tuple[datetime, timedelta] | None:
    """(latest tick, skew allowed after it), once a tick was recorded."""
    row = await conn.fetchrow("SELECT latest_tick, max_clock_skew FROM business_clock")
    if row is None or row["latest_tick"] is None or row["max_clock_skew"] is None:
        return None
    return row["latest_tick"], row["max_clock_skew"]


async def current(conn: asyncpg.Connection | asyncpg.Pool) -> datetime | None:
    value: datetime | None = await conn.fetchval("SELECT now FROM business_clock")
    return value


async def command_time(conn: asyncpg.Connection | asyncpg.Pool, at: datetime | None) -> datetime:
    """The business time of an HTTP command: the caller's `at` (422 if after the latest tick plus
    MAX_CLOCK_SKEW), or the latest tick seen."""
    if at is not None:
        await check_command_time(conn, at)
        return at
    now = await current(conn)
    if now is None:
        raise HTTPException(409, "no business time yet: pass `at`, or wait for the first clock.ticked")
    return now


async def check_command_time(conn: asyncpg.Connection | asyncpg.Pool, at: datetime) -> None:
    """422 when a command's `at` lies after the latest tick plus MAX_CLOCK_SKEW (design.md section 3)."""
    known = await bound(conn)
    if known is not None and at > known[0] + known[1]:
        raise HTTPException(422, f"`at` is after the latest clock tick plus MAX_CLOCK_SKEW ({describe(known[1])})")
