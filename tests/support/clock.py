"""The clock moves with the world: before a test publishes an ingress event, the business clock is
brought close enough that the door (latest tick + MAX_CLOCK_SKEW, design.md section 3) lets it in.

An integrator's clock runs alongside the events it sends; a test that jumps weeks ahead with an order
or a return must move the clock too. The helper tick goes only as far as the door needs (the event's
latest business time minus the skew, plus a minute), never to the event time itself: a tick judges
deadlines (auto-cancel, overdue, tracking windows, erasure), and a test must still observe the ones
it means to.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx

from shared import business_clock, clock
from shared.events import Event, topics
from shared.events.time_range import business_times
from shared.runtime import ServiceRuntime
from shared.settings import Settings
from tests.support.kafka import eventually, publish_events

MARGIN = timedelta(minutes=1)


async def publish_ingress(settings: Settings, runtimes: Iterable[ServiceRuntime], topic: str,
                          events: Sequence[Event[Any]]) -> None:
    """Publish events as another system would, the clock first brought near them when `topic` is an
    ingress topic (for the running services that consume it)."""
    if topics.is_ingress(topic):
        moments = [moment for event in events for _, moment in business_times(event)]
        await keep_clock_near(settings, [r for r in runtimes if topic in r.spec.inputs], moments)
    await publish_events(settings, topic, events)


def clock_follows_commands(settings: Settings, runtime: ServiceRuntime) -> Callable[[httpx.Request], Awaitable[None]]:
    """An httpx request hook: a command's business time (`at` in its JSON body) must also lie within
    the latest tick plus the skew (else 422), so the clock is brought near it first. A body that is
    not JSON, or an `at` that is not an aware time, is left for the service to judge."""
    async def hook(request: httpx.Request) -> None:
        if request.method == "GET" or not request.content:
            return
        try:
            body = json.loads(request.content)
            text = body.get("at") if isinstance(body, dict) else None
            at = datetime.fromisoformat(text) if isinstance(text, str) else None
        except ValueError:  # not JSON (UnicodeDecodeError too), or not a time
            return
        if at is not None and at.tzinfo is not None:
            await keep_clock_near(settings, [runtime], [at])

    return hook


async def keep_clock_near(settings: Settings, consumers: Sequence[ServiceRuntime],
                          moments: Iterable[datetime]) -> None:
    """Tick, if needed, so that every one of `moments` lies within the latest tick plus the skew of each
    consuming service; returns once each has seen the tick. No tick before the first: until then only
    the static range holds at the door."""
    pools = [runtime.context.pool for runtime in consumers]
    latest_time = max(moments, default=None)
    if latest_time is None:
        return
    target = latest_time - settings.max_clock_skew + MARGIN
    ticks = [await business_clock.latest_tick(pool) for pool in pools]
    if all(tick is None or tick >= target for tick in ticks):
        return
    await publish_events(settings, topics.CLOCK_EVENTS, [clock.tick(target)])

    async def seen() -> bool:
        for pool in pools:
            tick = await business_clock.latest_tick(pool)
            if tick is not None and tick < target:
                return False
        return True

    await eventually(seen, what=f"helper tick {target.isoformat()} seen", timeout=60.0)
