"""Business days (domain.md section 3, ours): the calendar helper the order and fulfillment services share.

Saturday and Sunday do not elapse, judged in UTC. "N business days after an instant" is the
instant at which N x 24 hours of weekday time have passed, so the time of day is kept and the
result only ever moves forward:

- a Friday 15:00 start plus 1 business day is Monday 15:00;
- a weekend start counts from Monday 00:00, so Saturday + 1 is Tuesday 00:00 (the end of Monday);
- a count that uses up Friday exactly ends at Saturday 00:00 (the end of Friday), not Monday.

Pure: no clock, no I/O.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_DAY = timedelta(days=1)

#: `datetime.weekday()` numbers of the days that do not elapse: Saturday and Sunday.
WEEKEND: frozenset[int] = frozenset({5, 6})


def check_weekend(weekend_days: frozenset[int]) -> None:
    """Weekend days are weekday numbers 0-6, and at least one day must be a business day."""
    if not weekend_days <= set(range(7)) or len(weekend_days) >= 7:
        raise ValueError(f"weekend days must be a proper subset of 0-6, got {sorted(weekend_days)}")


def to_utc(value: datetime) -> datetime:
    """Business time is unambiguous: naive datetimes are refused, aware ones normalised to UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()}: business time must carry a zone")
    return value.astimezone(UTC)


def add_business_days(start: datetime, days: int, weekend_days: frozenset[int] = WEEKEND) -> datetime:
    """The instant `days` x 24 hours of weekday time after `start` (see the module docstring)."""
    if days < 0:
        raise ValueError(f"business days must not be negative, got {days}")
    check_weekend(weekend_days)
    at = _skip_weekend(to_utc(start), weekend_days)
    remaining = timedelta(days=days)
    while True:
        day_end = _start_of_day(at) + _DAY
        if remaining <= day_end - at:
            return at + remaining
        remaining -= day_end - at
        at = _skip_weekend(day_end, weekend_days)


def _skip_weekend(at: datetime, weekend_days: frozenset[int]) -> datetime:
    while at.weekday() in weekend_days:
        at = _start_of_day(at) + _DAY
    return at


def _start_of_day(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)
