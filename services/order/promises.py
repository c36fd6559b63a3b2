"""An order's promises: ship-by, deliver-by, the auto-cancel deadline and the PII erasure date.

Business days (ours, domain.md section 3), counted in UTC: Saturday and Sunday do not elapse.
"N business days after an instant" is the instant at which N x 24 hours of weekday time have
passed, so the time of day is kept and the result only ever moves forward:

- a Friday 15:00 purchase with 1 handling day ships by Monday 15:00;
- a weekend purchase counts from Monday 00:00, so Saturday + 1 handling day is Tuesday 00:00
  (the end of Monday), the same as a purchase at the first instant of Monday;
- a count that uses up Friday exactly ends at Saturday 00:00 (the end of Friday), not Monday.

Deliver-by counts the transit days of the shipping speed from ship-by the same way: a carrier's
weekend delivery is a bonus, never part of the promise. The auto-cancel grace and the PII
retention are calendar durations: they measure waiting, not working time. The weekend is judged
in UTC: a New York purchase on Friday at 20:00 is a Saturday purchase here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.events.common import ShippingSpeed

_DAY = timedelta(days=1)
WEEKEND: frozenset[int] = frozenset({5, 6})  # datetime.weekday(): Saturday, Sunday


def _check_weekend(weekend_days: frozenset[int]) -> None:
    # Seven weekend days would make every count endless.
    if not weekend_days <= set(range(7)) or len(weekend_days) >= 7:
        raise ValueError(f"weekend days must be a proper subset of 0-6, got {sorted(weekend_days)}")


@dataclass(frozen=True)
class OrderPolicy:
    """Every number of an order's promises, as a setting (domain.md section 3 and 8)."""

    standard_transit_days: int = 5
    expedited_transit_days: int = 2
    priority_transit_days: int = 1
    auto_cancel_after: timedelta = timedelta(days=7)  # after ship-by, calendar time
    pii_retention: timedelta = timedelta(days=30)  # after delivery, cancellation or rejection
    weekend_days: frozenset[int] = WEEKEND

    def __post_init__(self) -> None:
        _check_weekend(self.weekend_days)
        for days in (self.standard_transit_days, self.expedited_transit_days, self.priority_transit_days):
            if days < 0:
                raise ValueError(f"transit days must not be negative, got {days}")

    def transit_days(self, speed: ShippingSpeed) -> int:
        return {
            ShippingSpeed.STANDARD: self.standard_transit_days,
            ShippingSpeed.EXPEDITED: self.expedited_transit_days,
            ShippingSpeed.PRIORITY: self.priority_transit_days,
        }[speed]


DEFAULT_POLICY = OrderPolicy()


@dataclass(frozen=True)
class Promise:
    ship_by: datetime
    deliver_by: datetime


def add_business_days(start: datetime, days: int, weekend_days: frozenset[int] = WEEKEND) -> datetime:
    """The instant `days` x 24 hours of weekday time after `start` (see the module docstring)."""
    if days < 0:
        raise ValueError(f"business days must not be negative, got {days}")
    _check_weekend(weekend_days)
    at = _skip_weekend(to_utc(start), weekend_days)
    remaining = timedelta(days=days)
    while True:
        day_end = _start_of_day(at) + _DAY
        if remaining <= day_end - at:
            return at + remaining
        remaining -= day_end - at
        at = _skip_weekend(day_end, weekend_days)


def ship_by_deadline(
    purchased_at: datetime, handling_days: Iterable[int], policy: OrderPolicy = DEFAULT_POLICY
) -> datetime:
    """Purchase time + the largest handling days of the order's lines, in business days."""
    days = list(handling_days)
    if not days:
        raise ValueError("an order needs at least one line to promise a ship-by")
    return add_business_days(purchased_at, max(days), policy.weekend_days)


def deliver_by_deadline(
    ship_by: datetime, speed: ShippingSpeed, policy: OrderPolicy = DEFAULT_POLICY
) -> datetime:
    """Ship-by + the transit days of the shipping speed, in business days."""
    return add_business_days(ship_by, policy.transit_days(speed), policy.weekend_days)


def promise(
    purchased_at: datetime,
    handling_days: Iterable[int],
    speed: ShippingSpeed,
    policy: OrderPolicy = DEFAULT_POLICY,
) -> Promise:
    ship_by = ship_by_deadline(purchased_at, handling_days, policy)
    return Promise(ship_by=ship_by, deliver_by=deliver_by_deadline(ship_by, speed, policy))


def auto_cancel_deadline(ship_by: datetime, policy: OrderPolicy = DEFAULT_POLICY) -> datetime:
    """Still unshipped after this instant, the system cancels the order."""
    return to_utc(ship_by) + policy.auto_cancel_after


def pii_erasure_due(closed_at: datetime, policy: OrderPolicy = DEFAULT_POLICY) -> datetime:
    """From this instant on, the buyer's personal data must be erased (domain.md section 8)."""
    return to_utc(closed_at) + policy.pii_retention


def to_utc(value: datetime) -> datetime:
    """Business time is unambiguous: naive datetimes are refused, aware ones normalised to UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()}: business time must carry a zone")
    return value.astimezone(UTC)


def _skip_weekend(at: datetime, weekend_days: frozenset[int]) -> datetime:
    while at.weekday() in weekend_days:
        at = _start_of_day(at) + _DAY
    return at


def _start_of_day(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)
