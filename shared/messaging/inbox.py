"""The inbox: which event ids this service has applied (design.md section 6)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg


async def claim(conn: asyncpg.Connection, event_ids: Sequence[UUID], topics: Sequence[str]) -> set[UUID]:
    """Record ids inside the caller's transaction; return those not seen before.

    One round trip for a whole batch. A rolled-back transaction takes its claims with it, so an
    event whose handling failed is applied when it comes again.
    """
    if not event_ids:
        return set()
    rows = await conn.fetch(
        "INSERT INTO inbox (event_id, topic) SELECT * FROM unnest($1::uuid[], $2::text[])"
        " ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
        list(event_ids),
        list(topics),
    )
    return {row["event_id"] for row in rows}
