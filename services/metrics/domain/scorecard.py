"""A scorecard from window sums of the daily buckets: rates, statuses, sales and growth. Pure.

Windows are whole business days ending with the scorecard's day, both ends included: a 60-day
window on day D holds attribution days D-59 ... D, so an item leaves it on attribution day + 60.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from services.metrics import policy as keys
from services.metrics.policy import Policy, RateRule
from shared.events.common import FulfillmentChannel
from shared.events.metrics import MetricName, MetricStatus, TargetKind

#: (bucket key, window days) -> (numerator, denominator), for one seller on one day
Sums = Mapping[tuple[str, int], tuple[int, int]]
CENT = Decimal("0.01")


@functools.lru_cache(maxsize=4096)
def window(day: date, days: int) -> tuple[date, date]:
    """The `days` days ending with `day`, both included: (first, last)."""
    return day - timedelta(days=days - 1), day


def leaves_window_on(attributed_on: date, days: int) -> date:
    return attributed_on + timedelta(days=days)


@dataclass(frozen=True)
class Verdict:
    status: MetricStatus
    low_volume: bool

    @property
    def early_warning(self) -> bool:
        return self.status is MetricStatus.WARNING

    @property
    def breach(self) -> bool:
        return self.status is MetricStatus.BREACH


def judge(numerator: int, denominator: int, target: Decimal, kind: TargetKind, policy: Policy) -> Verdict:
    """ok, early warning or breach; a low-volume rate is never in breach (domain.md section 6, small numbers).

    An at-most target is missed at the target (ODR must stay under 1%: 1% breaches); an at-least
    target is met at the target (95% valid tracking is fine). Exact fractions: no rounding at the edge.
    """
    low = denominator < policy.min_denominator
    if denominator == 0:
        return Verdict(MetricStatus.OK, low)
    p, q = _ratio(target)
    outside = _outside(numerator, denominator, p, q, kind)
    # Under L: warn at 0.8 L (bad share >= 0.8 x limit). At least T: warn below 1 - 0.8 (1 - T), i.e. once
    # the failure share passes 80% of the one allowed (96% for 95%: 96% itself is fine). In integers:
    # (bad / den) vs (a / b) x (limit_num / q).
    a, b = _ratio(policy.early_warning_share)
    bad, limit = (numerator, p) if kind is TargetKind.AT_MOST else (denominator - numerator, q - p)
    warned = bad * b * q >= a * limit * denominator if kind is TargetKind.AT_MOST \
        else bad * b * q > a * limit * denominator
    if outside and not low:
        return Verdict(MetricStatus.BREACH, low)
    return Verdict(MetricStatus.WARNING if outside or warned else MetricStatus.OK, low)


@functools.cache
def _ratio(value: Decimal) -> tuple[int, int]:
    fraction = Fraction(value)
    return fraction.numerator, fraction.denominator


def _outside(numerator: int, denominator: int, p: int, q: int, kind: TargetKind) -> bool:
    """Outside the target p/q, in integers: at most is missed at num/den >= p/q; at least at num/den < p/q."""
    if kind is TargetKind.AT_MOST:
        return numerator * q >= p * denominator
    return numerator * q < p * denominator


def breach_test(target: Decimal, kind: TargetKind, policy: Policy) -> Callable[[int, int], bool]:
    """`judge(...).breach` as a fast predicate, for day-end histories of hundreds of days."""
    (p, q), least = _ratio(target), policy.min_denominator
    return lambda num, den: den >= least and den > 0 and _outside(num, den, p, q, kind)


@dataclass(frozen=True)
class RateValue:
    name: MetricName
    key: str
    channel: FulfillmentChannel | None
    window_days: int
    first_day: date
    last_day: date
    numerator: int
    denominator: int
    target: Decimal | None
    kind: TargetKind
    verdict: Verdict

    @property
    def rate(self) -> float | None:
        return None if self.denominator == 0 else self.numerator / self.denominator

    @property
    def status(self) -> MetricStatus:
        return self.verdict.status

    @property
    def breach(self) -> bool:
        return self.verdict.breach


def rate_value(rule: RateRule, days: int, day: date, sums: Sums, policy: Policy) -> RateValue:
    num, den = sums.get((rule.key, days), (0, 0))
    first, last = window(day, days)
    return RateValue(rule.name, rule.key, rule.channel, days, first, last, num, den, rule.target, rule.kind,
                     judge(num, den, rule.target, rule.kind, policy))


@dataclass(frozen=True)
class SalesWindow:
    days: int
    first_day: date
    last_day: date
    orders: int
    units: int
    gross: dict[str, Decimal]  # by currency: a seller may sell in several
    orders_by_currency: dict[str, int]
    previous_orders: int
    previous_gross: dict[str, Decimal]

    @property
    def average_order_value(self) -> dict[str, Decimal]:
        return {c: (g / self.orders_by_currency[c]).quantize(CENT) for c, g in self.gross.items()
                if self.orders_by_currency.get(c)}

    @property
    def growth(self) -> dict[str, float | None]:
        """Gross sales against the previous equal period, per currency: +0.25 is 25% more; None from nothing."""
        currencies = sorted(self.gross.keys() | self.previous_gross.keys())
        return {c: _growth(self.gross.get(c, Decimal(0)), self.previous_gross.get(c, Decimal(0))) for c in currencies}

    @property
    def orders_growth(self) -> float | None:
        return _growth(Decimal(self.orders), Decimal(self.previous_orders))


def _growth(now: Decimal, before: Decimal) -> float | None:
    return None if before == 0 else float((now - before) / before)


def sales_window(days: int, day: date, sums: Sums) -> SalesWindow:
    gross: dict[str, Decimal] = {}
    previous: dict[str, Decimal] = {}
    orders_by: dict[str, int] = {}
    orders = previous_orders = 0
    for (key, span), (num, den) in sorted(item for item in sums.items() if item[0][0].startswith(keys.SALES_PREFIX)):
        currency = key.removeprefix(keys.SALES_PREFIX)
        if span == days:
            if den:
                gross[currency], orders_by[currency] = Decimal(num) / 100, den
            orders += den
        elif span == 2 * days:
            before_num = num - sums.get((key, days), (0, 0))[0]
            before_den = den - sums.get((key, days), (0, 0))[1]
            if before_den:
                previous[currency] = Decimal(before_num) / 100
            previous_orders += before_den
    first, last = window(day, days)
    units = sums.get((keys.UNITS, days), (0, 0))[0]
    return SalesWindow(days, first, last, orders, units, gross, orders_by, previous_orders, previous)


@dataclass(frozen=True)
class Scorecard:
    day: date
    rates: tuple[RateValue, ...]
    feedback: tuple[RateValue, ...]  # positive share: no target
    sales: tuple[SalesWindow, ...]
    average_review_rating: float | None
    average_reply_minutes: float | None
    fulfilled: int  # orders fulfilled in the rating's volume window

    def breaches(self) -> list[RateValue]:
        return [r for r in self.rates if r.breach]


def scorecard(day: date, sums: Sums, policy: Policy) -> Scorecard:
    rates = tuple(rate_value(rule, days, day, sums, policy) for rule in policy.rates for days in rule.windows)
    feedback = []
    for days in policy.feedback_windows:
        num, den = sums.get((keys.FEEDBACK, days), (0, 0))
        first, last = window(day, days)
        feedback.append(RateValue(MetricName.POSITIVE_FEEDBACK, keys.FEEDBACK, None, days, first, last, num, den,
                                  None, TargetKind.AT_LEAST, Verdict(MetricStatus.OK, den < policy.min_denominator)))
    stars, reviews = sums.get((keys.REVIEWS, policy.review_window), (0, 0))
    minutes, replies = sums.get((keys.REPLY_MINUTES, policy.reply_time_window), (0, 0))
    fulfilled = sums.get((keys.FULFILLED, policy.fulfilled_window), (0, 0))[0]
    return Scorecard(
        day=day,
        rates=rates,
        feedback=tuple(feedback),
        sales=tuple(sales_window(days, day, sums) for days in policy.sales_windows),
        average_review_rating=round(stars / reviews, 4) if reviews else None,
        average_reply_minutes=round(minutes / replies, 2) if replies else None,
        fulfilled=fulfilled,
    )


# --- history: a rate at the end of every day ---------------------------------------------------------

#: A bucket row of one key: (attribution day, effective day, numerator, denominator)
Row = tuple[date, date, int, int]


def day_series(rows: Iterable[Row], days: int, first: date, last: date) -> list[tuple[int, int]]:
    """(numerator, denominator) of a `days` window at the end of each day from `first` to `last`.

    At the end of day D a window holds the rows attributed to D-days+1 ... D that were effective by D:
    what the scorecard said that day. O(rows + days): rows join a running sum as they become effective,
    and attribution days enter and leave the window as D moves.
    """
    pending = sorted(rows, key=lambda r: r[1])
    by_attr: dict[date, list[int]] = {}
    num = den = 0
    out: list[tuple[int, int]] = []
    i = 0
    d = first
    lo = first - timedelta(days=days - 1)  # window of `first`: [lo, first]
    while d <= last:
        if d > first:  # the window moved by one day: the new last day enters, the old first day leaves
            entering, leaving = by_attr.get(d), by_attr.get(d - timedelta(days=days))
            if entering:
                num, den = num + entering[0], den + entering[1]
            if leaving:
                num, den = num - leaving[0], den - leaving[1]
            lo = d - timedelta(days=days - 1)
        while i < len(pending) and pending[i][1] <= d:
            attr, _, n, m = pending[i]
            acc = by_attr.setdefault(attr, [0, 0])
            acc[0], acc[1] = acc[0] + n, acc[1] + m
            if lo <= attr <= d:
                num, den = num + n, den + m
            i += 1
        out.append((num, den))
        d += timedelta(days=1)
    return out
