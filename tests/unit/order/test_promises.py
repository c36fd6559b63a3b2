"""Ship-by, deliver-by and the deadlines built on them (services/order/promises.py, domain.md section 3).

March 2026: Mon 2, Tue 3, Wed 4, Thu 5, Fri 6, Sat 7, Sun 8, Mon 9 ... Fri 13, Mon 16, Tue 17.
May 2026: Fri 22, Sat 23, Sun 24, Mon 25 (Memorial Day, a US public holiday), Tue 26, Wed 27.
A deadline is the end (24:00 UTC) of a business day: "Monday 24:00" is Tuesday 00:00.
"""

from datetime import UTC, date, datetime, timedelta, timezone

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
from shared.calendar import BusinessCalendar, public_holidays
from shared.events.common import ShippingSpeed


def at(day: int, hour: int = 0, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def end_of(day: int, month: int = 3) -> datetime:
    """24:00 UTC of that day."""
    return at(day, month=month) + timedelta(days=1)


def test_a_friday_midnight_order_with_one_handling_day_ships_by_the_end_of_monday() -> None:
    # The case the old arithmetic got wrong: it promised Saturday 00:00, so a Sunday shipment was late.
    assert ship_by_deadline(at(6, 0), [1]) == end_of(9)


def test_a_weekday_order_with_one_handling_day_ships_by_the_end_of_the_next_business_day() -> None:
    assert ship_by_deadline(at(3, 10), [1]) == end_of(4)
    assert ship_by_deadline(at(3, 23, 59), [1]) == end_of(4)  # the time of day does not matter


@pytest.mark.parametrize("purchased_at", [at(7, 0), at(7, 10, 30), at(8, 23, 59)])
def test_a_saturday_or_sunday_order_counts_from_monday_and_ships_by_the_end_of_tuesday(purchased_at: datetime) -> None:
    assert ship_by_deadline(purchased_at, [1]) == end_of(10)


def test_handling_days_spanning_a_weekend_skip_it() -> None:
    assert ship_by_deadline(at(5, 9), [2]) == end_of(9)  # Thu: Fri, Mon
    assert ship_by_deadline(at(5, 9), [7]) == end_of(16)  # Thu: Fri, Mon ... Fri 13, Mon 16


def test_zero_handling_days_ship_by_the_end_of_the_first_business_day() -> None:
    assert ship_by_deadline(at(3, 10), [0]) == end_of(3)
    assert ship_by_deadline(at(7, 10), [0]) == end_of(9)


def test_the_largest_handling_days_of_the_lines_sets_ship_by() -> None:
    assert ship_by_deadline(at(2, 10), [1, 3, 2]) == end_of(5)


def test_a_us_public_holiday_is_not_a_business_day_for_a_us_seller() -> None:
    # Friday before Memorial Day, 1 handling day: Mon 25 is a holiday, so Tue 26.
    assert ship_by_deadline(at(22, 10, month=5), [1], country="US") == end_of(26, month=5)
    # A Japanese seller works that Monday (not a holiday in Japan).
    assert ship_by_deadline(at(22, 10, month=5), [1], country="JP") == end_of(25, month=5)


def test_an_order_placed_on_a_holiday_counts_from_the_next_business_day() -> None:
    assert ship_by_deadline(at(25, 8, month=5), [1], country="US") == end_of(27, month=5)


def test_eleven_us_weekday_holidays_in_2026_are_days_off() -> None:
    weekdays = sorted(d for d in public_holidays("US", 2026) if d.weekday() < 5)
    assert len(weekdays) == 11
    calendar = BusinessCalendar("US")
    assert not any(calendar.is_business_day(d) for d in weekdays)


def test_a_country_the_holiday_calendar_does_not_know_has_weekends_only() -> None:
    assert ship_by_deadline(at(22, 10, month=5), [1], country="XX") == end_of(25, month=5)


def test_holidays_can_be_added_and_removed_by_setting_per_country_or_for_all() -> None:
    policy = OrderPolicy(holidays_add="2026-03-04,US:2026-03-05", holidays_remove="US:2026-05-25")
    assert ship_by_deadline(at(3, 10), [1], policy, country="US") == end_of(6)  # Wed and Thu off
    assert ship_by_deadline(at(3, 10), [1], policy, country="GB") == end_of(5)  # only Wed off
    assert ship_by_deadline(at(22, 10, month=5), [1], policy, country="US") == end_of(25, month=5)


@pytest.mark.parametrize(
    ("speed", "expected"),
    [
        (ShippingSpeed.STANDARD, end_of(12)),  # ship-by day Thu 5 + 5: Fri, Mon, Tue, Wed, Thu 12
        (ShippingSpeed.EXPEDITED, end_of(9)),  # Thu 5 + 2: Fri, Mon
        (ShippingSpeed.PRIORITY, end_of(6)),  # Thu 5 + 1: Fri
    ],
)
def test_deliver_by_is_the_end_of_the_business_day_transit_days_after_the_ship_by_day(
    speed: ShippingSpeed, expected: datetime
) -> None:
    assert deliver_by_deadline(end_of(5), speed) == expected


def test_a_friday_order_with_standard_shipping_promises_across_two_weekends() -> None:
    promised = promise(at(6, 15), [1], ShippingSpeed.STANDARD)
    assert promised.ship_by == end_of(9)  # Monday 24:00
    assert promised.deliver_by == end_of(16)  # Mon 9 + 5: Tue, Wed, Thu, Fri, Mon 16


def test_deliver_by_skips_the_sellers_holidays_too() -> None:
    promised = promise(at(21, 10, month=5), [1], ShippingSpeed.PRIORITY, country="US")
    assert promised.ship_by == end_of(22, month=5)  # Thursday: Friday
    assert promised.deliver_by == end_of(26, month=5)  # Fri + 1: not Mon 25 (Memorial Day), Tue 26


def test_the_weekend_is_judged_in_utc_so_friday_evening_in_new_york_is_saturday() -> None:
    new_york = timezone(timedelta(hours=-5))
    purchased = datetime(2026, 3, 6, 20, 0, tzinfo=new_york)  # Saturday 01:00 UTC
    ship_by = ship_by_deadline(purchased, [1])
    assert ship_by == end_of(10)
    assert ship_by.tzinfo == UTC


def test_a_naive_purchase_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        ship_by_deadline(datetime(2026, 3, 3, 10), [1])


def test_an_order_without_lines_has_no_ship_by() -> None:
    with pytest.raises(ValueError, match="at least one line"):
        ship_by_deadline(at(3), [])


def test_negative_business_days_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        BusinessCalendar().business_days_after(date(2026, 3, 3), -1)


def test_every_transit_figure_is_a_setting() -> None:
    policy = OrderPolicy(standard_transit_days=3)
    assert deliver_by_deadline(end_of(5), ShippingSpeed.STANDARD, policy) == end_of(10)


def test_a_policy_with_no_business_day_is_refused() -> None:
    with pytest.raises(ValueError, match="weekend"):
        OrderPolicy(weekend_days=frozenset(range(7)))


def test_a_different_weekend_is_a_setting() -> None:
    friday_and_saturday = OrderPolicy(weekend_days=frozenset({4, 5}))
    assert ship_by_deadline(at(5, 9), [1], friday_and_saturday) == end_of(8)  # Thursday -> Sunday


def test_auto_cancel_comes_seven_calendar_days_after_ship_by() -> None:
    assert auto_cancel_deadline(end_of(9)) == end_of(16)
    assert DEFAULT_POLICY.auto_cancel_after == timedelta(days=7)


def test_personal_data_is_due_for_erasure_thirty_days_after_closing() -> None:
    assert pii_erasure_due(at(3, 10)) == datetime(2026, 4, 2, 10, tzinfo=UTC)
