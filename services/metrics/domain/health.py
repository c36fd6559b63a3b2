"""The account health rating and its ledger (domain.md section 7). Pure: every point has a line.

- start at 200; +4 for every 200 orders fulfilled in the last 180 days;
- minus each open violation: low 2, medium 4, high 8, doubled when it repeats a violation of the
  same category opened within the 180 days before it (ours: "within" is measured start to start);
  a critical violation sets the rating to 0;
- a policy violation is open for 180 days from its detection; a rate metric in breach is an open
  performance violation from the first day of the breach until the metric is back within target;
- a violation an accepted appeal resolves is closed; a later one of its category still repeats it;
- bands: healthy >= 200, at risk 100-199, critical < 100.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from services.metrics.domain.scorecard import RateValue, Scorecard
from services.metrics.policy import Policy
from shared.events.common import HealthBand, Severity
from shared.events.metrics import MetricName

POLICY_KIND, PERFORMANCE_KIND = "policy", "performance"


@dataclass(frozen=True)
class Violation:
    """A policy violation as recorded from `policy.violation`."""

    violation_id: str
    category: str
    severity: Severity
    detected_at: datetime
    description: str
    rules: tuple[str, ...] = ()
    resolved_at: datetime | None = None
    resolved_by: str | None = None


@dataclass(frozen=True)
class Episode:
    """A run of days on which a metric category was in breach: a performance violation."""

    category: str
    opened_on: date
    closed_on: date | None  # first day back within target; None while open

    @property
    def violation_id(self) -> str:
        return f"{self.category}:{self.opened_on.isoformat()}"


@dataclass(frozen=True)
class Line:
    """One line of the ledger: points, and everything that explains them."""

    points: int
    reason: str
    kind: str  # base, volume, violation, critical, floor, cap, closed, resolved
    violation_id: str | None = None
    metric: MetricName | None = None
    category: str | None = None
    severity: Severity | None = None
    opened_on: date | None = None
    closes_on: date | None = None  # a policy violation's last open day + 1; None: when back within target
    repeat_of: str | None = None


@dataclass(frozen=True)
class Health:
    rating: int
    band: HealthBand
    ledger: tuple[Line, ...]  # the lines that add up to the rating
    history: tuple[Line, ...]  # closed and resolved violations of the repeat window: no points, for the record
    breached: tuple[RateValue, ...]  # rate metrics in breach now
    critical_ids: tuple[str, ...]

    @property
    def open_violation_ids(self) -> list[str]:
        """Every open violation: critical ones first, then those the ledger takes points for."""
        taken = [line.violation_id for line in self.ledger if line.kind == "violation" and line.violation_id]
        return [*self.critical_ids, *taken]

    def open_metrics(self) -> set[MetricName]:
        return {line.metric for line in self.ledger if line.kind == "violation" and line.metric is not None}


def band_of(rating: int, policy: Policy) -> HealthBand:
    if rating >= policy.healthy_from:
        return HealthBand.HEALTHY
    return HealthBand.AT_RISK if rating >= policy.at_risk_from else HealthBand.CRITICAL


def episodes(category: str, breach_days: Sequence[tuple[date, bool]]) -> list[Episode]:
    """Runs of breach days, in order; the last one is open when the series ends in breach."""
    runs: list[Episode] = []
    start: date | None = None
    for day, breached in breach_days:
        if breached and start is None:
            start = day
        elif not breached and start is not None:
            runs.append(Episode(category, start, day))
            start = None
    if start is not None:
        runs.append(Episode(category, start, None))
    return runs


def with_today(runs: Sequence[Episode], category: str, today: date, breached: bool) -> list[Episode]:
    """Episodes up to yesterday, and today's breach (or not) added: an open episode goes on or closes today."""
    out = list(runs)
    last = out[-1] if out else None
    if breached and (last is None or last.closed_on is not None):
        out.append(Episode(category, today, None))
    elif not breached and last is not None and last.closed_on is None:
        out[-1] = Episode(category, last.opened_on, today)
    return out


@dataclass(frozen=True)
class _Open:
    violation_id: str
    kind: str
    category: str
    severity: Severity
    opened_at: datetime
    closes_on: date | None
    description: str
    metric: MetricName | None = None


