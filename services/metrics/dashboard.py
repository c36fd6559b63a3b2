"""The dashboard's pieces: the sign-in page, metric titles and help, sparklines, defect tables, sales cards.

The console (services/metrics/console) lays them out; everything is inline HTML and SVG, nothing loaded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from string import Template

from services.metrics.console.html import e
from services.metrics.domain.scorecard import RateValue, SalesWindow
from services.metrics.views import DefectItem
from shared.events.metrics import MetricName, MetricStatus, TargetKind

TREND_DAYS = 90
HERE = Path(__file__).parent

TITLES = {
    MetricName.ORDER_DEFECT_RATE: "Order defect rate",
    MetricName.PRE_FULFILLMENT_CANCEL_RATE: "Pre-fulfillment cancel rate",
    MetricName.LATE_SHIPMENT_RATE: "Late shipment rate",
    MetricName.VALID_TRACKING_RATE: "Valid tracking rate",
    MetricName.ON_TIME_DELIVERY_RATE: "On-time delivery rate",
    MetricName.RESPONSE_WITHIN_24H: "Replies within 24 hours",
    MetricName.RETURN_DISSATISFACTION_RATE: "Return dissatisfaction rate",
    MetricName.POSITIVE_FEEDBACK: "Positive feedback",
}
HELP = {
    MetricName.ORDER_DEFECT_RATE: "Orders with negative feedback (1-2 stars), an A-to-z claim counted against you or "
                                  "a lost service chargeback, out of all orders, by order date.",
    MetricName.PRE_FULFILLMENT_CANCEL_RATE: "Orders you (or the system, for an order never confirmed) cancelled "
                                            "before shipping, out of your merchant-fulfilled orders. Cancellations "
                                            "the buyer asked for do not count.",
    MetricName.LATE_SHIPMENT_RATE: "Shipped orders confirmed after their ship-by time (unless the carrier scanned "
                                   "them by then), by ship-by date.",
    MetricName.VALID_TRACKING_RATE: "Shipments whose tracking number is valid and scanned by the carrier, by "
                                    "confirmation date. Shipments still waiting for a first scan are left out.",
    MetricName.ON_TIME_DELIVERY_RATE: "Tracked shipments delivered by their promised date, out of those delivered "
                                      "or past that date, by promised date.",
    MetricName.RESPONSE_WITHIN_24H: "Buyer messages answered within 24 hours, out of the messages needing a reply "
                                    "whose 24 hours are over, by the day they arrived.",
    MetricName.RETURN_DISSATISFACTION_RATE: "Return requests answered after 48 hours, or rejected and then refunded "
                                            "by an A-to-z claim, out of all return requests, by request date.",
}
STATUS_TEXT = {MetricStatus.OK: "On target", MetricStatus.WARNING: "Early warning", MetricStatus.BREACH: "Breach"}


@cache
def _template(name: str) -> Template:
    return Template((HERE / name).read_text(encoding="utf-8"))


def sign_in_page(next_path: str, error: str = "") -> str:
    """The sign-in form: it posts the token, which becomes a cookie; `next_path` is where it goes then."""
    return _template("dashboard_token.html").substitute(next=e(next_path), error=e(error))


def empty(seller_id: str) -> str:
    return f"<!doctype html><title>Seller {e(seller_id)}</title><p>No business time yet: nothing consumed.</p>"


def pct(value: float | None, digits: int = 2) -> str:
    return "&ndash;" if value is None else f"{value * 100:.{digits}f}%"


def target_text(r: RateValue) -> str:
    if r.target is None:
        return "&ndash;"
    return f"{'under' if r.kind is TargetKind.AT_MOST else 'at least'} {float(r.target) * 100:g}%"


def chip(r: RateValue) -> str:
    chip = f'<span class="chip {r.status.value}">{STATUS_TEXT[r.status]}</span>'
    if r.verdict.low_volume:
        chip += f' <span class="chip low" title="fewer than the minimum items: shown, not enforced">low volume' \
                f' ({r.denominator})</span>'
    return chip


def sparkline(points: Sequence[tuple[date, int, int]], target: Decimal | None, kind: TargetKind,
              width: int = 220, height: int = 44) -> str:
    """An inline SVG of a rate's day-end values; gaps where the window was empty; the target dashed."""
    values = [(n / d if d else None) for _, n, d in points]
    known = [v for v in values if v is not None]
    goal = float(target) if target is not None else None
    if kind is TargetKind.AT_MOST:
        low, high = 0.0, max([*known, (goal or 0) * 2, 0.01])
    else:
        low, high = min([*known, (goal or 1) - (1 - (goal or 1)) * 2, 0.5]), 1.0
    span = (high - low) or 1.0

    def y(v: float) -> float:
        return round(height - 3 - (v - low) / span * (height - 6), 1)

    step = (width - 4) / max(len(values) - 1, 1)
    paths: list[list[str]] = []
    current: list[str] = []
    for i, v in enumerate(values):
        if v is None:
            if current:
                paths.append(current)
            current = []
            continue
        current.append(f"{2 + i * step:.1f},{y(v)}")
    if current:
        paths.append(current)
    lines = "".join(f'<polyline fill="none" stroke="#0969da" stroke-width="1.6" points="{" ".join(p)}"/>'
                    for p in paths if len(p) > 1)
    dots = "".join(f'<circle cx="{p[0].split(",")[0]}" cy="{p[0].split(",")[1]}" r="1.6" fill="#0969da"/>'
                   for p in paths if len(p) == 1)
    target_line = "" if goal is None else (
        f'<line x1="0" x2="{width}" y1="{y(goal)}" y2="{y(goal)}" stroke="#cf222e" stroke-dasharray="4 3"'
        f' stroke-width="1"/>')
    first, last = (points[0][0], points[-1][0]) if points else ("", "")
    label = f"trend from {first} to {last}"
    return (f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img"'
            f' aria-label="{e(label)}"><rect width="{width}" height="{height}" fill="#f6f8fa" rx="4"/>'
            f"{target_line}{lines}{dots}</svg>")


