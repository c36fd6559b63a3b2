"""The business clock (design.md section 5): ticks on `clock.events`.

Business logic never reads the wall clock. In production `sellerflow clock` turns wall-clock time
into ticks; the simulator and the tests publish their own, so time runs as fast as they like and a
replay gives the same results.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

from faststream.kafka import KafkaBroker

from shared.events import Event, new_event, topics
from shared.events.clock import ClockTicked
from shared.settings import Settings

log = logging.getLogger(__name__)

#: Ticks are for every seller; one key keeps them on one partition, in order.
CLOCK_KEY = "clock"
SOURCE = "/sellerflow/clock"


def tick(now: datetime) -> Event[Any]:
    return new_event(ClockTicked(now=now), seller_id=CLOCK_KEY, subject=CLOCK_KEY, time=now, source=SOURCE)


async def publish_tick(broker: KafkaBroker, settings: Settings, now: datetime) -> None:
    event = tick(now)
    await broker.publish(event.to_bytes(), settings.topic(topics.CLOCK_EVENTS), key=event.key)


async def run_wall_clock(broker: KafkaBroker, settings: Settings, stop: asyncio.Event) -> None:
    """Production's clock: one tick every CLOCK_TICK_SECONDS of wall-clock time, the only place it is read."""
    while not stop.is_set():
        now = datetime.now(UTC)
        try:
            await publish_tick(broker, settings, now)
            log.info("tick", extra={"now": now.isoformat()})
        except Exception as error:  # the broker away: the next tick carries the time anyway
            log.warning("tick not published", extra={"error": repr(error)})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.clock_tick_seconds)
