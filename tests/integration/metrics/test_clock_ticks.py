"""The metrics service's memory of clock ticks (domain.md section 6, judged at ticks) stays bounded:
ticks older than the longest window are forgotten, and no deadline a window still holds is judged differently."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.metrics import repository
from services.metrics.app import SPEC
from services.metrics.policy import DEFAULT_POLICY
from shared import db
from shared.settings import Settings

pytestmark = pytest.mark.integration

START = datetime(2026, 1, 1, tzinfo=UTC)


async def test_ticks_older_than_the_longest_window_are_forgotten_without_changing_a_verdict(
    settings: Settings,
) -> None:
    assert settings.database_url
    dsn, schema = settings.database_url.get_secret_value(), settings.schema_for("metrics")
    await db.migrate(dsn, schema, [db.MESSAGING_MIGRATIONS, SPEC.migrations])
    pool = await db.create_pool(dsn, schema, size=2)
    try:
        async with pool.acquire() as conn:
            ticks = [START + timedelta(hours=6 * i) for i in range(4 * 500)]  # 500 days, four ticks a day
            await repository.record_ticks(conn, ticks)
            now = ticks[-1]
            cutoff = now - timedelta(days=DEFAULT_POLICY.longest_window + 1)
            # Deadlines a window may still hold (at or after the cutoff), one between two ticks among them.
            deadlines = [cutoff, cutoff + timedelta(hours=1), now - timedelta(days=30, minutes=5), now]
            before = await repository.first_ticks_at_or_after(conn, deadlines)

            forgotten = await repository.forget_ticks_before(conn, cutoff)

            assert forgotten == sum(1 for t in ticks if t < cutoff) > 0
            assert await conn.fetchval("SELECT min(now) FROM clock_ticks") >= cutoff
            assert await repository.first_ticks_at_or_after(conn, deadlines) == before
            # The latest tick is kept whatever the cutoff: it is the fold's memory of how far it got.
            await repository.forget_ticks_before(conn, now + timedelta(days=1))
            assert [r["now"] for r in await conn.fetch("SELECT now FROM clock_ticks")] == [now]
    finally:
        await pool.close()
        await db.drop_schema(dsn, schema)
