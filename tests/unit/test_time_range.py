"""Business times in range (design.md section 3): the dynamic bound (latest tick + MAX_CLOCK_SKEW), its
reason, the setting, and the deadline arithmetic at the extremes the bounds allow (no OverflowError)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.aftersales.domain import BuyerMessage, Return
from services.metrics.domain.scorecard import leaves_window_on, window
from services.metrics.policy import DEFAULT_POLICY as METRICS_POLICY
from services.order.promises import auto_cancel_deadline, pii_erasure_due, promise
from shared.events import Event, new_event
from shared.events.common import ShippingSpeed
from shared.events.shapes import EARLIEST, LATEST_EXCLUSIVE
from shared.events.time_range import business_times, describe, time_ahead
from shared.settings import Settings
from tests.unit.event_samples import SAMPLES

TICK = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SKEW = timedelta(days=2)
#: The latest time the static bound lets in, and a tick just before it.
LAST_MOMENT = LATEST_EXCLUSIVE - timedelta(microseconds=1)


def order(purchased_at: datetime, time: datetime | None = None) -> Event[Any]:
    sample = SAMPLES["sellerflow.checkout.order_placed.v1"]
    data = sample.model_copy(update={"purchased_at": purchased_at})
    return new_event(data, seller_id="S-1", subject="ord-1", time=time or purchased_at, source="/test")


def test_every_business_time_of_an_event_is_found_with_its_path() -> None:
    scan = SAMPLES["sellerflow.carrier.scan_recorded.v1"]
    event = new_event(scan, seller_id="S-1", subject="1Z", time=TICK, source="/test")
    assert dict(business_times(event)) == {"time": TICK, "data.scanned_at": scan.scanned_at}  # type: ignore[attr-defined]


def test_a_purchase_eight_weeks_ahead_of_the_tick_is_refused_with_the_field_and_the_skew() -> None:
    reason = time_ahead(order(TICK + timedelta(weeks=8), time=TICK), TICK, SKEW)
    assert reason == ("invalid sellerflow.checkout.order_placed.v1: `data.purchased_at` is after the latest clock "
                      "tick plus MAX_CLOCK_SKEW (2 days)")


def test_an_envelope_time_ahead_is_named_first() -> None:
    assert "`time` is after" in (time_ahead(order(TICK + timedelta(days=3)), TICK, SKEW) or "")


def test_a_time_exactly_at_the_tick_plus_the_skew_is_accepted() -> None:
    assert time_ahead(order(TICK + SKEW), TICK, SKEW) is None
    assert time_ahead(order(TICK + SKEW + timedelta(microseconds=1)), TICK, SKEW) is not None


def test_the_earliest_time_is_never_ahead() -> None:
    assert time_ahead(order(EARLIEST), TICK, SKEW) is None


def test_a_tick_at_the_static_upper_bound_with_the_largest_skew_does_not_overflow() -> None:
    assert time_ahead(order(LAST_MOMENT), LAST_MOMENT, timedelta(days=366)) is None


@pytest.mark.parametrize(("span", "said"), [(timedelta(days=2), "2 days"), (timedelta(days=1), "1 day"),
                                            (timedelta(hours=36), "36 hours"), (timedelta(seconds=90), "90 seconds")])
def test_a_skew_is_described_as_a_person_says_it(span: timedelta, said: str) -> None:
    assert describe(span) == said


def test_max_clock_skew_defaults_to_two_days_and_reads_iso_8601(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().max_clock_skew == timedelta(days=2)
    monkeypatch.setenv("MAX_CLOCK_SKEW", "PT36H")
    assert Settings().max_clock_skew == timedelta(hours=36)
    monkeypatch.setenv("MAX_CLOCK_SKEW", "P367D")
    with pytest.raises(ValueError, match="max_clock_skew"):
        Settings()


# --- the arithmetic the bounds make safe: the extremes an event can carry ------------------------------

@pytest.mark.parametrize("moment", [EARLIEST, LAST_MOMENT, LAST_MOMENT + timedelta(days=366)],
                         ids=["year 2000", "the last moment of 2099", "a tick there plus the largest skew"])
def test_every_deadline_from_an_extreme_time_is_a_time(moment: datetime) -> None:
    for country in (None, "US", "DE", "JP"):  # public holidays of the seller's country, years 1999-2101
        promised = promise(moment, [30], ShippingSpeed.STANDARD, country=country)
        assert moment < promised.ship_by < promised.deliver_by < auto_cancel_deadline(promised.deliver_by)
        assert pii_erasure_due(auto_cancel_deadline(promised.deliver_by)) > moment
    message = BuyerMessage.receive("m-1", "o-1", at=moment)
    assert message.due_by is not None and message.due_by > moment
    returned = Return.request("r-1", "o-1", delivered_at=moment, at=moment)
    returned.authorize(at=moment)
    returned.receive(at=moment)
    assert returned.answer_due_by > moment and returned.refund_due_by is not None
    day = moment.date()
    assert window(day, 365)[0] < day < leaves_window_on(day, 365)
    assert moment - METRICS_POLICY.violation_window < moment + METRICS_POLICY.repeat_window