def defects_table(items: Sequence[DefectItem]) -> str:
    if not items:
        return ""
    def why(d: DefectItem) -> str:
        return e(", ".join(k.value.replace("_", " ") for k in d.kinds))

    rows = "".join(f"<tr><td>{e(d.order_id or d.item_id)}</td><td>{why(d)}</td>"
                   f"<td>{d.attributed_on}</td><td>{d.leaves_window_on}</td></tr>" for d in items[:200])
    more = f"<p class='metric-help'>and {len(items) - 200} more</p>" if len(items) > 200 else ""
    return (f"<details><summary>What counts: {len(items)} item{'s' if len(items) != 1 else ''}</summary><table>"
            "<thead><tr><th>Order</th><th>Why</th><th>Counted on</th><th>Stops counting on</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>{more}</details>")


def _money(amounts: Mapping[str, Decimal]) -> str:
    return " + ".join(f"{a:,.2f} {c}" for c, a in sorted(amounts.items())) or "0.00"


def _growth(value: float | None) -> str:
    if value is None:
        return '<span class="metric-help">no earlier sales to compare</span>'
    cls = "up" if value >= 0 else "down"
    return f'<span class="growth {cls}">{value * 100:+.1f}%</span> vs the previous period'


def sales_card(w: SalesWindow) -> str:
    growth = w.growth
    growth_text = " &middot; ".join(f"{c}: {_growth(g)}" for c, g in growth.items()) or _growth(None)
    return (f'<div class="card"><div class="label">Last {w.days} days ({w.first_day} to {w.last_day})</div>'
            f'<div class="big">{_money(w.gross)}</div>'
            f'<div>{w.orders} orders &middot; {w.units} units &middot; average order {_money(w.average_order_value)}'
            f"</div><div>{growth_text}</div>{_orders_trend(w)}</div>")


def _orders_trend(w: SalesWindow) -> str:
    """This period's orders against the previous equal period's: the direction sales are going."""
    arrow, word = ("&#9650;", "more orders than") if w.orders > w.previous_orders else \
        ("&#9660;", "fewer orders than") if w.orders < w.previous_orders else ("&#9654;", "as many orders as")
    return (f'<div class="trend"><span aria-hidden="true">{arrow}</span> {word} the {w.days} days before '
            f"({w.previous_orders})</div>")
