"""The seller's console: where the account stands, what to fix first, today's work, sales (pure HTML)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from services.metrics import dashboard
from services.metrics.console.html import e, fmt_day, fmt_time, template
from services.metrics.console.models import Account, Appeal, Enforcement, Order, Work
from services.metrics.domain.health import Line
from services.metrics.domain.scorecard import RateValue
from services.metrics.policy import Policy
from services.metrics.queries import View
from services.metrics.views import DefectItem
from shared.events.metrics import MetricName, MetricStatus, TargetKind

Trends = Mapping[tuple[str, int], Sequence[tuple[date, int, int]]]
Drill = Mapping[tuple[str, int], Sequence[DefectItem]]

#: Seller Central's three sections of Account Health, and the metrics each holds.
SECTIONS: tuple[tuple[str, tuple[MetricName, ...]], ...] = (
    ("Customer service", (MetricName.ORDER_DEFECT_RATE, MetricName.RESPONSE_WITHIN_24H,
                          MetricName.RETURN_DISSATISFACTION_RATE)),
    ("Shipping performance", (MetricName.LATE_SHIPMENT_RATE, MetricName.PRE_FULFILLMENT_CANCEL_RATE,
                              MetricName.VALID_TRACKING_RATE, MetricName.ON_TIME_DELIVERY_RATE)),
)
POLICY_CATEGORIES = ("listing", "messaging", "review")
STATUS_TEXT = {
    "active": "Active", "warned": "Warned", "restricted": "Restricted", "suspended": "Suspended",
    "reinstated": "Reinstated", "pending_review": "Pending review", "rejected": "Rejected",
}
BLOCKS = {
    "active": "Nothing is blocked: you can list and sell.",
    "warned": "Nothing is blocked yet; if your rating keeps falling, your listings will be restricted.",
    "restricted": "Your merchant-fulfilled listings are inactive: buyers cannot order them. "
                  "Marketplace-fulfilled listings still sell.",
    "suspended": "Every listing is inactive and new orders are rejected.",
    "reinstated": "Nothing is blocked: an operator accepted your appeal and your account is active again.",
    "pending_review": "You cannot list or sell until an operator has reviewed your registration.",
    "rejected": "Your registration was rejected: you cannot list or sell.",
}
APPEALABLE = frozenset({"warned", "restricted", "suspended"})
#: What "a good item" is for each metric: what dilutes its defects.
GOOD_ITEMS = {
    MetricName.ORDER_DEFECT_RATE: "orders without a defect",
    MetricName.PRE_FULFILLMENT_CANCEL_RATE: "orders not cancelled",
    MetricName.LATE_SHIPMENT_RATE: "orders shipped on time",
    MetricName.VALID_TRACKING_RATE: "shipments with valid tracking",
    MetricName.ON_TIME_DELIVERY_RATE: "deliveries on time",
    MetricName.RESPONSE_WITHIN_24H: "messages answered within 24 hours",
    MetricName.RETURN_DISSATISFACTION_RATE: "returns answered within 48 hours",
}


@dataclass(frozen=True)
class SellerData:
    """Everything the page shows; the peers' parts are None when that service could not be read."""

    view: View
    trends: Trends
    drill: Drill
    policy: Policy
    account: Account | None
    enforcements: Sequence[Enforcement] | None
    appeals: Sequence[Appeal] | None
    work: Work | None
    unshipped: Sequence[Order] | None
    notice: str = ""


def _title(r: RateValue) -> str:
    channel = f", {r.channel.value}-fulfilled" if r.channel and r.name is MetricName.ORDER_DEFECT_RATE else ""
    return f"{dashboard.TITLES[r.name]}{channel}"


def _kind_of(r: RateValue) -> str:
    return f"{r.name.value}:{r.channel.value if r.channel else ''}:{r.window_days}"


# --- the banner -----------------------------------------------------------------------------------


def _since(status: str, account: Account, enforcements: Sequence[Enforcement]) -> tuple[datetime, str | None]:
    """When the account entered its status, and the decision's note (why), if a decision put it there."""
    applied = [x for x in enforcements if x.outcome == "applied" and x.new_status == status]
    if applied:
        latest = max(applied, key=lambda x: x.decided_at)
        return latest.decided_at, latest.note
    return account.updated_at, None


