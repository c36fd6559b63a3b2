"""After-sales life cycles (domain.md section 5): messages, returns and refunds."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

import pytest

from services.aftersales.domain import (
    MESSAGE_TRANSITIONS,
    RETURN_TRANSITIONS,
    AftersalesPolicy,
    BuyerMessage,
    MessageStatus,
    OrderRefunds,
    Return,
    ReturnStatus,
)
from services.aftersales.lifecycle import Refused, RefusedTransition
from shared.events.common import RefundInitiator

FRIDAY = datetime(2025, 3, 7, 18, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


# --- buyer messages -------------------------------------------------------------------------------


def test_a_buyer_message_is_due_24_hours_later_weekends_included() -> None:
    message = BuyerMessage.receive("m-1", "o-1", at=FRIDAY)
    assert message.due_by == FRIDAY + 24 * HOUR  # Saturday 18:00, not Monday
    assert message.needs_reply
    assert message.status is MessageStatus.AWAITING_REPLY


def test_a_reply_at_23_59_is_on_time() -> None:
    message = BuyerMessage.receive("m-1", "o-1", at=FRIDAY)
    reply = message.reply(at=FRIDAY + 23 * HOUR + 59 * MINUTE)
    assert (reply.minutes, reply.on_time) == (1439, True)
    assert message.status is MessageStatus.REPLIED


def test_a_reply_at_exactly_24_hours_is_on_time() -> None:
    reply = BuyerMessage.receive("m-1", "o-1", at=FRIDAY).reply(at=FRIDAY + 24 * HOUR)
    assert (reply.minutes, reply.on_time) == (1440, True)


def test_a_reply_at_24_01_is_late() -> None:
    reply = BuyerMessage.receive("m-1", "o-1", at=FRIDAY).reply(at=FRIDAY + 24 * HOUR + MINUTE)
    assert (reply.minutes, reply.on_time) == (1441, False)


def test_the_reply_window_is_a_setting() -> None:
    policy = AftersalesPolicy(reply_within=12 * HOUR)
    message = BuyerMessage.receive("m-1", "o-1", at=FRIDAY, policy=policy)
    assert message.due_by == FRIDAY + 12 * HOUR


def test_a_message_is_overdue_only_while_unanswered_after_its_due_time() -> None:
    message = BuyerMessage.receive("m-1", "o-1", at=FRIDAY)
    assert not message.is_overdue(FRIDAY + 24 * HOUR)
    assert message.is_overdue(FRIDAY + 24 * HOUR + MINUTE)
    message.reply(at=FRIDAY + 25 * HOUR)
    assert not message.is_overdue(FRIDAY + 48 * HOUR)


def test_a_message_marked_no_reply_needed_needs_no_reply_and_cannot_be_replied_to() -> None:
    message = BuyerMessage.receive("m-1", "o-1", at=FRIDAY)
    message.mark_no_reply_needed()
    assert not message.needs_reply
    assert not message.is_overdue(FRIDAY + 48 * HOUR)
    with pytest.raises(Refused, match="no_reply_needed"):
        message.reply(at=FRIDAY + HOUR)


def test_a_message_received_as_no_reply_needed_starts_that_way() -> None:
    message = BuyerMessage.receive("m-1", "o-1", at=FRIDAY, needs_reply=False)
    assert message.status is MessageStatus.NO_REPLY_NEEDED


def test_replying_twice_to_a_message_is_a_refused_transition() -> None:
    message = BuyerMessage.receive("m-1", "o-1", at=FRIDAY)
    message.reply(at=FRIDAY + HOUR)
    with pytest.raises(RefusedTransition, match="replied: it cannot become replied"):
        message.reply(at=FRIDAY + 2 * HOUR)


def test_the_wire_deadline_is_empty_when_no_reply_is_needed() -> None:
    assert BuyerMessage.receive("m-1", "o-1", at=FRIDAY).reply_due_by == FRIDAY + 24 * HOUR
    quiet = BuyerMessage.receive("m-2", "o-1", at=FRIDAY, needs_reply=False)
    assert quiet.reply_due_by is None
    assert quiet.due_by == FRIDAY + 24 * HOUR  # still computed, never sent


def test_a_reply_before_the_message_arrived_is_refused() -> None:
    message = BuyerMessage.receive("m-1", "o-1", at=FRIDAY)
    with pytest.raises(Refused, match="before"):
        message.reply(at=FRIDAY - MINUTE)


def test_a_time_without_a_time_zone_is_refused() -> None:
    with pytest.raises(Refused, match="time zone"):
        BuyerMessage.receive("m-1", "o-1", at=datetime(2025, 3, 7, 18, 0))


# --- returns --------------------------------------------------------------------------------------


def test_a_return_requested_on_day_30_after_delivery_is_accepted() -> None:
    ret = Return.request("r-1", "o-1", delivered_at=FRIDAY, at=FRIDAY + 30 * DAY)
    assert ret.status is ReturnStatus.REQUESTED
    assert ret.answer_due_by == FRIDAY + 30 * DAY + 48 * HOUR


def test_a_return_requested_on_day_31_after_delivery_is_refused_with_the_reason() -> None:
    with pytest.raises(Refused, match="31 days after delivery: the window is 30 days"):
        Return.request("r-1", "o-1", delivered_at=FRIDAY, at=FRIDAY + 31 * DAY)


def test_a_started_day_counts_when_a_late_return_is_refused() -> None:
    with pytest.raises(Refused, match="31 days after delivery"):
        Return.request("r-1", "o-1", delivered_at=FRIDAY, at=FRIDAY + 30 * DAY + HOUR)


def test_a_return_requested_before_delivery_is_refused() -> None:
    with pytest.raises(Refused, match="before delivery"):
        Return.request("r-1", "o-1", delivered_at=FRIDAY, at=FRIDAY - HOUR)


def _return() -> Return:
    return Return.request("r-1", "o-1", delivered_at=FRIDAY, at=FRIDAY + DAY)


def test_a_return_authorized_within_48_hours_is_answered_on_time() -> None:
    ret = _return()
    ret.authorize(at=ret.requested_at + 48 * HOUR)
    assert ret.status is ReturnStatus.AUTHORIZED
    assert not ret.answered_late


def test_a_return_answered_after_48_hours_is_answered_late() -> None:
    ret = _return()
    ret.authorize(at=ret.requested_at + 48 * HOUR + MINUTE)
    assert ret.answered_late


def test_an_unanswered_return_is_overdue_after_48_hours() -> None:
    ret = _return()
    assert not ret.is_answer_overdue(ret.requested_at + 48 * HOUR)
    assert ret.is_answer_overdue(ret.requested_at + 48 * HOUR + MINUTE)


def test_rejecting_a_return_needs_a_reason() -> None:
    ret = _return()
    with pytest.raises(Refused, match="reason"):
        ret.reject("  ", at=ret.requested_at + HOUR)
    ret.reject("item used", at=ret.requested_at + HOUR)
    assert (ret.status, ret.rejection_reason) == (ReturnStatus.REJECTED, "item used")


def test_a_return_refunded_straight_away_counts_as_answered() -> None:
    ret = _return()
    ret.refund(at=ret.requested_at + HOUR, initiated_by=RefundInitiator.SELLER)
    assert ret.status is ReturnStatus.REFUNDED
    assert ret.answered_at == ret.requested_at + HOUR


def test_a_received_return_must_be_refunded_within_2_days() -> None:
    ret = _return()
    ret.authorize(at=ret.requested_at + HOUR)
    ret.receive(at=ret.requested_at + 5 * DAY)
    assert ret.refund_due_by == ret.requested_at + 7 * DAY
    ret.refund(at=ret.requested_at + 7 * DAY + MINUTE, initiated_by=RefundInitiator.SELLER)
    assert ret.refunded_late
    assert ret.answered_at == ret.requested_at + HOUR  # the first answer, not the refund


def test_a_rejected_return_later_refunded_by_a_claim_is_marked_so() -> None:
    ret = _return()
    ret.reject("outside policy", at=ret.requested_at + HOUR)
    ret.refund(at=ret.requested_at + 10 * DAY, initiated_by=RefundInitiator.CLAIM)
    assert ret.rejected_then_refunded_by_claim
    assert not ret.answered_late


@pytest.mark.parametrize("second", ["authorize", "reject"])
def test_a_return_cannot_be_answered_twice(second: str) -> None:
    ret = _return()
    ret.authorize(at=ret.requested_at + HOUR)
    with pytest.raises(Refused):
        if second == "authorize":
            ret.authorize(at=ret.requested_at + 2 * HOUR)
        else:
            ret.reject("changed my mind", at=ret.requested_at + 2 * HOUR)


def test_a_return_cannot_be_received_before_it_was_authorized() -> None:
    with pytest.raises(Refused, match="requested: it cannot become received"):
        _return().receive(at=FRIDAY + 3 * DAY)


# --- refunds --------------------------------------------------------------------------------------


def _refunds() -> OrderRefunds:
    return OrderRefunds("o-1", paid=Decimal("50.00"), currency="EUR")


def _issue(refunds: OrderRefunds, refund_id: str, amount: str, currency: str = "EUR") -> None:
    refunds.issue(
        refund_id, Decimal(amount), currency, reason="damaged", initiated_by=RefundInitiator.SELLER, at=FRIDAY
    )


def test_refunds_may_add_up_to_exactly_what_was_paid() -> None:
    refunds = _refunds()
    _issue(refunds, "rf-1", "20.00")
    _issue(refunds, "rf-2", "30.00")
    assert (refunds.refunded, refunds.refundable) == (Decimal("50.00"), Decimal("0.00"))


def test_a_refund_above_what_was_paid_is_refused() -> None:
    with pytest.raises(Refused, match=r"above the 50\.00 EUR paid"):
        _issue(_refunds(), "rf-1", "50.01")


def test_a_refund_above_what_was_paid_is_a_broken_rule_not_a_refused_transition() -> None:
    with pytest.raises(Refused) as refused:
        _issue(_refunds(), "rf-1", "60.00")
    assert not isinstance(refused.value, RefusedTransition)


def test_refunds_above_what_was_paid_all_together_are_refused() -> None:
    refunds = _refunds()
    _issue(refunds, "rf-1", "30.00")
    with pytest.raises(Refused, match=r"would bring refunds to 60\.00 EUR.*20\.00 EUR left"):
        _issue(refunds, "rf-2", "30.00")
    assert refunds.refunded == Decimal("30.00")  # the refused refund left no trace


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [("0", "EUR", "positive"), ("-1", "EUR", "positive"), ("10", "USD", "paid in EUR")],
)
def test_a_refund_of_nothing_or_in_another_currency_is_refused(
    amount: str, currency: str, message: str
) -> None:
    with pytest.raises(Refused, match=message):
        _issue(_refunds(), "rf-1", amount, currency)


def test_the_same_refund_issued_twice_is_refused() -> None:
    refunds = _refunds()
    _issue(refunds, "rf-1", "10")
    with pytest.raises(Refused, match="already issued"):
        _issue(refunds, "rf-1", "10")


# --- the tables -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "table",
    [
        MESSAGE_TRANSITIONS,
        RETURN_TRANSITIONS,
    ],
)
def test_every_status_has_a_row_in_its_transition_table(table: Mapping[StrEnum, frozenset[StrEnum]]) -> None:
    statuses = set(type(next(iter(table))))
    assert set(table) == statuses
    assert all(target in statuses for targets in table.values() for target in targets)
