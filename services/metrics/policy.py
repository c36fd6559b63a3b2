"""Every threshold, window, target and point value of domain.md sections 6 and 7, as one frozen setting.

The defaults are domain.md's; a deployment (or a test) passes its own `Policy` to change one. Nothing
in the metrics service writes one of these figures as a literal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from shared.events.common import FulfillmentChannel, Severity
from shared.events.metrics import MetricName, TargetKind

#: Bucket keys: what one item adds to a metric's numerator and denominator on its attribution day.
ODR_MERCHANT = "odr.merchant"
ODR_MARKETPLACE = "odr.marketplace"
CANCEL = "cancel"
LATE_SHIPMENT = "late_shipment"
VALID_TRACKING = "valid_tracking"
ON_TIME_DELIVERY = "on_time_delivery"
RESPONSE = "response"
RETURNS = "return_dissatisfaction"
FEEDBACK = "feedback"  # numerator: positive (4-5 stars); denominator: feedback that counts
REVIEWS = "reviews"  # numerator: stars; denominator: reviews
REPLY_MINUTES = "reply_minutes"  # numerator: minutes to reply; denominator: replies
FULFILLED = "fulfilled"  # orders fulfilled (first shipment), for the rating's volume bonus
UNITS = "units"  # numerator: units; denominator: orders
SALES_PREFIX = "sales:"  # `sales:USD`: numerator gross in cents, denominator orders, in that currency


def sales_key(currency: str) -> str:
    return f"{SALES_PREFIX}{currency}"


def family(key: str) -> str:
    """`sales:USD` -> `sales`; every other key is its own family."""
    return key.split(":", 1)[0]


@dataclass(frozen=True)
class RateRule:
    """One rate metric of domain.md section 6: which bucket, which windows, which target."""

    name: MetricName
    key: str
    windows: tuple[int, ...]
    target: Decimal
    kind: TargetKind
    severity: Severity  # of the performance violation a breach opens (section 7)
    channel: FulfillmentChannel | None = None

    @property
    def category(self) -> str:
        """The violation category: one per metric, so the two ODR channels are two (domain.md section 7); the
        10- and 30-day late shipment windows are one. A repeat of the same category within the repeat window doubles."""
        if self.name is MetricName.ORDER_DEFECT_RATE and self.channel is not None:
            return f"{self.name.value}_{self.channel.value}"
        return self.name.value


def _rules() -> tuple[RateRule, ...]:
    m, low, med, high = FulfillmentChannel.MERCHANT, Severity.LOW, Severity.MEDIUM, Severity.HIGH
    at_most, at_least = TargetKind.AT_MOST, TargetKind.AT_LEAST
    return (
        RateRule(MetricName.ORDER_DEFECT_RATE, ODR_MERCHANT, (60,), Decimal("0.01"), at_most, high, m),
        RateRule(MetricName.ORDER_DEFECT_RATE, ODR_MARKETPLACE, (60,), Decimal("0.01"), at_most, high,
                 FulfillmentChannel.MARKETPLACE),
        RateRule(MetricName.PRE_FULFILLMENT_CANCEL_RATE, CANCEL, (7,), Decimal("0.025"), at_most, med, m),
        RateRule(MetricName.LATE_SHIPMENT_RATE, LATE_SHIPMENT, (10, 30), Decimal("0.04"), at_most, med, m),
        RateRule(MetricName.VALID_TRACKING_RATE, VALID_TRACKING, (30,), Decimal("0.95"), at_least, med, m),
        RateRule(MetricName.ON_TIME_DELIVERY_RATE, ON_TIME_DELIVERY, (14,), Decimal("0.90"), at_least, low, m),
        RateRule(MetricName.RESPONSE_WITHIN_24H, RESPONSE, (30,), Decimal("0.90"), at_least, low),
        RateRule(MetricName.RETURN_DISSATISFACTION_RATE, RETURNS, (30,), Decimal("0.10"), at_most, low),
    )


def _points() -> dict[Severity, int]:
    return {Severity.LOW: 2, Severity.MEDIUM: 4, Severity.HIGH: 8}


@dataclass(frozen=True)
class Policy:
    rates: tuple[RateRule, ...] = field(default_factory=_rules)
    #: Small numbers: a breach counts only with at least this denominator (ours: 25).
    min_denominator: int = 25
    #: An early warning at this share of a limit (ours: 80%). For an at-least target the limit is the
    #: failure share allowed: >= 95% valid tracking allows 5% invalid, so the warning starts at 4% invalid.
    early_warning_share: Decimal = Decimal("0.8")
    feedback_windows: tuple[int, ...] = (30, 90, 365)
    review_window: int = 365  # ours: domain.md names no window for the average review rating
    reply_time_window: int = 30  # ours: as the response metric
    sales_windows: tuple[int, ...] = (7, 30)

    # Account health rating (section 7).
    rating_start: int = 200
    rating_max: int = 1000
    fulfilled_window: int = 180
    orders_per_bonus: int = 200
    bonus_points: int = 4
    violation_days: int = 180  # a policy violation stays open this long
    repeat_days: int = 180  # a repeat of the same category within this many days doubles
    points: dict[Severity, int] = field(default_factory=_points)
    healthy_from: int = 200
    at_risk_from: int = 100
    #: Metrics whose breach restricts the seller (section 7).
    restricting: frozenset[MetricName] = frozenset({
        MetricName.ORDER_DEFECT_RATE, MetricName.PRE_FULFILLMENT_CANCEL_RATE, MetricName.LATE_SHIPMENT_RATE,
    })
    #: Most defects an enforcement decision lists (the event allows 500).
    max_defects_listed: int = 200

    def category_of(self, key: str) -> str:
        """The violation category of a rate's bucket key (`odr.merchant` -> `order_defect_rate_merchant`)."""
        return next(rule.category for rule in self.rates if rule.key == key)

    def windows_by_family(self) -> dict[str, tuple[int, ...]]:
        """Every bucket family and the windows a scorecard sums it over (sales also the previous period)."""
        windows: dict[str, set[int]] = {}
        for rule in self.rates:
            windows.setdefault(rule.key, set()).update(rule.windows)
        windows[FEEDBACK] = set(self.feedback_windows)
        windows[REVIEWS] = {self.review_window}
        windows[REPLY_MINUTES] = {self.reply_time_window}
        windows[FULFILLED] = {self.fulfilled_window}
        sales = set(self.sales_windows) | {2 * days for days in self.sales_windows}
        windows[family(SALES_PREFIX)] = sales
        windows[UNITS] = sales
        return {key: tuple(sorted(days)) for key, days in sorted(windows.items())}

    @property
    def longest_window(self) -> int:
        return max(max(days) for days in self.windows_by_family().values())

    @property
    def violation_window(self) -> timedelta:
        return timedelta(days=self.violation_days)

    @property
    def repeat_window(self) -> timedelta:
        return timedelta(days=self.repeat_days)


DEFAULT_POLICY = Policy()
