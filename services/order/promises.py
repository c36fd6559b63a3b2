"""An order's promises: ship-by, deliver-by, the auto-cancel deadline and the PII erasure date.

Business days (domain.md section 3) are the seller's `shared.calendar.BusinessCalendar`: not
Saturday, Sunday or a public holiday of the seller's country, judged on UTC dates. Ship-by is the
end (24:00 UTC) of the business day that lies *handling days* business days after the order's first
business day (the purchase date, or the next business day): a Friday purchase with 1 handling day
ships by Monday 24:00, a Saturday one by Tuesday 24:00. Deliver-by is the end of the business day
*transit days* business days after the ship-by day: a carrier's weekend delivery is a bonus, never
part of the promise. The auto-cancel grace and the PII retention are calendar durations: they
measure waiting, not working time. A New York purchase on Friday at 20:00 is a Saturday purchase here.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.calendar import WEEKEND, BusinessCalendar, check_weekend, parse_dates, to_utc
from shared.events.common import ShippingSpeed


@dataclass(frozen=True)
class OrderPolicy:
    """Every number of an order's promises, as a setting (domain.md section 3 and 8)."""

    standard_transit_days: int = 5
    expedited_transit_days: int = 2
    priority_transit_days: int = 1
    auto_cancel_after: timedelta = timedelta(days=7)  # after ship-by, calendar time
    pii_retention: timedelta = timedelta(days=30)  # after delivery, cancellation or rejection
    weekend_days: frozenset[int] = WEEKEND
    #: Further days off and holidays worked anyway: `2026-12-24,US:2026-12-31` (settings HOLIDAYS_ADD,
    #: HOLIDAYS_REMOVE; a bare date applies to every country).
    holidays_add: str = ""
    holidays_remove: str = ""

    def __post_init__(self) -> None:
        check_weekend(self.weekend_days)
        for days in (self.standard_transit_days, self.expedited_transit_days, self.priority_transit_days):
            if days < 0:
                raise ValueError(f"transit days must not be negative, got {days}")

    def calendar(self, country: str | None) -> BusinessCalendar:
        """The business days of a seller of `country` (None: weekends only, no holidays known)."""
        return _calendar(self, country)

    def transit_days(self, speed: ShippingSpeed) -> int:
        return {
            ShippingSpeed.STANDARD: self.standard_transit_days,
            ShippingSpeed.EXPEDITED: self.expedited_transit_days,
            ShippingSpeed.PRIORITY: self.priority_transit_days,
        }[speed]


DEFAULT_POLICY = OrderPolicy()


@functools.lru_cache(maxsize=256)
def _calendar(policy: OrderPolicy, country: str | None) -> BusinessCalendar:
    return BusinessCalendar(country, policy.weekend_days, parse_dates(policy.holidays_add, country),
                            parse_dates(policy.holidays_remove, country))


@dataclass(frozen=True)
class Promise:
    ship_by: datetime
    deliver_by: datetime


def ship_by_deadline(
    purchased_at: datetime, handling_days: Iterable[int], policy: OrderPolicy = DEFAULT_POLICY,
    country: str | None = None,
) -> datetime:
    """The end of the business day the largest handling days of the order's lines after its first business day."""
    days = list(handling_days)
    if not days:
        raise ValueError("an order needs at least one line to promise a ship-by")
    return policy.calendar(country).deadline(purchased_at, max(days))


def deliver_by_deadline(
    ship_by: datetime, speed: ShippingSpeed, policy: OrderPolicy = DEFAULT_POLICY, country: str | None = None,
) -> datetime:
    """The end of the business day the transit days of the shipping speed after the ship-by day."""
    return policy.calendar(country).deadline_after_day(ship_by, policy.transit_days(speed))


def promise(
    purchased_at: datetime,
    handling_days: Iterable[int],
    speed: ShippingSpeed,
    policy: OrderPolicy = DEFAULT_POLICY,
    country: str | None = None,
) -> Promise:
    ship_by = ship_by_deadline(purchased_at, handling_days, policy, country)
    return Promise(ship_by=ship_by, deliver_by=deliver_by_deadline(ship_by, speed, policy, country))


def auto_cancel_deadline(ship_by: datetime, policy: OrderPolicy = DEFAULT_POLICY) -> datetime:
    """Still unshipped after this instant, the system cancels the order."""
    return to_utc(ship_by) + policy.auto_cancel_after


def pii_erasure_due(closed_at: datetime, policy: OrderPolicy = DEFAULT_POLICY) -> datetime:
    """From this instant on, the buyer's personal data must be erased (domain.md section 8)."""
    return to_utc(closed_at) + policy.pii_retention