def banner(data: SellerData) -> str:
    health, account = data.view.health, data.account
    if account is None:
        return ('<section class="banner unknown" data-status="unknown"><h2>Account status unavailable</h2>'
                "<p>The listing service cannot be reached right now; your figures below are current.</p></section>")
    status = account.status
    since, note = _since(status, account, data.enforcements or ())
    breached = sorted({_title(r) for r in health.breached})
    why = _why(data, note, breached)
    appeal = _appeal_part(data, status)
    # an account still active with a metric in breach or a rating below healthy is not all green
    attention = " attention" if status in ("active", "reinstated") and (breached or health.band.value != "healthy") \
        else ""
    return (f'<section class="banner {e(status)}{attention}" data-status="{e(status)}" '
            'aria-labelledby="status-title">'
            f'<h2 id="status-title">Account status: <span class="status-name">{STATUS_TEXT.get(status, e(status))}'
            f"</span></h2><p>Since {fmt_time(since)}.</p>"
            + (f'<p class="why"><strong>Why:</strong> {e(why)}</p>' if why else "")
            + f'<p class="blocks"><strong>What it blocks:</strong> {BLOCKS.get(status, "")}</p>{appeal}</section>')


def _why(data: SellerData, note: str | None, breached: Sequence[str]) -> str:
    """The decision's own note, else what the figures say: breaches, open policy violations, the band."""
    health = data.view.health
    parts = [note] if note else []
    if breached:
        parts.append(f"In breach: {', '.join(breached)}.")
    policy = Counter(x.category or "policy" for x in health.ledger if x.kind == "violation" and x.metric is None)
    if policy:
        parts.append("Open policy violations: " + ", ".join(f"{n} {c}" for c, n in sorted(policy.items())) + ".")
    if health.critical_ids:
        parts.append("A critical violation is open.")
    if health.band.value != "healthy":
        parts.append(f"Your rating is {health.rating}: {health.band.value.replace('_', ' ')}.")
    return " ".join(parts) or "Your metrics are within their targets."


def _appeal_part(data: SellerData, status: str) -> str:
    appeals = sorted(data.appeals or (), key=lambda a: a.filed_at)
    pending = [a for a in appeals if a.accepted is None]
    if pending:
        return (f'<p class="appeal-state" data-appeal="pending">Your appeal of {fmt_time(pending[-1].filed_at)} is '
                "waiting for an operator's decision.</p>")
    last = ""
    if appeals and appeals[-1].decided_at is not None:
        a = appeals[-1]
        verdict = "accepted" if a.accepted else "refused"
        reason = f" Note: {e(a.note)}" if a.note else ""
        last = (f'<p class="appeal-state" data-appeal="{verdict}">Your appeal of {fmt_time(a.filed_at)} was '
                f"{verdict} on {fmt_time(a.decided_at)}.{reason}</p>")
    if status not in APPEALABLE or data.appeals is None:
        return last
    return last + appeal_form(data.view.seller_id, [x for x in data.view.health.ledger if x.kind == "violation"],
                              data.policy)


def appeal_form(seller_id: str, violations: Sequence[Line], policy: Policy) -> str:
    boxes = "".join(
        f'<li><label><input type="checkbox" name="violation" value="{e(v.violation_id)}" checked> '
        f"{e(sentence(v, policy))}</label></li>" for v in violations if v.violation_id)
    answered = (f"<fieldset><legend>Violations you answer</legend><ul class='plain'>{boxes}</ul></fieldset>"
                if boxes else "")
    return (f'<details class="appeal"><summary>Appeal with a plan of action</summary>'
            f'<form method="post" action="/dashboard/{e(seller_id)}/appeal" class="stack">'
            '<label for="root_cause">What caused the problem (root cause)</label>'
            '<textarea id="root_cause" name="root_cause" required rows="3" maxlength="2000"></textarea>'
            '<label for="actions">What you have done to fix it (one action per line)</label>'
            '<textarea id="actions" name="actions" required rows="3" maxlength="2000"></textarea>'
            '<label for="prevention">How you will prevent it from happening again</label>'
            '<textarea id="prevention" name="prevention" required rows="3" maxlength="2000"></textarea>'
            f'{answered}<button type="submit">Send the appeal</button></form></details>')


# --- the gauge ------------------------------------------------------------------------------------


