"""The sellers aftersales knows (from seller.registered): buyer-side events for any other seller are
refused with a reason, as orders for an unknown seller are, and never stored (design.md section 3)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import asyncpg

from shared.events import Event


async def record_registrations(conn: asyncpg.Connection, registrations: Sequence[Event[Any]]) -> None:
    await conn.execute(
        "INSERT INTO known_sellers (seller_id, registered_at) SELECT * FROM unnest($1::text[], $2::timestamptz[])"
        " ON CONFLICT (seller_id) DO NOTHING",
        [event.sellerid for event in registrations], [event.time for event in registrations],
    )


async def unknown(conn: asyncpg.Connection, seller_ids: Collection[str]) -> set[str]:
    """The sellers among `seller_ids` that never registered."""
    if not seller_ids:
        return set()
    known = await conn.fetch("SELECT seller_id FROM known_sellers WHERE seller_id = ANY($1::text[])", list(seller_ids))
    return set(seller_ids) - {row["seller_id"] for row in known}


def refusal(seller_id: str) -> str:
    return f"seller {seller_id!r} is unknown: no seller.registered for it"
