"""Metrics use cases: fold a consumed batch into the per-seller state; read scorecards."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.metrics import domain, repository
from shared import business_clock
from shared.events.clock import ClockTicked
from shared.events.order import OrderPlaced
from shared.messaging.consumer import Incoming, handling


def _order_fact(seller_id: str, placed: OrderPlaced) -> domain.OrderFact:
    return domain.OrderFact(
        seller_id=seller_id,
        order_id=placed.order_id,
        purchased_at=placed.purchased_at,
        fulfillment_channel=placed.fulfillment_channel,
        currency=placed.currency,
        total=placed.total.amount,
        units=sum(line.quantity for line in placed.lines),
    )


async def apply_batch(conn: asyncpg.Connection, batch: Sequence[Incoming]) -> None:
    """Every event moves the business clock; order facts fold into daily buckets in one upsert."""
    facts: list[domain.OrderFact] = []
    latest: datetime | None = None
    for item in batch:
        event = item.event
        with handling(item):
            data: Any = event.data
            moment = data.now if isinstance(data, ClockTicked) else event.time
            latest = moment if latest is None or moment > latest else latest
            if isinstance(data, OrderPlaced):
                facts.append(_order_fact(event.sellerid, data))
    if latest is not None:
        await business_clock.advance(conn, latest)  # metrics' now: the latest tick or event time seen
    new_orders = await repository.insert_new_orders(conn, facts)
    await repository.add_sales(conn, domain.fold_sales(new_orders))


async def sales_scorecard(pool: asyncpg.Pool, seller_id: str, as_of: datetime | None) -> dict[str, Any]:
    now = as_of or await business_clock.current(pool)
    if now is None:
        return {"seller_id": seller_id, "as_of": None, "sales": {}}
    first30, last = domain.window(now, 30)
    rows = await repository.sales_rows(pool, seller_id, first30, last)
    sales: dict[str, Any] = {}
    for days in (7, 30):
        first, _ = domain.window(now, days)
        figures = domain.sum_window(rows, first, last)
        sales[f"{days}d"] = {
            "from": first, "to": last, "orders": figures.orders, "units": figures.units,
            "gross_sales": {c: str(a) for c, a in figures.gross.items()},
            "average_order_value": {c: str(a) for c, a in figures.average_order_value.items()},
        }
    return {"seller_id": seller_id, "as_of": now, "sales": sales}