def gauge(rating: int, band: str, policy: Policy) -> str:
    """A half-circle gauge from 0 to the maximum: critical, at-risk and healthy arcs, the needle at the rating."""
    top = policy.rating_max

    def point(value: float, radius: float) -> tuple[float, float]:
        angle = math.pi * (1 - min(max(value, 0), top) / top)
        return round(100 + radius * math.cos(angle), 2), round(100 - radius * math.sin(angle), 2)

    def arc(start: float, end: float, colour: str) -> str:
        (x1, y1), (x2, y2) = point(start, 80), point(end, 80)
        return (f'<path d="M{x1} {y1} A80 80 0 0 1 {x2} {y2}" fill="none" stroke="{colour}" '
                'stroke-width="18"/>')

    nx, ny = point(rating, 66)
    label = f"Account health rating {rating} of {top}: {band.replace('_', ' ')}"
    return (f'<figure class="gauge" data-rating="{rating}" data-band="{e(band)}">'
            f'<svg viewBox="0 0 200 112" role="img" aria-label="{e(label)}">'
            f"{arc(0, policy.at_risk_from, '#cf222e')}{arc(policy.at_risk_from, policy.healthy_from, '#bf8700')}"
            f"{arc(policy.healthy_from, top, '#1a7f37')}"
            f'<line x1="100" y1="100" x2="{nx}" y2="{ny}" stroke="#1f2328" stroke-width="4" stroke-linecap="round"/>'
            '<circle cx="100" cy="100" r="6" fill="#1f2328"/></svg>'
            f'<figcaption><span class="score">{rating}</span> <span class="band {e(band)}">'
            f"{e(band.replace('_', ' '))}</span><br><span class='sub'>0 to {top}: healthy from {policy.healthy_from},"
            f" at risk from {policy.at_risk_from}</span></figcaption></figure>")


# --- what to fix ----------------------------------------------------------------------------------


def good_orders_needed(r: RateValue) -> int | None:
    """How many more defect-free items bring the rate within its target (None: no number of them can)."""
    if r.target is None or r.denominator == 0:
        return 0
    num, den, target = Decimal(r.numerator), Decimal(r.denominator), r.target
    if r.kind is TargetKind.AT_MOST:  # within: num / (den + n) < target
        if target == 0:
            return None
        return max(0, math.floor(num / target - den) + 1)
    if target >= 1:  # at least: (num + n) / (den + n) >= target
        return None
    return max(0, math.ceil((target * den - num) / (1 - target)))


def _impact(r: RateValue, data: SellerData) -> tuple[int, int, float]:
    points = sum(-x.points for x in data.view.health.ledger if x.kind == "violation" and x.metric is r.name)
    rule = next(x for x in data.policy.rates if x.key == r.key)
    severity = data.policy.points.get(rule.severity, 0)
    over = (r.rate or 0) - float(r.target or 0)
    return (points, severity, abs(over))


def fix_list(data: SellerData) -> str:
    """Rate metrics off target and open policy violations, the ones costing most points first."""
    wrong = [r for r in data.view.card.rates if r.status is not MetricStatus.OK and r.denominator]
    policy = [x for x in data.view.health.ledger if x.kind == "violation" and x.metric is None]
    if not wrong and not policy:
        return '<p class="all-good" data-fix="none">Nothing to fix: every metric is within its target.</p>'
    ranked = [((r.status is not MetricStatus.BREACH, *(-v for v in _impact(r, data))), _metric_fix(r, data))
              for r in wrong]
    ranked += [((False, x.points, 0, 0.0), _policy_fix(x, data.policy)) for x in policy]
    ranked.sort(key=lambda pair: pair[0])
    return f'<ol class="fixes">{"".join(item for _, item in ranked)}</ol>'


def _metric_fix(r: RateValue, data: SellerData) -> str:
    points = _impact(r, data)[0]
    need = good_orders_needed(r)
    unit = GOOD_ITEMS.get(r.name, "good orders")
    if r.status is MetricStatus.WARNING:
        cure = "Still within target, but close to the limit."
    elif need is None:
        cure = "It comes back within target as the items below stop counting."
    else:
        cure = f"{need} more {unit} would bring it back within target."
    cost = f" It costs you {points} points now." if points else ""
    state = "Breach" if r.status is MetricStatus.BREACH else "Early warning"
    if r.verdict.low_volume:
        state += " (low volume, not enforced)"
    defects = sorted(data.drill.get((r.key, r.window_days), ()), key=lambda d: (d.leaves_window_on, d.item_id))
    orders = "".join(
        f"<li>Order {e(d.order_id or d.item_id)}: {e(', '.join(k.value.replace('_', ' ') for k in d.kinds))}; "
        f"stops counting on {fmt_day(d.leaves_window_on)}</li>" for d in defects[:10])
    more = f"<li>and {len(defects) - 10} more</li>" if len(defects) > 10 else ""
    return (f'<li class="fix {r.status.value}" data-metric="{e(_kind_of(r))}"><h3>{e(_title(r))} &middot; '
            f"{r.window_days} days: {dashboard.pct(r.rate)} (target {dashboard.target_text(r)})</h3>"
            f'<p><span class="chip {r.status.value}">{state}</span> {cure}{cost}</p>'
            + (f"<ul class='orders'>{orders}{more}</ul>" if orders else "") + "</li>")


