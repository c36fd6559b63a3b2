"""Seller performance events, produced by the metrics service on `metrics.events` (domain.md sections 6-7)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar, Self

from pydantic import Field, model_validator

from shared.events import topics
from shared.events.common import (
    DefectKind,
    EnforcementAction,
    FulfillmentChannel,
    HealthBand,
    Identifier,
    Model,
    Money,
    Severity,
    ShortText,
    UtcDatetime,
)
from shared.events.envelope import Payload

_METRICS = (topics.METRICS_EVENTS,)

Rating = Annotated[int, Field(ge=0, le=1000)]
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0)]


class MetricName(StrEnum):
    ORDER_DEFECT_RATE = "order_defect_rate"
    PRE_FULFILLMENT_CANCEL_RATE = "pre_fulfillment_cancel_rate"
    LATE_SHIPMENT_RATE = "late_shipment_rate"
    VALID_TRACKING_RATE = "valid_tracking_rate"
    ON_TIME_DELIVERY_RATE = "on_time_delivery_rate"
    RESPONSE_WITHIN_24H = "response_within_24h"
    RETURN_DISSATISFACTION_RATE = "return_dissatisfaction_rate"
    POSITIVE_FEEDBACK = "positive_feedback"


class TargetKind(StrEnum):
    AT_MOST = "at_most"  # the rate must stay below the target (defects, cancellations ...)
    AT_LEAST = "at_least"  # the rate must reach the target (valid tracking, on-time delivery ...)


class MetricStatus(StrEnum):
    OK = "ok"
    WARNING = "warning"  # within 80% of the limit
    BREACH = "breach"  # outside the target with enough volume: an open performance violation


class MetricValue(Model):
    """One rate metric over one window ending at the scorecard's `as_of`."""

    name: MetricName = Field(description="The metric.")
    channel: FulfillmentChannel | None = Field(default=None, description="Channel, for a per-channel metric.")
    window_days: int = Field(ge=1, le=365, description="Window length in days, ending now.")
    numerator: Count = Field(description="Items counted against (or for) the target.")
    denominator: Count = Field(description="Items in the window.")
    rate: Share | None = Field(description="numerator / denominator; null when the denominator is 0.")
    target: Share | None = Field(default=None, description="The target rate; null when there is none.")
    target_kind: TargetKind = Field(default=TargetKind.AT_MOST, description="Good side of the target.")
    status: MetricStatus = Field(description="ok, warning or breach; a low-volume metric is never in breach.")
    low_volume: bool = Field(description="Denominator under the minimum (25): shown, not enforced.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.numerator > self.denominator:
            raise ValueError("numerator is above denominator")
        if (self.rate is None) != (self.denominator == 0):
            raise ValueError("rate is null exactly when the denominator is 0")
        if self.low_volume and self.status is MetricStatus.BREACH:
            raise ValueError("a low-volume metric is never in breach")
        return self


class SalesFigure(Model):
    """Sales over one window, in one currency."""

    window_days: int = Field(ge=1, le=365, description="Window length in days, ending now.")
    orders: Count = Field(description="Orders placed and confirmed.")
    units: Count = Field(description="Units in those orders.")
    gross_sales: Money = Field(description="Sum of the order totals.")
    average_order_value: Money | None = Field(description="gross_sales / orders; null without orders.")
    growth: float | None = Field(
        default=None, allow_inf_nan=False, description="Gross sales change against the previous period."
    )


class RatingLine(Model):
    """One line of the account health rating's ledger: every point is explained."""

    points: int = Field(ge=-1000, le=1000, description="Points added (positive) or taken (negative).")
    reason: ShortText = Field(description="Why, e.g. base, 200 orders fulfilled, open high violation.")
    violation_id: Identifier | None = Field(default=None, description="The policy violation, if any.")
    metric: MetricName | None = Field(default=None, description="The breached metric, if any.")
    kind: str | None = Field(
        default=None, max_length=20,
        description="base, volume, violation, critical, floor or cap (points); closed or resolved (0 points).",
    )
    category: str | None = Field(
        default=None, max_length=40, description="The violation's category: listing, review, messaging or a metric."
    )
    severity: Severity | None = Field(default=None, description="The violation's severity.")
    opened_on: date | None = Field(default=None, description="When the violation opened (detected, or breached).")
    closes_on: date | None = Field(
        default=None, description="When a policy violation closes; null for a breach (closes back within target)."
    )
    repeat_of: Identifier | None = Field(
        default=None, description="The earlier violation of the same category this one repeats: points doubled."
    )


class DefectRef(Model):
    """An item in a metric's numerator: the drill-down behind a decision."""

    order_id: Identifier = Field(description="The order.")
    kind: DefectKind = Field(description="What kind of defect.")
    attributed_on: date = Field(description="The date that places it in the window.")
    leaves_window_on: date = Field(description="The date it stops counting.")


class SellerScorecardUpdated(Payload):
    """The seller's scorecard as of the business clock's now: every metric, the rating and its band."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.seller.scorecard_updated.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _METRICS

    as_of: UtcDatetime = Field(description="End of every window (the business clock's now).")
    metrics: list[MetricValue] = Field(max_length=50, description="Every rate metric and window.")
    rating: Rating = Field(description="Account health rating, 0 to 1000.")
    band: HealthBand = Field(description="healthy >= 200, at risk 100-199, critical < 100.")
    ledger: list[RatingLine] = Field(default_factory=list, max_length=200, description="How it adds up.")
    sales: list[SalesFigure] = Field(default_factory=list, max_length=20, description="Sales per window.")
    average_review_rating: float | None = Field(
        default=None, ge=1, le=5, allow_inf_nan=False, description="Average product review stars."
    )
    average_reply_minutes: float | None = Field(
        default=None, ge=0, allow_inf_nan=False, description="Average minutes to reply to buyer messages."
    )


class SellerHealthChanged(Payload):
    """The account health band changed."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.seller.health_changed.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _METRICS

    as_of: UtcDatetime = Field(description="The business clock's now.")
    old_band: HealthBand = Field(description="Band before.")
    new_band: HealthBand = Field(description="Band after.")
    old_rating: Rating = Field(description="Rating before.")
    new_rating: Rating = Field(description="Rating after.")

    @model_validator(mode="after")
    def _is_a_change(self) -> Self:
        if self.old_band == self.new_band:
            raise ValueError("old_band and new_band are the same")
        return self


class SellerEnforcementDecided(Payload):
    """The metrics service decided to warn, restrict, suspend or reinstate; the listing service applies it."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.seller.enforcement_decided.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _METRICS

    as_of: UtcDatetime = Field(description="The business clock's now.")
    action: EnforcementAction = Field(description="Warn, restrict, suspend or reinstate.")
    reasons: list[ShortText] = Field(min_length=1, max_length=20, description="Why, for the seller.")
    rating: Rating = Field(description="Account health rating at the decision.")
    band: HealthBand = Field(description="Its band.")
    metrics: list[MetricValue] = Field(default_factory=list, max_length=50, description="Metrics behind it.")
    defects: list[DefectRef] = Field(default_factory=list, max_length=500, description="Defects behind it.")
    violation_ids: list[Identifier] = Field(
        default_factory=list, max_length=100, description="Open policy violations behind it."
    )
