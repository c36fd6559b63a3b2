"""An independent reference for breaches, performance and policy violations, the account health rating and
its band (domain.md sections 6 and 7), computed from the raw events of a `History` alone.

It builds on `history.reference` (the rates, written from domain.md section 6) and reads nothing of the
metrics service's health, enforcement, scorecard or query code. Readings of the text where it leaves a choice
are written down next to the code that makes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Any

from shared.events import Event
from shared.events.fulfillment import ShipmentConfirmed
from shared.events.policy import PolicyViolated
from shared.events.seller import SellerAppealDecided
from tests.integration.metrics.history import Key, reference

DAY = timedelta(days=1)
LOOKBACK = 180  # days: violations open, repeats, orders fulfilled (domain.md section 7)
MIN_DENOMINATOR = 25  # "a rate breach counts only when its denominator is at least 25" (section 6)

# Section 6's targets: ("under", L) is met when rate < L; ("at_least", T) is met when rate >= T.
TARGETS: dict[str, tuple[str, Fraction]] = {
    "order_defect_rate": ("under", Fraction(1, 100)),
    "pre_fulfillment_cancel_rate": ("under", Fraction(25, 1000)),
    "late_shipment_rate": ("under", Fraction(4, 100)),
    "valid_tracking_rate": ("at_least", Fraction(95, 100)),
    "on_time_delivery_rate": ("at_least", Fraction(90, 100)),
    "response_within_24h": ("at_least", Fraction(90, 100)),
    "return_dissatisfaction_rate": ("under", Fraction(10, 100)),
}
# Section 7: "ODR high; cancel rate, late shipment, valid tracking medium; on-time delivery, response time,
# return dissatisfaction low".
METRIC_SEVERITY = {
    "order_defect_rate": "high",
    "pre_fulfillment_cancel_rate": "medium", "late_shipment_rate": "medium", "valid_tracking_rate": "medium",
    "on_time_delivery_rate": "low", "response_within_24h": "low", "return_dissatisfaction_rate": "low",
}
POINTS = {"low": 2, "medium": 4, "high": 8}


def in_breach(key: Key, numerator: int, denominator: int) -> bool:
    """Section 6: a breach counts only with a denominator of at least 25; then the target is missed."""
    if denominator < MIN_DENOMINATOR:
        return False
    kind, target = TARGETS[key[0]]
    rate = Fraction(numerator, denominator)
    return rate >= target if kind == "under" else rate < target


def category(key: Key) -> str:
    """Section 7's 'one violation per metric': the two ODR channels are two metrics (two categories); the 10-
    and 30-day late shipment windows are one (in breach when either is)."""
    name, channel, _ = key
    return f"{name}_{channel}" if name == "order_defect_rate" else name


def metric_of(cat: str) -> str:
    return "order_defect_rate" if cat.startswith("order_defect_rate") else cat


def breaches(events: list[Event[Any]], seller: str, at: datetime) -> set[Key]:
    """Every (metric, channel, window) in breach at `at`."""
    return {key for key, (num, den) in reference(events, seller, at).items() if in_breach(key, num, den)}


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


@dataclass(frozen=True)
class Violation:
    violation_id: str  # a policy violation's id; for a performance violation "<category>:<opened day>"
    kind: str  # "performance" or "policy"
    category: str  # the metric category (order_defect_rate_merchant, late_shipment_rate ...) or the policy's
    severity: str
    opened: datetime  # a performance violation: the start of its first day in breach
    is_open: bool
    resolved: bool = False  # by an accepted appeal that names it
    repeat_of: str | None = None

    @property
    def points(self) -> int:
        """What it takes off the rating now (0 when closed or resolved; critical is handled by the rating)."""
        if not self.is_open or self.severity == "critical":
            return 0
        return POINTS[self.severity] * (2 if self.repeat_of else 1)


@dataclass
class Expected:
    at: datetime
    rating: int
    band: str
    breached: set[Key]  # (metric, channel, window) in breach at `at`
    violations: list[Violation]  # every violation opened by `at`, open or not
    fulfilled: int  # orders shipped in the last 180 days
    bonus: int
    days: dict[date, frozenset[str]] = field(repr=False, default_factory=dict)  # categories in breach per day

    @property
    def breached_metrics(self) -> set[str]:
        return {name for name, _, _ in self.breached}

    @property
    def open(self) -> list[Violation]:
        return [v for v in self.violations if v.is_open]

    @property
    def critical(self) -> list[str]:
        return [v.violation_id for v in self.open if v.severity == "critical"]


class HealthReference:
    """Day verdicts are cached per (seller, day): a past day's end is judged once, whatever `at` asks."""

    def __init__(self, events: list[Event[Any]]) -> None:
        self.events = events
        self._days: dict[tuple[str, date], frozenset[str]] = {}

    def day_verdict(self, seller: str, day: date) -> frozenset[str]:
        if (seller, day) not in self._days:
            self._days[(seller, day)] = frozenset(category(k) for k in breaches(self.events, seller, end_of(day)))
        return self._days[(seller, day)]

    def expected(self, seller: str, at: datetime) -> Expected:
        known = [e for e in self.events if e.sellerid == seller and e.time <= at]
        today = at.date()
        now = breaches(self.events, seller, at)
        # My reading of "in breach ... closes when the metric is back within target" with "judged at each day's
        # end": a metric's verdict for a past day D is its breach (denominator >= 25 and target missed, section 6)
        # on the scorecard at the end of D (windows ending with D, every event up to D 24:00); for today it is
        # the live verdict at `at`. A performance violation is one episode of consecutive days in breach: it
        # opens on the episode's first day and closes on the first day the metric is not in breach (back within
        # target, or too few items to count a breach). It is open at `at` when today is in breach. Nothing is in
        # breach before the seller's first event.
        days: dict[date, frozenset[str]] = {}
        if known:
            day = min(e.time for e in known).date()
            while day < today:
                days[day] = self.day_verdict(seller, day)
                day += DAY
        days[today] = frozenset(category(k) for k in now)
        violations = _performance(days, today) + _policy(known, at)
        violations = _with_repeats(violations)
        fulfilled = _fulfilled(known, today)
        bonus = 4 * (fulfilled // 200)
        rating = 200 + bonus - sum(v.points for v in violations)
        if any(v.is_open and v.severity == "critical" for v in violations):
            rating = 0  # "a critical violation sets the score to 0"
        rating = max(0, min(1000, rating))  # "a score from 0 to 1000"
        band = "healthy" if rating >= 200 else "at_risk" if rating >= 100 else "critical"
        return Expected(at, rating, band, now, violations, fulfilled, bonus, days)


def _performance(days: dict[date, frozenset[str]], today: date) -> list[Violation]:
    out: list[Violation] = []
    ordered = sorted(days)
    for cat in sorted({c for cats in days.values() for c in cats}):
        start: date | None = None
        for day in ordered:
            if cat in days[day] and start is None:
                start = day
            if cat not in days[day] and start is not None:
                out.append(_episode(cat, start, is_open=False))
                start = None
        if start is not None:
            out.append(_episode(cat, start, is_open=cat in days[today]))
    return out


def _episode(cat: str, start: date, *, is_open: bool) -> Violation:
    return Violation(f"{cat}:{start.isoformat()}", "performance", cat, METRIC_SEVERITY[metric_of(cat)],
                     datetime.combine(start, time.min, tzinfo=UTC), is_open)


def _policy(known: list[Event[Any]], at: datetime) -> list[Violation]:
    """Section 7 / the event: a policy violation is open for 180 days from its detection; an accepted appeal
    that names it resolves it. My reading of "open 180 days": calendar days like the windows of section 6,
    i.e. open on its detection date D and the 179 following dates, closed from D + 180."""
    resolved = {vid for e in known if isinstance(e.data, SellerAppealDecided) and e.data.accepted
                for vid in e.data.resolved_violation_ids}
    out = []
    for e in known:
        if isinstance(e.data, PolicyViolated):
            v = e.data
            gone = v.violation_id in resolved
            within = (at.date() - v.detected_at.date()).days < LOOKBACK
            out.append(Violation(v.violation_id, "policy", v.category.value, v.severity.value, v.detected_at,
                                 is_open=within and not gone, resolved=gone))
    return list({v.violation_id: v for v in out}.values())  # a redelivered event is the same violation


def _with_repeats(violations: list[Violation]) -> list[Violation]:
    """Section 7: a repeat is a new violation of the same category opened within 180 days after an earlier one
    of that category opened (an earlier one that closed, or that an appeal resolved, still opened); its points
    double once, not again for a third. My reading of "within 180 days after": the earlier one opened on one of
    the 180 dates ending with the new one's opening date, and before it."""
    out = []
    for v in violations:
        earlier = [w for w in violations if w.category == v.category and w.opened < v.opened
                   and (v.opened.date() - w.opened.date()).days < LOOKBACK]
        first = min(earlier, key=lambda w: w.opened, default=None)
        out.append(replace(v, repeat_of=first.violation_id if first else None))
    return sorted(out, key=lambda w: (w.opened, w.violation_id))


def _fulfilled(known: list[Event[Any]], today: date) -> int:
    """Section 7: "orders fulfilled" are orders shipped (either channel) in the last 180 days. history.py marks a
    shipment with `ShipmentConfirmed` for both channels; its `shipped_at` date must be one of the 180 dates
    ending today."""
    shipped = {e.data.order_id for e in known if isinstance(e.data, ShipmentConfirmed)
               and (today - e.data.shipped_at.date()).days < LOOKBACK}
    return len(shipped)

