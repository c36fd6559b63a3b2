"""The simulator's draws: pure functions of the seed and the entity, and profiles that mean what they say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sellerflow.simulate import behaviour as b
from sellerflow.simulate.profiles import EXCELLENT, SLOW_SHIPPER

SEEN = datetime(2026, 1, 13, tzinfo=UTC)


def test_an_on_time_seller_ships_before_ship_by_even_when_the_order_is_due_right_after_it_looked() -> None:
    for n, due_in in enumerate([timedelta(seconds=51), timedelta(minutes=20), timedelta(hours=2), timedelta(days=2)]):
        plan = b.plan_shipping(7, EXCELLENT, f"O-{n}", SEEN, SEEN + due_in)
        assert SEEN < plan.at < SEEN + due_in, (due_in, plan.at)
        assert not plan.late and not plan.cancel
    due_as_it_looks = b.plan_shipping(7, EXCELLENT, "O-now", SEEN, SEEN)  # bought at the very start of the day
    assert due_as_it_looks.at == SEEN  # confirmed by ship-by: on time


def test_a_slow_shipper_ships_after_ship_by_at_its_rate_and_the_same_seed_draws_the_same_plans() -> None:
    plans = [b.plan_shipping(7, SLOW_SHIPPER, f"O-{n}", SEEN, SEEN + timedelta(days=1)) for n in range(1000)]
    late = [p for p in plans if p.late]
    assert 0.25 < len(late) / len(plans) < 0.35  # the profile's 30%
    assert all(p.at > SEEN + timedelta(days=1) for p in late)
    assert plans == [b.plan_shipping(7, SLOW_SHIPPER, f"O-{n}", SEEN, SEEN + timedelta(days=1)) for n in range(1000)]


def test_buyers_blame_a_seller_only_for_its_own_late_shipment() -> None:
    def negatives(shipped_late: bool) -> int:
        count = 0
        for n in range(4000):
            journey = b.plan_journey(7, EXCELLENT, f"O-{n}", SEEN, "priority", scanned=True,
                                     deliver_by=SEEN + timedelta(hours=1), shipped_late=shipped_late)
            count += journey.feedback is not None and journey.feedback[1] <= 2
        return count

    assert negatives(shipped_late=False) == 0  # every parcel arrives after deliver-by, through the carrier
    assert negatives(shipped_late=True) > 200  # 30% of the ~30% who leave feedback
