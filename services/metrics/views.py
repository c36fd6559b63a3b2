"""The scorecard, health and defects as wire payloads (`metrics.events`) and as HTTP JSON."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from services.metrics.domain.health import Health, Line
from services.metrics.domain.scorecard import RateValue, SalesWindow, Scorecard, leaves_window_on
from shared.events.common import DefectKind, Money
from shared.events.metrics import (
    DefectRef,
    MetricValue,
    RatingLine,
    SalesFigure,
    SellerScorecardUpdated,
)


@dataclass(frozen=True)
class DefectItem:
    """One numerator item of a metric: what the drill-down and enforcement decisions list."""

    metric: str  # bucket key
    item_id: str  # the order, or the buyer message for the response metric
    order_id: str | None  # the order (a message may be about none)
    kinds: tuple[DefectKind, ...]
    attributed_on: date
    window_days: int
    since: datetime | None = None  # when it became a defect, when known

    @property
    def leaves_window_on(self) -> date:
        return leaves_window_on(self.attributed_on, self.window_days)

    def ref(self) -> DefectRef:
        return DefectRef(order_id=self.order_id or self.item_id, kind=self.kinds[0], attributed_on=self.attributed_on,
                         leaves_window_on=self.leaves_window_on)

    def json(self) -> dict[str, Any]:
        message = None if self.item_id == self.order_id else self.item_id
        return {"order_id": self.order_id, "message_id": message, "kind": self.kinds[0].value,
                "kinds": [k.value for k in self.kinds], "attributed_on": self.attributed_on,
                "leaves_window_on": self.leaves_window_on, "since": self.since}


def metric_value(r: RateValue) -> MetricValue:
    return MetricValue(name=r.name, channel=r.channel, window_days=r.window_days, numerator=r.numerator,
                       denominator=r.denominator, rate=r.rate, target=None if r.target is None else float(r.target),
                       target_kind=r.kind, status=r.status, low_volume=r.verdict.low_volume)


def rating_line(line: Line) -> RatingLine:
    return RatingLine(points=line.points, reason=line.reason, violation_id=line.violation_id, metric=line.metric,
                      kind=line.kind, category=line.category, severity=line.severity, opened_on=line.opened_on,
                      closes_on=line.closes_on, repeat_of=line.repeat_of)


def sales_figures(window: SalesWindow) -> list[SalesFigure]:
    growth = window.growth
    aov = window.average_order_value
    return [
        SalesFigure(window_days=window.days, orders=window.orders_by_currency.get(currency, 0), units=window.units,
                    gross_sales=Money(amount=amount, currency=currency),
                    average_order_value=Money(amount=aov[currency], currency=currency) if currency in aov else None,
                    growth=growth.get(currency))
        for currency, amount in sorted(window.gross.items())
    ]


def scorecard_event(card: Scorecard, health: Health, now: datetime) -> SellerScorecardUpdated:
    ledger = [rating_line(line) for line in health.ledger]
    if len(ledger) > 200:  # the event's bound: the tail folds into one line, so the points still add up
        tail = sum(line.points for line in ledger[199:])
        ledger = [*ledger[:199], RatingLine(points=tail, reason=f"{len(health.ledger) - 199} more lines")]
    return SellerScorecardUpdated(
        as_of=now,
        metrics=[metric_value(r) for r in (*card.rates, *card.feedback)],
        rating=health.rating,
        band=health.band,
        ledger=ledger,
        sales=[figure for window in card.sales for figure in sales_figures(window)],
        average_review_rating=card.average_review_rating,
        average_reply_minutes=card.average_reply_minutes,
    )


def digest(card: Scorecard, health: Health) -> str:
    """What a scorecard says, without its moment or its windows' dates: a new one is published only when this
    changes. Plain values, not the wire payload: every refreshed seller gets one, few get an event."""
    rates = [(r.name, r.channel, r.window_days, r.numerator, r.denominator, r.status, r.verdict.low_volume)
             for r in (*card.rates, *card.feedback)]
    sales = [(w.days, w.orders, w.units, sorted(w.gross.items()), sorted(w.orders_by_currency.items()),
              sorted(w.previous_gross.items()), w.previous_orders) for w in card.sales]
    ledger = [(x.points, x.reason, x.kind, x.violation_id, x.metric, x.category, x.severity, x.opened_on,
               x.closes_on, x.repeat_of) for x in health.ledger]
    said = repr((rates, sales, card.average_review_rating, card.average_reply_minutes, health.rating, health.band,
                 ledger))
    return hashlib.sha256(said.encode()).hexdigest()[:32]


# --- HTTP ----------------------------------------------------------------------------------------------


def _money(amounts: dict[str, Decimal]) -> dict[str, str]:
    return {currency: str(amount.quantize(Decimal("0.01"))) for currency, amount in sorted(amounts.items())}


def rate_json(r: RateValue) -> dict[str, Any]:
    return {
        "name": r.name.value, "channel": r.channel.value if r.channel else None, "window_days": r.window_days,
        "from": r.first_day, "to": r.last_day, "numerator": r.numerator, "denominator": r.denominator,
        "rate": r.rate, "target": None if r.target is None else float(r.target), "target_kind": r.kind.value,
        "status": r.status.value, "low_volume": r.verdict.low_volume, "early_warning": r.verdict.early_warning,
        "breach": r.breach, "defects": f"?metric={r.name.value}"
                                      + (f"&channel={r.channel.value}" if r.channel else "")
                                      + f"&window={r.window_days}",
    }


def sales_json(window: SalesWindow) -> dict[str, Any]:
    return {
        "from": window.first_day, "to": window.last_day, "orders": window.orders, "units": window.units,
        "gross_sales": _money(window.gross), "average_order_value": _money(window.average_order_value),
        "previous_period": {"orders": window.previous_orders, "gross_sales": _money(window.previous_gross)},
        "growth": window.growth, "orders_growth": window.orders_growth,
    }


def line_json(line: Line) -> dict[str, Any]:
    return {"points": line.points, "reason": line.reason, "kind": line.kind, "violation_id": line.violation_id,
            "metric": line.metric.value if line.metric else None, "category": line.category,
            "severity": line.severity.value if line.severity else None, "opened_on": line.opened_on,
            "closes_on": line.closes_on, "repeat_of": line.repeat_of}


def health_json(health: Health) -> dict[str, Any]:
    return {"rating": health.rating, "band": health.band.value, "ledger": [line_json(x) for x in health.ledger],
            "history": [line_json(x) for x in health.history],
            "breached_metrics": sorted({r.name.value for r in health.breached}),
            "critical_violations": list(health.critical_ids)}


def scorecard_json(seller_id: str, now: datetime, card: Scorecard, health: Health, fulfilled_window: int
                   ) -> dict[str, Any]:
    return {
        "seller_id": seller_id,
        "as_of": now,
        "day": card.day,
        "rating": health.rating,
        "band": health.band.value,
        "metrics": [rate_json(r) for r in card.rates],
        "feedback": [rate_json(r) | {"positive": r.numerator, "total": r.denominator} for r in card.feedback],
        "sales": {f"{w.days}d": sales_json(w) for w in card.sales},
        "average_review_rating": card.average_review_rating,
        "average_reply_minutes": card.average_reply_minutes,
        "orders_fulfilled": {"window_days": fulfilled_window, "count": card.fulfilled},
        "health": health_json(health),
    }
