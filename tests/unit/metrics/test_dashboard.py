"""The dashboard page: self-contained HTML a seller can read, rendered from a scorecard and its health."""

from __future__ import annotations

from datetime import timedelta

from services.metrics import dashboard
from services.metrics import policy as keys
from services.metrics.domain.health import Violation, health
from services.metrics.policy import DEFAULT_POLICY
from services.metrics.queries import View
from services.metrics.views import DefectItem
from shared.events.common import DefectKind, Severity
from shared.events.metrics import TargetKind
from tests.unit.metrics.builders import NOW, Order, at, card


def test_the_page_shows_the_rating_every_metric_its_trend_and_the_orders_behind_it() -> None:
    orders = [Order(purchased_at=at(-3)) for _ in range(30)]
    events = [o.placed() for o in orders] + [orders[0].feedback(1, at(-1))]
    scorecard = card(events)
    rated = health(scorecard, [Violation("V-1", "listing", Severity.HIGH, NOW - timedelta(days=2), "L3 broken")],
                   {}, {}, NOW, DEFAULT_POLICY)
    view = View("S-<1>", NOW, scorecard, rated)
    trend = {(keys.ODR_MERCHANT, 60): [(NOW.date() - timedelta(days=i), 1, 30) for i in range(90, 0, -1)]}
    item = DefectItem(keys.ODR_MERCHANT, orders[0].order_id, orders[0].order_id, (DefectKind.NEGATIVE_FEEDBACK,),
                      orders[0].purchased_at.date(), 60)
    page = dashboard.render(view, trend, {(keys.ODR_MERCHANT, 60): [item]}, DEFAULT_POLICY)
    assert "S-&lt;1&gt;" in page and "S-<1>" not in page  # escaped
    assert f'<div class="score">{rated.rating}</div>' in page and "at risk" in page
    for title in ("Order defect rate", "Late shipment rate", "Valid tracking rate", "Replies within 24 hours"):
        assert title in page
    assert orders[0].order_id in page and "negative feedback" in page
    assert str(item.leaves_window_on) in page
    assert page.count("<svg") == len(scorecard.rates)
    assert "http://" not in page and "https://" not in page  # nothing fetched from anywhere


def test_a_sparkline_leaves_gaps_where_a_window_was_empty_and_draws_the_target() -> None:
    day = NOW.date()
    points = [(day, 1, 10), (day, 0, 0), (day, 2, 10), (day, 3, 10)]
    svg = dashboard.sparkline(points, DEFAULT_POLICY.rates[0].target, TargetKind.AT_MOST)
    assert svg.count("<polyline") == 1 and svg.count("<circle") == 1  # the lone point before the gap
    assert "stroke-dasharray" in svg


def test_the_sign_in_page_posts_the_token_and_escapes_where_it_goes_next() -> None:
    page = dashboard.sign_in_page('/dashboard/S-1"><script>', "That token is not valid.")
    assert 'method="post"' in page and 'action="/dashboard/sign-in"' in page and 'name="token"' in page
    assert "That token is not valid." in page and "<script>" not in page
