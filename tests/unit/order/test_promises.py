"""Ship-by, deliver-by and the deadlines built on them (services/order/promises.py).

March 2025: Mon 3, Thu 6, Fri 7, Sat 8, Sun 9, Mon 10 ... Thu 13, Fri 14, Mon 17.
"""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.order.promises import (
    DEFAULT_POLICY,
    OrderPolicy,
    auto_cancel_deadline,
    deliver_by_deadline,
    pii_erasure_due,
    promise,
    ship_by_deadline,
)
from shared.calendar import add_business_days
from shared.events.common import ShippingSpeed


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


def test_a_weekday_purchase_ships_by_the_same_time_the_next_business_day() -> None:
    assert ship_by_deadline(at(3, 10), [1]) == at(4, 10)


def test_a_friday_purchase_with_one_handling_day_ships_by_monday_at_the_same_time() -> None:
    assert ship_by_deadline(at(7, 15), [1]) == at(10, 15)


def test_a_friday_purchase_with_two_handling_days_ships_by_tuesday() -> None:
    assert ship_by_deadline(at(7, 15), [2]) == at(11, 15)


@pytest.mark.parametrize("purchased_at", [at(8, 0), at(8, 10, 30), at(9, 23, 59)])
def test_a_weekend_purchase_counts_from_monday_midnight(purchased_at: datetime) -> None:
    assert ship_by_deadline(purchased_at, [1]) == at(11, 0)  # the end of Monday


def test_a_weekend_purchase_promises_the_same_as_the_first_instant_of_monday() -> None:
    assert ship_by_deadline(at(8, 12), [3]) == ship_by_deadline(at(10, 0), [3]) == at(13, 0)


def test_handling_days_spanning_two_weekends_skip_both() -> None:
    # Thursday + 7: Fri 7, Mon 10 ... Fri 14, Mon 17.
    assert ship_by_deadline(at(6, 9), [7]) == at(17, 9)


def test_using_up_friday_exactly_ends_at_saturday_midnight_not_monday() -> None:
    assert ship_by_deadline(at(7, 0), [1]) == at(8, 0)


def test_the_largest_handling_days_of_the_lines_sets_ship_by() -> None:
    assert ship_by_deadline(at(3, 10), [1, 3, 2]) == at(6, 10)


def test_zero_handling_days_on_a_weekday_is_the_purchase_time_itself() -> None:
    assert ship_by_deadline(at(3, 10), [0]) == at(3, 10)


@pytest.mark.parametrize(
    ("speed", "expected"),
    [
        (ShippingSpeed.STANDARD, at(13, 9)),  # Thu + 5: Fri, Mon, Tue, Wed, Thu
        (ShippingSpeed.EXPEDITED, at(10, 9)),  # Thu + 2: Fri, Mon
        (ShippingSpeed.PRIORITY, at(7, 9)),  # Thu + 1: Fri
    ],
)
def test_deliver_by_adds_the_transit_days_of_the_speed_in_business_days(
    speed: ShippingSpeed, expected: datetime
) -> None:
    assert deliver_by_deadline(at(6, 9), speed) == expected


def test_deliver_by_from_a_ship_by_at_saturday_midnight_ends_a_week_later() -> None:
    assert deliver_by_deadline(at(8, 0), ShippingSpeed.STANDARD) == at(15, 0)


def test_a_friday_order_with_standard_shipping_promises_across_two_weekends() -> None:
    promised = promise(at(7, 15), [1], ShippingSpeed.STANDARD)
    assert promised.ship_by == at(10, 15)
    assert promised.deliver_by == at(17, 15)


def test_the_weekend_is_judged_in_utc_so_friday_evening_in_new_york_is_saturday() -> None:
    new_york = timezone(timedelta(hours=-5))
    purchased = datetime(2025, 3, 7, 20, 0, tzinfo=new_york)  # Saturday 01:00 UTC
    ship_by = ship_by_deadline(purchased, [1])
    assert ship_by == at(11, 0)
    assert ship_by.tzinfo == UTC


def test_a_naive_purchase_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        ship_by_deadline(datetime(2025, 3, 3, 10), [1])


def test_an_order_without_lines_has_no_ship_by() -> None:
    with pytest.raises(ValueError, match="at least one line"):
        ship_by_deadline(at(3), [])


def test_negative_business_days_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_business_days(at(3), -1)


def test_every_transit_figure_is_a_setting() -> None:
    policy = OrderPolicy(standard_transit_days=3)
    assert deliver_by_deadline(at(6, 9), ShippingSpeed.STANDARD, policy) == at(11, 9)


def test_a_policy_with_no_business_day_is_refused() -> None:
    with pytest.raises(ValueError, match="weekend"):
        OrderPolicy(weekend_days=frozenset(range(7)))


def test_a_different_weekend_is_a_setting() -> None:
    friday_and_saturday = OrderPolicy(weekend_days=frozenset({4, 5}))
    assert ship_by_deadline(at(6, 9), [1], friday_and_saturday) == at(9, 9)  # Thursday -> Sunday


def test_auto_cancel_comes_seven_calendar_days_after_ship_by() -> None:
    assert auto_cancel_deadline(at(7, 15)) == at(14, 15)
    assert DEFAULT_POLICY.auto_cancel_after == timedelta(days=7)


def test_personal_data_is_due_for_erasure_thirty_days_after_closing() -> None:
    assert pii_erasure_due(at(3, 10)) == datetime(2025, 4, 2, 10, tzinfo=UTC)
