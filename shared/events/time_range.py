"""The dynamic bound of business times from outside (design.md section 3): no time in an ingress
event may lie after the consuming service's latest `clock.ticked` plus MAX_CLOCK_SKEW.

The static range (2000-01-01 .. 2099-12-31) is a shape, checked by the types (`BusinessTime`) and
stated by the JSON Schemas; this bound moves with the clock, so the consumer checks it after parsing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from shared.events.envelope import Event


def business_times(event: Event[Any]) -> Iterator[tuple[str, datetime]]:
    """(path, time) of the envelope's `time` and of every datetime in `data`, nested ones included."""
    yield "time", event.time
    yield from _walk(event.data, "data")


def _walk(value: Any, path: str) -> Iterator[tuple[str, datetime]]:
    if isinstance(value, datetime):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _walk(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


def time_ahead(event: Event[Any], latest_tick: datetime, skew: timedelta) -> str | None:
    """Why `event` is refused, if one of its times lies after `latest_tick + skew`; else None."""
    ceiling = latest_tick + skew  # no overflow: ticks are before 2100 and the skew at most a year
    for path, moment in business_times(event):
        if moment > ceiling:
            return (f"invalid {event.type}: `{path}` is after the latest clock tick plus MAX_CLOCK_SKEW "
                    f"({describe(skew)})")
    return None


def describe(span: timedelta) -> str:
    """`2 days`, `36 hours`, `90 minutes`, `45 seconds`: a span as a person would say it."""
    seconds = int(span.total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
