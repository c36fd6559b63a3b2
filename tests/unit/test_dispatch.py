"""The dispatcher keeps batch order: single routes one event at a time, run routes a run of consecutive events."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.clock import tick
from shared.events import ingress, new_event
from shared.messaging.consumer import Incoming, Record
from shared.messaging.dispatch import Dispatcher
from tests.support.factories import checkout_order


def incoming(event: Any) -> Incoming:
    return Incoming(event, Record("p.t", 0, 0, None, b""), "t")


def cancellation(seller: str) -> Any:
    at = datetime(2026, 1, 5, tzinfo=UTC)
    data = ingress.CheckoutCancellationRequested(order_id="O-1", buyer_id="B-1", requested_at=at,
                                                 reason="changed my mind")
    return new_event(data, seller_id=seller, subject="O-1", time=at, source="/test")


def test_runs_of_consecutive_events_go_to_the_run_handler_and_single_events_split_them() -> None:
    calls: list[tuple[str, list[str]]] = []
    events = Dispatcher()

    @events.on_run(ingress.CheckoutOrderPlaced, ingress.CheckoutCancellationRequested)
    async def orders(conn: Any, run: Sequence[Incoming]) -> None:
        calls.append(("run", [item.event.sellerid for item in run]))

    from shared.events.clock import ClockTicked

    @events.on(ClockTicked)
    async def ticked(conn: Any, event: Any) -> None:
        calls.append(("tick", []))

    batch = [checkout_order("S-1"), cancellation("S-2"), tick(datetime(2026, 1, 5, tzinfo=UTC)),
             checkout_order("S-3")]
    asyncio.run(events(None, [incoming(e) for e in batch]))  # type: ignore[arg-type]
    assert calls == [("run", ["S-1", "S-2"]), ("tick", []), ("run", ["S-3"])]
    assert events.handled_types == {ingress.CheckoutOrderPlaced.EVENT_TYPE,
                                    ingress.CheckoutCancellationRequested.EVENT_TYPE, ClockTicked.EVENT_TYPE}


def test_a_type_cannot_have_two_handlers() -> None:
    events = Dispatcher()

    @events.on_run(ingress.CheckoutOrderPlaced)
    async def orders(conn: Any, run: Sequence[Incoming]) -> None: ...

    with pytest.raises(ValueError, match="already has a handler"):
        events.on(ingress.CheckoutOrderPlaced)(lambda conn, event: asyncio.sleep(0))