def _policy_fix(line: Line, policy: Policy) -> str:
    ends = f"It stops counting on {fmt_day(line.closes_on)}" if line.closes_on else "It stays open"
    return (f'<li class="fix breach" data-policy="{e(line.category or "policy")}"><h3>{e(sentence(line, policy))}'
            f'</h3><p><span class="chip breach">Policy violation</span> {ends}; an appeal naming it can resolve it '
            "sooner.</p></li>")


# --- metrics by section ---------------------------------------------------------------------------


def _metric_card(r: RateValue, data: SellerData) -> str:
    trend = dashboard.sparkline(data.trends.get((r.key, r.window_days), []), r.target, r.kind, width=200, height=40)
    items = data.drill.get((r.key, r.window_days), [])
    return (f'<div class="metric {r.status.value}" data-metric="{e(_kind_of(r))}">'
            f'<div class="metric-head"><span class="metric-name">{e(_title(r))} &middot; {r.window_days} days</span>'
            f"{dashboard.chip(r)}</div>"
            f'<div class="metric-figures"><span class="value {r.status.value}">{dashboard.pct(r.rate)}</span> '
            f"<span>target {dashboard.target_text(r)}</span> <span class='sub'>{r.numerator} of {r.denominator}</span>"
            f"</div>{trend}<p class='sub'>{dashboard.HELP.get(r.name, '')}</p>{dashboard.defects_table(items)}</div>")


def sections(data: SellerData) -> str:
    parts = []
    for title, names in SECTIONS:
        cards = "".join(_metric_card(r, data) for name in names for r in data.view.card.rates if r.name is name)
        parts.append(f'<section class="group"><h3>{title}</h3><div class="metrics">{cards}</div></section>')
    policy_lines = [x for x in data.view.health.ledger if x.kind == "violation" and x.category in POLICY_CATEGORIES]
    policy_text = "".join(f"<li>{e(sentence(x, data.policy))}</li>" for x in policy_lines)
    parts.insert(1, '<section class="group"><h3>Policy compliance</h3>' + (
        f'<ul class="plain">{policy_text}</ul>' if policy_lines else
        "<p>No open policy violation (listing, messaging or review policies).</p>") + "</section>")
    return "".join(parts)


# --- the ledger -----------------------------------------------------------------------------------


def _points(n: int) -> str:
    return f"{'+' if n > 0 else ''}{n} point{'s' if abs(n) != 1 else ''}"


def sentence(line: Line, policy: Policy) -> str:
    """A ledger line as a sentence a seller reads: what, since when, how many points, until when; no ids."""
    what = (f"{dashboard.TITLES[line.metric]} breach" if line.metric else
            f"{(line.category or 'policy').replace('_', ' ').capitalize()} policy violation")
    severity = f" ({line.severity.value} severity)" if line.severity else ""
    if line.kind == "base":
        return f"Every account starts at {line.points} points."
    if line.kind == "volume":
        return f"{line.reason[0].upper()}{line.reason[1:]}: {_points(line.points)}."
    if line.kind == "violation":
        until = (f"until {fmt_day(line.closes_on)}" if line.closes_on else
                 "until the metric is back within its target")
        repeat = " The points are doubled: the same kind of problem happened earlier within " \
                 f"{policy.repeat_days} days." if line.repeat_of else ""
        return f"{what}{severity} open since {fmt_day(line.opened_on)}: {_points(line.points)} {until}.{repeat}"
    if line.kind == "critical":
        return f"A critical violation sets your rating to 0 ({_points(line.points)})."
    if line.kind == "closed":
        return f"{what}{severity} of {fmt_day(line.opened_on)} closed on {fmt_day(line.closes_on)}: no points."
    if line.kind == "resolved":
        return f"{what}{severity} of {fmt_day(line.opened_on)} resolved by an accepted appeal: no points."
    return f"{line.reason[0].upper()}{line.reason[1:]}: {_points(line.points)}."