def health(
    card: Scorecard,
    violations: Iterable[Violation],
    history: Mapping[str, Sequence[Episode]],
    resolved: Mapping[str, datetime],
    now: datetime,
    policy: Policy,
) -> Health:
    """The rating at `now`: `history` holds each breached category's episodes up to today,
    `resolved` the violation ids accepted appeals resolved (with when)."""
    def is_resolved(violation_id: str) -> bool:
        at = resolved.get(violation_id)
        return at is not None and at <= now

    known = [v for v in violations if v.detected_at <= now]
    candidates: list[_Open] = []
    record: list[Line] = []
    for v in known:
        closes = v.detected_at + policy.violation_window
        item = _Open(v.violation_id, POLICY_KIND, v.category, v.severity, v.detected_at, closes.date(),
                     v.description)
        candidates.append(item)
    breached = card.breaches()
    by_category: dict[str, list[RateValue]] = {}
    for rate in breached:
        by_category.setdefault(policy.category_of(rate.key), []).append(rate)
    for category, runs in sorted(history.items()):
        rule = next(r for r in policy.rates if r.category == category)
        for run in runs:
            opened = datetime.combine(run.opened_on, datetime.min.time(), tzinfo=now.tzinfo)
            what = _breach_text(by_category.get(category, [])) if run.closed_on is None else "in breach"
            candidates.append(_Open(run.violation_id, PERFORMANCE_KIND, category, rule.severity, opened,
                                    run.closed_on, what, rule.name))
    candidates.sort(key=lambda c: (c.opened_at, c.violation_id))
    open_lines: list[Line] = []
    critical: list[str] = []
    for c in candidates:
        opened_on = c.opened_at.date()
        if is_resolved(c.violation_id):
            if now - c.opened_at < policy.repeat_window:
                record.append(Line(0, f"{_title(c)} resolved by an accepted appeal", "resolved", c.violation_id,
                                   c.metric, c.category, c.severity, opened_on, c.closes_on))
            continue
        if not _is_open(c, now, policy):
            if c.closes_on is not None and (now.date() - c.closes_on).days < policy.repeat_days:
                record.append(Line(0, f"{_title(c)} closed", "closed", c.violation_id, c.metric, c.category,
                                   c.severity, opened_on, c.closes_on))
            continue
        if c.severity is Severity.CRITICAL:
            critical.append(c.violation_id)
            continue
        prior = _prior(c, candidates, policy)
        points = policy.points[c.severity] * (2 if prior else 1)
        reason = f"{_title(c)} since {opened_on.isoformat()}: {c.description}"
        if prior:
            reason = f"{reason[:200 - 40 - len(prior)]}; repeats {prior}: doubled"
        open_lines.append(Line(-points, reason[:200], "violation", c.violation_id, c.metric, c.category, c.severity,
                               opened_on, c.closes_on if c.kind == POLICY_KIND else None, prior))
    ledger = [Line(policy.rating_start, "starting rating", "base")]
    steps = card.fulfilled // policy.orders_per_bonus
    if steps:
        ledger.append(Line(steps * policy.bonus_points,
                           f"{card.fulfilled} orders fulfilled in the last {policy.fulfilled_window} days: "
                           f"+{policy.bonus_points} for every {policy.orders_per_bonus}", "volume"))
    ledger += open_lines
    total = sum(line.points for line in ledger)
    if critical:
        ledger.append(Line(-total, f"critical violation {', '.join(critical)[:150]}: the rating is 0", "critical",
                           critical[0]))
    elif total < 0:
        ledger.append(Line(-total, "the rating never goes below 0", "floor"))
    elif total > policy.rating_max:
        ledger.append(Line(policy.rating_max - total, f"the rating never goes above {policy.rating_max}", "cap"))
    rating = sum(line.points for line in ledger)
    return Health(rating, band_of(rating, policy), tuple(ledger), tuple(record), tuple(breached), tuple(critical))


def _is_open(c: _Open, now: datetime, policy: Policy) -> bool:
    if c.kind == POLICY_KIND:
        return now < c.opened_at + policy.violation_window
    return c.closes_on is None


def _prior(c: _Open, candidates: Sequence[_Open], policy: Policy) -> str | None:
    """The latest earlier violation of the same category opened within the repeat window before this one:
    closed or resolved by an appeal, it was opened all the same (domain.md section 7)."""
    found: str | None = None
    for other in candidates:
        if (other.opened_at, other.violation_id) >= (c.opened_at, c.violation_id):
            break
        if other.category == c.category and c.opened_at - other.opened_at < policy.repeat_window:
            found = other.violation_id
    return found


def _title(c: _Open) -> str:
    if c.kind == POLICY_KIND:
        return f"{c.severity.value} {c.category} policy violation {c.violation_id}"
    return f"{c.severity.value} {c.category.replace('_', ' ')} violation"


def _breach_text(rates: Sequence[RateValue]) -> str:
    parts = []
    for r in rates:
        channel = f" {r.channel.value}" if r.channel and r.name is MetricName.ORDER_DEFECT_RATE else ""
        rate = f"{(r.rate or 0) * 100:.2f}%"
        target = f"{'under' if r.kind.value == 'at_most' else 'at least'} {float(r.target or 0) * 100:g}%"
        parts.append(f"{r.window_days} days{channel} {rate} ({r.numerator} of {r.denominator}), target {target}")
    return "; ".join(parts) or "in breach"


def breach_days(series: Sequence[tuple[Callable[[int, int], bool], Sequence[tuple[int, int]]]], first: date
                ) -> list[tuple[date, bool]]:
    """Per day from `first`, whether any of a category's rates (a breach test and its day series) was in breach."""
    length = min((len(values) for _, values in series), default=0)
    return [(first + timedelta(days=i), any(test(*values[i]) for test, values in series)) for i in range(length)]
