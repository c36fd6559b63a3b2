"""The metrics routes' response bodies, as the OpenAPI document names them (design.md section 8).

views.py builds the JSON; these models check it on the way out and describe it to clients.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class RateOut(_Out):
    name: str
    channel: str | None
    window_days: int
    first_day: date = Field(alias="from")
    last_day: date = Field(alias="to")
    numerator: int
    denominator: int
    rate: float | None
    target: float | None
    target_kind: str
    status: str = Field(description="ok, warning or breach.")
    low_volume: bool
    early_warning: bool
    breach: bool
    defects: str = Field(description="The query string of this metric's drill-down (/defects).")


class FeedbackOut(RateOut):
    positive: int
    total: int


class PreviousPeriodOut(_Out):
    orders: int
    gross_sales: dict[str, str]


class SalesOut(_Out):
    first_day: date = Field(alias="from")
    last_day: date = Field(alias="to")
    orders: int
    units: int
    gross_sales: dict[str, str] = Field(description="By currency.")
    average_order_value: dict[str, str]
    previous_period: PreviousPeriodOut
    growth: dict[str, float | None] = Field(description="Against the previous equal period, by currency.")
    orders_growth: float | None


class LineOut(_Out):
    points: int
    reason: str
    kind: str
    violation_id: str | None
    metric: str | None
    category: str | None
    severity: str | None
    opened_on: date | None
    closes_on: date | None
    repeat_of: str | None


class HealthFiguresOut(_Out):
    rating: int
    band: str
    ledger: list[LineOut]
    history: list[LineOut]
    breached_metrics: list[str]
    critical_violations: list[str]


class FulfilledOut(_Out):
    window_days: int
    count: int


class ScorecardOut(_Out):
    seller_id: str
    as_of: datetime
    day: date
    rating: int
    band: str
    metrics: list[RateOut]
    feedback: list[FeedbackOut]
    sales: dict[str, SalesOut] = Field(description="By window, e.g. `7d`, `30d`.")
    average_review_rating: float | None
    average_reply_minutes: float | None
    orders_fulfilled: FulfilledOut
    health: HealthFiguresOut


class EnforcementOut(_Out):
    level: str
    decided_at: datetime | None


class HealthOut(HealthFiguresOut):
    seller_id: str
    as_of: datetime
    enforcement: EnforcementOut | None


class DefectOut(_Out):
    order_id: str | None
    message_id: str | None
    kind: str
    kinds: list[str]
    attributed_on: date
    leaves_window_on: date
    since: datetime | None


class DefectGroupOut(RateOut):
    items: list[DefectOut]


class DefectsOut(_Out):
    seller_id: str
    as_of: datetime
    metrics: list[DefectGroupOut]


class AtRiskOut(_Out):
    rank: int
    seller_id: str
    rating: int
    band: str
    breached_metrics: list[str]
    enforcement_level: int = Field(description="0 none, 1 warned, 2 restricted, 3 suspended.")
    account_status: str | None
    as_of: datetime | None