def ledger(data: SellerData) -> str:
    rows = "".join(f'<li class="{"neg" if x.points < 0 else "pos" if x.points > 0 else ""}">'
                   f"{e(sentence(x, data.policy))}</li>" for x in data.view.health.ledger)
    total = f"<p>Together: <strong>{data.view.health.rating} points</strong>.</p>"
    history = "".join(f"<li>{e(sentence(x, data.policy))}</li>" for x in data.view.health.history)
    past = (f"<details><summary>Closed and resolved violations</summary><ul class='plain'>{history}</ul></details>"
            if history else "")
    return f'<ul class="ledger">{rows}</ul>{total}{past}'


# --- the day --------------------------------------------------------------------------------------


def day_view(data: SellerData) -> str:
    now = data.view.now
    parts = []
    if data.work is None:
        parts.append("<p>Messages, returns and claims are unavailable: the after-sales service cannot be reached.</p>")
    else:
        w = data.work
        parts.append(_list("Messages to answer", [
            f"{'Overdue' if m.overdue else 'Due'} {fmt_time(m.due_by)}: {e(m.subject or 'a buyer message')}"
            + (f" (order {e(m.order_id)})" if m.order_id else "") for m in w.messages_due]))
        parts.append(_list("Returns to answer or refund", [
            f"Order {e(r.order_id)}: {e(r.reason)}, {e(r.status.replace('_', ' '))}; "
            f"{'overdue' if r.overdue else 'answer by'} {fmt_time(r.refund_due_by or r.answer_due_by)}"
            for r in w.returns_awaiting]))
        parts.append(_list("A-to-z claims and chargebacks open", [
            f"Order {e(c.order_id)}: {e(c.reason.replace('_', ' '))}, {c.amount:,.2f} {e(c.currency)}, filed "
            f"{fmt_time(c.filed_at)}" for c in w.open_claims] + [
            f"Chargeback on order {e(str(cb.get('order_id', '')))}" for cb in w.open_chargebacks]))
        parts.append(_list("Negative feedback to follow up", [
            f"Order {e(f.order_id)}: {f.stars} star{'s' if f.stars != 1 else ''} on {fmt_time(f.left_at)}"
            for f in w.negative_feedback]))
    if data.unshipped is None:
        parts.append("<p>Orders to ship are unavailable: the order service cannot be reached.</p>")
    else:
        dated = [o for o in data.unshipped if o.ship_by is not None]
        overdue = [o for o in dated if o.ship_by is not None and o.ship_by < now]
        today = [o for o in dated if o.ship_by is not None and o.ship_by >= now and o.ship_by.date() == now.date()]
        later = len(data.unshipped) - len(overdue) - len(today)
        parts.append(_list("Orders to ship: overdue", [
            f"Order {e(o.order_id)}: ship by {fmt_time(o.ship_by)}" for o in overdue if o.ship_by], "overdue"))
        parts.append(_list("Orders to ship today", [
            f"Order {e(o.order_id)}: ship by {fmt_time(o.ship_by)}" for o in today if o.ship_by], "today",
            f"{later} more unshipped order{'s' if later != 1 else ''} due later." if later else ""))
    return f'<div class="day">{"".join(parts)}</div>'


def _list(title: str, lines: Sequence[str], kind: str = "", note: str = "") -> str:
    body = "".join(f"<li>{x}</li>" for x in lines[:25]) if lines else "<li class='sub'>Nothing waiting.</li>"
    more = f"<li class='sub'>and {len(lines) - 25} more</li>" if len(lines) > 25 else ""
    return (f'<section class="card work" data-work="{e(kind or title)}"><h3>{e(title)} '
            f'<span class="count">{len(lines)}</span></h3><ul class="plain">{body}{more}</ul>'
            + (f"<p class='sub'>{note}</p>" if note else "") + "</section>")


# --- the page -------------------------------------------------------------------------------------


def render(data: SellerData) -> str:
    view, policy = data.view, data.policy
    name = data.account.legal_name if data.account else view.seller_id
    notice = f'<p class="notice" role="status">{e(data.notice)}</p>' if data.notice else ""
    return template("seller.html").substitute(
        title=f"Account health: {e(name)}",
        seller=e(view.seller_id),
        name=e(name),
        as_of=fmt_time(view.now),
        notice=notice,
        banner=banner(data),
        gauge=gauge(view.health.rating, view.health.band.value, policy),
        fixes=fix_list(data),
        sections=sections(data),
        ledger=ledger(data),
        day=day_view(data),
        sales="".join(dashboard.sales_card(w) for w in view.card.sales),
        trend_days=dashboard.TREND_DAYS,
        min_volume=policy.min_denominator,
    )
