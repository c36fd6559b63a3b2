"""The dashboard's pieces: sparklines and the sign-in page (the console lays them out)."""

from __future__ import annotations

from services.metrics import dashboard
from services.metrics.policy import DEFAULT_POLICY
from shared.events.metrics import TargetKind
from tests.unit.metrics.builders import NOW


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
