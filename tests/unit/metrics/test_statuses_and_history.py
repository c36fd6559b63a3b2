"""Targets, small numbers and early warnings; the fold's determinism; past days from the same buckets."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from services.metrics import policy as keys
from services.metrics.domain import codec, facts
from services.metrics.domain.contributions import contributions, timeline
from services.metrics.domain.scorecard import day_series, judge
from services.metrics.policy import DEFAULT_POLICY
from shared.events.metrics import MetricStatus, TargetKind
from tests.unit.metrics.builders import DAY, NOW, H, Order, at, card, fold, hourly_ticks, message, rows

AT_MOST, AT_LEAST = TargetKind.AT_MOST, TargetKind.AT_LEAST


@pytest.mark.parametrize(("num", "den", "status", "low"), [
    (0, 100, MetricStatus.OK, False),
    (1, 125, MetricStatus.WARNING, False),  # 0.8%: 80% of the 1% limit
    (1, 126, MetricStatus.OK, False),  # 0.79%
    (1, 100, MetricStatus.BREACH, False),  # exactly 1%: the target is "under 1%"
    (1, 25, MetricStatus.BREACH, False),  # 25 orders: enough volume
    (1, 24, MetricStatus.WARNING, True),  # 24 orders: low volume, shown but never a breach
    (0, 0, MetricStatus.OK, True),
])
def test_the_order_defect_rate_target_with_small_numbers_and_early_warnings(
    num: int, den: int, status: MetricStatus, low: bool,
) -> None:
    verdict = judge(num, den, Decimal("0.01"), AT_MOST, DEFAULT_POLICY)
    assert (verdict.status, verdict.low_volume) == (status, low)


@pytest.mark.parametrize(("valid", "den", "status"), [
    (95, 100, MetricStatus.WARNING),  # exactly 95% meets ">= 95%", but it is below 96%: a warning
    (959, 1000, MetricStatus.WARNING),  # 95.9%: below 1 - 0.8 x (1 - 95%) = 96%
    (96, 100, MetricStatus.OK),  # 96% is not below 96% (domain.md section 6: "warn below 96% for 95%")
    (97, 100, MetricStatus.OK),
    (94, 100, MetricStatus.BREACH),
])
def test_an_at_least_target_warns_below_one_minus_80_percent_of_the_shortfall_it_allows(
    valid: int, den: int, status: MetricStatus,
) -> None:
    assert judge(valid, den, Decimal("0.95"), AT_LEAST, DEFAULT_POLICY).status is status


def test_24_orders_are_low_volume_and_25_are_not() -> None:
    def scorecard(n: int) -> tuple[MetricStatus, bool]:
        orders = [Order(purchased_at=at(-5)) for _ in range(n)]
        events = [o.placed() for o in orders] + [orders[0].feedback(1, at(-1)), orders[1].feedback(1, at(-1))]
        value = next(r for r in card(events).rates if r.key == keys.ODR_MERCHANT)
        return value.status, value.verdict.low_volume

    assert scorecard(24) == (MetricStatus.WARNING, True)
    assert scorecard(25) == (MetricStatus.BREACH, False)


def _order_story() -> list:  # type: ignore[type-arg]
    o = Order(purchased_at=at(-9))
    shipped = o.ship_by + H
    return [o.placed(), o.confirmed(), o.shipped(shipped), o.scanned(shipped + 2 * H, shipped),
            o.tracking(True, shipped + 2 * H, shipped, shipped + 2 * H), o.delivered(o.deliver_by + H, shipped),
            o.feedback(1, at(-2)), o.claim(True, at(-2, 15)), o.claim(False, at(-1, 9), reverses=True),
            o.return_requested(at(-2)), o.return_answered(at(-2), at(-2) + 50 * H), o.feedback(1, at(-2))]


def test_the_fold_is_the_same_in_any_order_and_with_duplicates() -> None:
    events = _order_story()
    expected = codec.encode(next(iter(fold(events).values())))
    rng = random.Random(7)
    for _ in range(30):
        shuffled = events + rng.sample(events, 4)
        rng.shuffle(shuffled)
        assert codec.encode(next(iter(fold(shuffled).values()))) == expected


def test_facts_survive_their_json_round_trip() -> None:
    for state in fold(_order_story() + message(at(-3), reply_after=3 * H)).values():
        kind = codec.kind_of(state)
        item_id = str(getattr(state, "order_id", None) or getattr(state, "message_id", ""))
        assert codec.decode(kind, item_id, codec.encode(state)) == state


def test_the_buckets_at_the_end_of_any_past_day_equal_the_metrics_computed_then() -> None:
    # The as-of guarantee: rows effective by day D give what contributions() says at the end of D.
    events = _order_story() + message(at(-5), reply_after=30 * H) + message(at(-4))
    state_rows = rows(events, NOW)
    for back in range(0, 12):
        day = (NOW - back * DAY).date()
        end = at(-back, 0) + DAY - timedelta(microseconds=1)
        expected: dict[tuple[str, date], tuple[int, int]] = {}
        for state in fold(events).values():
            for item_key, value in contributions(facts.judge_at_ticks(state, hourly_ticks(NOW)), end).items():
                old = expected.get(item_key, (0, 0))
                expected[item_key] = (old[0] + value[0], old[1] + value[1])
        got: dict[tuple[str, date], tuple[int, int]] = {}
        for (metric, attr, eff), (n, d) in state_rows.items():
            if eff <= day:
                old = got.get((metric, attr), (0, 0))
                got[(metric, attr)] = (old[0] + n, old[1] + d)
        assert {k: v for k, v in got.items() if v != (0, 0)} == {k: v for k, v in expected.items() if v != (0, 0)}


def test_the_next_deadline_is_reported_so_a_tick_can_re_evaluate_the_item() -> None:
    o = Order(purchased_at=at(-3))
    shipped = o.purchased_at + DAY
    state = next(iter(fold([o.placed(), o.confirmed(), o.shipped(shipped),
                            o.tracking(True, shipped + H, shipped)]).values()))
    _, upcoming = timeline(state, NOW)
    assert upcoming == o.deliver_by  # until then it is not counted; from then on it is late


def test_rows_depend_on_the_facts_and_now_and_not_on_when_each_batch_was_applied() -> None:
    # The service replaces an item's rows each time it changes: what is stored at the end is the last
    # evaluation, so applying events as they came (clock at each event) or all at once (a replay whose
    # clock already read the end) must give the same rows.
    events = sorted(_order_story(), key=lambda e: e.time)
    as_they_came: dict = {}  # type: ignore[type-arg]
    for i in range(1, len(events) + 1):
        as_they_came = rows(events[:i], events[i - 1].time)
    last = events[-1].time
    assert as_they_came == rows(list(reversed(events)), last)


def test_a_day_series_equals_summing_each_day_by_hand() -> None:
    rng = random.Random(3)
    base = date(2026, 1, 1)
    data = [(base + timedelta(days=rng.randrange(0, 60)), base + timedelta(days=rng.randrange(0, 70)),
             rng.randrange(0, 3), rng.randrange(1, 4)) for _ in range(300)]
    first, last = base + timedelta(days=20), base + timedelta(days=75)
    for span in (1, 7, 30):
        series = day_series(data, span, first, last)
        for i, d in enumerate(first + timedelta(days=k) for k in range((last - first).days + 1)):
            inside = [r for r in data if d - timedelta(days=span) < r[0] <= d and r[1] <= d]
            assert series[i] == (sum(r[2] for r in inside), sum(r[3] for r in inside))


def test_the_policy_sums_every_metric_over_its_windows_and_sales_also_over_the_previous_period() -> None:
    windows = DEFAULT_POLICY.windows_by_family()
    assert windows[keys.ODR_MERCHANT] == (60,)
    assert windows[keys.LATE_SHIPMENT] == (10, 30)
    assert windows[keys.FEEDBACK] == (30, 90, 365)
    assert windows["sales"] == (7, 14, 30, 60)


def test_permutations_of_three_topics_give_one_scorecard() -> None:
    o = Order(purchased_at=at(-5))
    shipped = o.ship_by + H
    by_topic = [[o.placed(), o.confirmed()], [o.shipped(shipped), o.delivered(o.deliver_by + H, shipped)],
                [o.feedback(2, at(-1))]]
    results = {repr(card([e for part in order for e in part]).rates) for order in itertools.permutations(by_topic)}
    assert len(results) == 1
