"""Each service's view of the business clock (design.md section 5).

The consumer records every `clock.ticked` inside the batch's transaction: it moves `now` and
`latest_tick`. Only the metrics service moves `now` with event times too, never past the latest
tick plus MAX_CLOCK_SKEW (design.md section 3). An HTTP command takes its business time from the
request when the caller gives one (the simulator does), within the same bound, or else from this
clock: never from the wall clock.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
from fastapi import HTTPException

from shared.events.time_range import describe
from shared.settings import get_settings


async def record_tick(conn: asyncpg.Connection, tick: datetime) -> None:
    """A `clock.ticked` arrived: `now` and `latest_tick` move forward to it (never back)."""
    await conn.execute(
        "INSERT INTO business_clock (singleton, now, latest_tick) VALUES (true, $1, $1)"
        " ON CONFLICT (singleton) DO UPDATE SET now = GREATEST(business_clock.now, EXCLUDED.now),"
        " latest_tick = GREATEST(business_clock.latest_tick, EXCLUDED.latest_tick)",
        tick,
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
    tick = await latest_tick(conn)
    skew = get_settings().max_clock_skew
    if tick is not None and at > tick + skew:
        raise HTTPException(422, f"`at` is after the latest clock tick plus MAX_CLOCK_SKEW ({describe(skew)})")
