"""An order's promises: ship-by, deliver-by, the auto-cancel deadline and the PII erasure date.

Business days (ours, domain.md section 3) are `shared.calendar`'s: Saturday and Sunday do not
elapse, judged in UTC, and the time of day is kept. A Friday 15:00 purchase with 1 handling day
ships by Monday 15:00; a weekend purchase counts from Monday 00:00.

Deliver-by counts the transit days of the shipping speed from ship-by the same way: a carrier's
weekend delivery is a bonus, never part of the promise. The auto-cancel grace and the PII
retention are calendar durations: they measure waiting, not working time. The weekend is judged
in UTC: a New York purchase on Friday at 20:00 is a Saturday purchase here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.calendar import WEEKEND, add_business_days, check_weekend, to_utc
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

    def __post_init__(self) -> None:
        check_weekend(self.weekend_days)
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
