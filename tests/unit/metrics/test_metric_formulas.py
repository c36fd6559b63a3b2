"""Every rate of domain.md section 6 against figures computed by hand: numerator, denominator, window edge."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from services.metrics import policy as keys
from tests.unit.metrics.builders import DAY, NOW, H, Order, at, card, message, rate, review


def test_an_order_with_two_defects_counts_once_in_the_order_defect_rate() -> None:
    orders = [Order(purchased_at=at(-10)) for _ in range(10)]
    twice, once = orders[0], orders[1]
    events = [o.placed() for o in orders]
    events += [twice.feedback(1, at(-5)), twice.claim(True, at(-4)), twice.chargeback(True, at(-3))]
    events += [once.feedback(2, at(-5))]
    assert rate(card(events), keys.ODR_MERCHANT, 60) == (2, 10)


def test_the_order_defect_rate_window_holds_day_60_and_not_day_61() -> None:
    # Day 0 is today: a 60-day window holds order dates -59 ... 0 ("day 60" counting today as day 1).
    inside, outside = Order(purchased_at=at(-59, 1)), Order(purchased_at=at(-60, 23))
    events = [inside.placed(), outside.placed(), inside.feedback(1, at(-2)), outside.feedback(1, at(-2))]
    assert rate(card(events), keys.ODR_MERCHANT, 60) == (1, 1)
    assert rate(card(events, now=NOW - DAY), keys.ODR_MERCHANT, 60) == (2, 2)  # the day before, both were in


def test_defects_split_merchant_and_marketplace_fulfilled_orders() -> None:
    merchant, marketplace = Order(), Order(channel="marketplace")
    events = [merchant.placed(), marketplace.placed(), marketplace.feedback(1, at(0, 1))]
    scorecard = card(events)
    assert rate(scorecard, keys.ODR_MERCHANT, 60) == (0, 1)
    assert rate(scorecard, keys.ODR_MARKETPLACE, 60) == (1, 1)


def test_removed_feedback_a_reversed_claim_a_denied_claim_and_a_fraud_chargeback_are_no_defects() -> None:
    removed, reversed_, denied, fraud = (Order() for _ in range(4))
    events = [o.placed() for o in (removed, reversed_, denied, fraud)]
    events += [removed.feedback(1, at(-1, 13)), removed.feedback_removed(1, at(-1, 13), at(-1, 20))]
    events += [reversed_.claim(True, at(-1, 13)), reversed_.claim(False, at(-1, 18), reverses=True)]
    events += [denied.claim(False, at(-1, 13)), fraud.chargeback(True, at(-1, 13), reason="fraud")]
    assert rate(card(events), keys.ODR_MERCHANT, 60) == (0, 4)


def test_the_latest_claim_decision_wins_by_its_time_not_by_its_arrival() -> None:
    o = Order()
    later_counts = [o.placed(), o.claim(True, at(-1, 20)), o.claim(False, at(-1, 14))]  # arrives first, decided later
    assert rate(card(later_counts), keys.ODR_MERCHANT, 60) == (1, 1)


def test_a_rejected_order_is_no_order() -> None:
    ok, refused = Order(), Order()
    assert rate(card([ok.placed(), refused.placed(), refused.rejected()]), keys.ODR_MERCHANT, 60) == (0, 1)


def test_the_cancel_rate_counts_seller_and_system_cancellations_and_not_the_buyer_requested_ones() -> None:
    orders = [Order(purchased_at=at(-3)) for _ in range(8)]
    events = [o.placed() for o in orders]
    events += [orders[0].cancelled("seller"), orders[1].cancelled("system"), orders[2].cancelled("buyer"),
               orders[3].cancelled("seller", before_shipment=False)]
    assert rate(card(events), keys.CANCEL, 7) == (2, 8)


def test_the_cancel_rate_counts_orders_by_order_date_and_cancellations_by_cancellation_date() -> None:
    day_7, day_8 = Order(purchased_at=at(-6, 0)), Order(purchased_at=at(-7, 23))
    # day_8's order is outside the window, its cancellation (at -7 23:00 + 2 h, day -6) inside it.
    events = [day_7.placed(), day_8.placed(), day_7.cancelled("seller"), day_8.cancelled("seller", at(-6, 1))]
    assert rate(card(events), keys.CANCEL, 7) == (2, 1)
    assert rate(card(events, now=at(-7, 23) + H / 2), keys.CANCEL, 7) == (0, 1)  # at the end of day -7


def test_an_auto_cancel_at_ship_by_plus_seven_days_falls_in_the_seven_day_window() -> None:
    # Ordered 10 days ago, ship-by 9 days ago, cancelled by the system 2 days ago: the old attribution by order
    # date could never put it in the 7-day window; by cancellation date it is there.
    old, recent = Order(purchased_at=at(-10)), Order(purchased_at=at(-1))
    events = [old.placed(), old.confirmed(), recent.placed(), old.cancelled("system", at(-2, 0))]
    assert rate(card(events), keys.CANCEL, 7) == (1, 1)


def test_marketplace_fulfilled_orders_are_left_out_of_the_shipping_metrics() -> None:
    fba = Order(channel="marketplace", purchased_at=at(-5))
    shipped = fba.purchased_at + 5 * DAY  # late, invalid, undelivered: none of it counts
    events = [fba.placed(), fba.confirmed(), fba.shipped(shipped), fba.tracking(False, shipped + DAY, shipped),
              fba.cancelled("seller")]
    scorecard = card(events)
    for key, days in ((keys.CANCEL, 7), (keys.LATE_SHIPMENT, 10), (keys.VALID_TRACKING, 30),
                      (keys.ON_TIME_DELIVERY, 14)):
        assert rate(scorecard, key, days) == (0, 0), key


def test_late_shipment_is_confirmation_after_ship_by_unless_the_first_scan_was_by_ship_by() -> None:
    on_time, late, rescued, unshipped = (Order(purchased_at=at(-8)) for _ in range(4))
    events = [o.placed() for o in (on_time, late, rescued, unshipped)] + [o.confirmed() for o in
                                                                             (on_time, late, rescued, unshipped)]
    events += [on_time.shipped(on_time.ship_by)]  # exactly at ship-by: on time
    events += [late.shipped(late.ship_by + H)]
    events += [rescued.shipped(rescued.ship_by + H), rescued.scanned(rescued.ship_by - H, rescued.ship_by + H)]
    scorecard = card(events)
    assert rate(scorecard, keys.LATE_SHIPMENT, 10) == (1, 3)  # unshipped orders are not in it
    assert rate(scorecard, keys.LATE_SHIPMENT, 30) == (1, 3)


def test_late_shipment_windows_go_by_ship_by_date_10_and_30_days() -> None:
    recent, older = Order(purchased_at=at(-4)), Order(purchased_at=at(-20))  # ship-by days -2 and -18
    events = [recent.placed(), recent.confirmed(), recent.shipped(recent.ship_by + H)]
    events += [older.placed(), older.confirmed(), older.shipped(older.ship_by + H)]
    scorecard = card(events)
    assert rate(scorecard, keys.LATE_SHIPMENT, 10) == (1, 1)
    assert rate(scorecard, keys.LATE_SHIPMENT, 30) == (2, 2)


def test_valid_tracking_leaves_pending_tracking_out() -> None:
    valid, invalid, pending = (Order(purchased_at=at(-10)) for _ in range(3))
    events = []
    for o in (valid, invalid, pending):
        events += [o.placed(), o.confirmed(), o.shipped(o.purchased_at + DAY)]
    events += [valid.tracking(True, valid.purchased_at + 2 * DAY, valid.purchased_at + DAY)]
    events += [invalid.tracking(False, invalid.purchased_at + 6 * DAY, invalid.purchased_at + DAY)]
    assert rate(card(events), keys.VALID_TRACKING, 30) == (1, 2)


def test_on_time_delivery_counts_tracked_shipments_delivered_or_past_their_promise() -> None:
    on_time, late = Order(purchased_at=at(-12)), Order(purchased_at=at(-12))
    overdue, not_due, untracked = Order(purchased_at=at(-12)), Order(purchased_at=at(-3)), Order(purchased_at=at(-12))
    events = on_time.life() + late.life(delivered_late=True)
    for o in (overdue, not_due):  # tracked, not delivered
        shipped = o.purchased_at + DAY
        events += [o.placed(), o.confirmed(), o.shipped(shipped), o.tracking(True, shipped + H, shipped)]
    events += [untracked.placed(), untracked.confirmed(), untracked.shipped(untracked.purchased_at + DAY)]
    # on time: delivered by deliver-by; late and overdue: not; not_due: its promise is still ahead; untracked: out.
    assert rate(card(events), keys.ON_TIME_DELIVERY, 14) == (1, 3)


def test_response_within_24_hours_counts_replies_at_once_and_unanswered_messages_once_their_24_hours_end() -> None:
    events = message(at(-3), reply_after=2 * H) + message(at(-3), reply_after=30 * H) + message(at(-3))
    events += message(at(-3), needs_reply=False)
    events += message(NOW - 2 * H, reply_after=H)  # answered within 24 h: counts at once
    events += message(NOW - 2 * H)  # open, its 24 h not over: in neither
    assert rate(card(events), keys.RESPONSE, 30) == (2, 4)


def test_a_reply_at_exactly_24_hours_is_on_time_and_one_minute_later_is_late() -> None:
    events = message(at(-3), reply_after=24 * H) + message(at(-3), reply_after=24 * H + timedelta(minutes=1))
    assert rate(card(events), keys.RESPONSE, 30) == (1, 2)


def test_return_dissatisfaction_counts_late_answers_and_rejections_refunded_by_a_claim() -> None:
    orders = [Order(purchased_at=at(-20)) for _ in range(5)]
    asked = at(-6)
    events = [o.placed() for o in orders] + [o.return_requested(asked) for o in orders]
    events += [orders[0].return_answered(asked, asked + 47 * H)]  # on time
    events += [orders[1].return_answered(asked, asked + 49 * H)]  # late
    # orders[2]: never answered, its 48 h passed: late
    events += [orders[3].return_answered(asked, asked + H, reject=True), orders[3].refund(asked + 5 * DAY, "claim")]
    events += [orders[4].return_answered(asked, asked + H, reject=True)]  # rejected, no claim: fine
    assert rate(card(events), keys.RETURNS, 30) == (3, 5)


def test_sales_sum_orders_units_and_gross_with_growth_against_the_previous_period() -> None:
    this_week = [Order(purchased_at=at(-d), total="30.00", quantity=3) for d in range(3)]
    last_week = [Order(purchased_at=at(-7 - d), total="20.00", quantity=1) for d in range(2)]
    scorecard = card([o.placed() for o in this_week + last_week])
    week = next(w for w in scorecard.sales if w.days == 7)
    assert (week.orders, week.units, week.gross) == (3, 9, {"USD": Decimal("90.00")})
    assert week.average_order_value == {"USD": Decimal("30.00")}
    assert week.previous_orders == 2 and week.previous_gross == {"USD": Decimal("40.00")}
    assert week.growth == {"USD": 1.25}
    month = next(w for w in scorecard.sales if w.days == 30)
    assert (month.orders, month.gross, month.growth) == (5, {"USD": Decimal("130.00")}, {"USD": None})


def test_feedback_rating_is_the_positive_share_by_the_day_feedback_was_left() -> None:
    orders = [Order(purchased_at=at(-200)) for _ in range(4)]
    events = [o.placed() for o in orders]
    events += [orders[0].feedback(5, at(-10)), orders[1].feedback(3, at(-10)), orders[2].feedback(4, at(-60)),
               orders[3].feedback(1, at(-120))]
    by_days = {f.window_days: (f.numerator, f.denominator) for f in card(events).feedback}
    assert by_days == {30: (1, 2), 90: (2, 3), 365: (2, 4)}


def test_average_review_rating_and_reply_time() -> None:
    events = [review(5, at(-3)), review(2, at(-2)), review(4, at(-400))]
    events += message(at(-2), reply_after=timedelta(minutes=30)) + message(at(-2), reply_after=timedelta(minutes=90))
    scorecard = card(events)
    assert scorecard.average_review_rating == 3.5
    assert scorecard.average_reply_minutes == 60.0


def test_orders_fulfilled_in_180_days_count_by_their_first_shipment() -> None:
    recent, old = Order(purchased_at=at(-30)), Order(purchased_at=at(-200))
    events = [recent.placed(), recent.shipped(), old.placed(), old.shipped()]
    assert card(events).fulfilled == 1


def test_a_deadline_passing_between_two_ticks_is_judged_at_the_next_tick_whatever_arrives_between() -> None:
    # Ticks at midnight. A message received at 00:45 yesterday is due at 00:45 today; the last tick (00:00 today)
    # came before that, so at noon, though another order arrived at 11:00, it is in neither part of the rate.
    midnight = at(0, 0)
    received = midnight - DAY + 3 * H / 4  # 00:45 yesterday
    events = [*message(received), Order(purchased_at=at(0, 11)).placed()]
    ticks = [midnight - DAY, midnight]
    assert rate(card(events, now=at(0, 12), ticks=ticks), keys.RESPONSE, 30) == (0, 0)
    # The next tick (00:00 tomorrow) judges it late, at that tick.
    tomorrow = midnight + DAY
    assert rate(card(events, now=tomorrow, ticks=[*ticks, tomorrow]), keys.RESPONSE, 30) == (0, 1)


def test_a_return_answered_at_47_or_48_hours_is_on_time_at_49_or_never_it_is_late() -> None:
    orders = [Order(purchased_at=at(-20)) for _ in range(4)]
    asked = at(-6)
    events = [o.placed() for o in orders] + [o.return_requested(asked) for o in orders]
    events += [orders[0].return_answered(asked, asked + 47 * H), orders[1].return_answered(asked, asked + 48 * H)]
    events += [orders[2].return_answered(asked, asked + 49 * H)]  # orders[3]: never answered
    assert rate(card(events), keys.RETURNS, 30) == (2, 4)
    # Before any tick reached its 48 h, the unanswered one is not late yet; the one answered at 49 h is.
    ticks = [asked - H]
    assert rate(card(events, now=asked + 50 * H, ticks=ticks), keys.RETURNS, 30) == (1, 4)


def test_an_open_claim_on_an_order_the_seller_cancelled_is_a_defect_from_its_filing() -> None:
    cancelled, kept = Order(purchased_at=at(-10)), Order(purchased_at=at(-10))
    events = [cancelled.placed(), kept.placed(), cancelled.cancelled("seller", at(-9)),
              cancelled.claim_filed(at(-5)), kept.claim_filed(at(-5))]
    assert rate(card(events), keys.ODR_MERCHANT, 60) == (1, 2)  # undecided; only the cancelled order's counts
    assert rate(card(events, now=at(-6)), keys.ODR_MERCHANT, 60) == (0, 2)  # not before it was filed
    withdrawn = [*events, cancelled.claim(False, at(-2))]
    assert rate(card(withdrawn), keys.ODR_MERCHANT, 60) == (0, 2)  # a decision that clears it wins


def test_on_time_delivery_leaves_out_a_delivered_shipment_whose_tracking_was_judged_invalid() -> None:
    o = Order(purchased_at=at(-12))
    shipped = o.purchased_at + DAY
    events = [o.placed(), o.confirmed(), o.shipped(shipped), o.tracking(False, shipped + 5 * DAY, shipped),
              o.delivered(shipped + 3 * DAY, shipped)]
    assert rate(card(events), keys.ON_TIME_DELIVERY, 14) == (0, 0)
