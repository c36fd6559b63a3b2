"""After-sales life cycles (domain.md section 5): messages, returns, refunds, claims, chargebacks,
feedback."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

import pytest

from services.aftersales.domain import (
    CHARGEBACK_TRANSITIONS,
    CLAIM_TRANSITIONS,
    FEEDBACK_TRANSITIONS,
    MESSAGE_TRANSITIONS,
    RETURN_TRANSITIONS,
    AftersalesPolicy,
    BuyerMessage,
    Chargeback,
    Claim,
    ClaimStatus,
    Feedback,
    MessageStatus,
    OrderRefunds,
    Refused,
    Return,
    ReturnStatus,
    auto_funding,
    chargeback_counts_as_defect,
    claim_counts_as_defect,
)
from shared.events.common import (
    ChargebackOutcome,
    ChargebackReason,
    ClaimOutcome,
    ClaimReason,
    RefundInitiator,
)

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


def test_replying_twice_to_a_message_is_refused() -> None:
    message = BuyerMessage.receive("m-1", "o-1", at=FRIDAY)
    message.reply(at=FRIDAY + HOUR)
    with pytest.raises(Refused):
        message.reply(at=FRIDAY + 2 * HOUR)


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


# --- claims ---------------------------------------------------------------------------------------

G_SELLER = ClaimOutcome.GRANTED_SELLER_FUNDED
G_MARKET = ClaimOutcome.GRANTED_MARKETPLACE_FUNDED
DENIED = ClaimOutcome.DENIED
WITHDRAWN = ClaimOutcome.WITHDRAWN


@pytest.mark.parametrize(
    ("outcome", "refunded_after_filing", "cancelled_by_seller", "reversed", "counts"),
    [
        (G_SELLER, False, False, False, True),
        (G_MARKET, False, False, False, False),
        (DENIED, False, False, False, False),
        (WITHDRAWN, False, False, False, False),
        (None, False, False, False, False),  # still open
        (None, True, False, False, True),  # the seller refunded after the claim was filed
        (DENIED, True, False, False, True),
        (None, False, True, False, True),  # the order was cancelled by the seller
        (DENIED, False, True, False, True),
        (WITHDRAWN, True, False, False, False),  # withdrawn: nothing left to count
        (G_MARKET, True, False, False, False),
        (G_SELLER, False, False, True, False),  # an appeal reversed the grant
        (G_SELLER, True, True, True, False),
    ],
)
def test_whether_a_claim_counts_as_a_defect(
    outcome: ClaimOutcome | None,
    refunded_after_filing: bool,
    cancelled_by_seller: bool,
    reversed: bool,
    counts: bool,
) -> None:
    assert (
        claim_counts_as_defect(
            outcome,
            refunded_after_filing=refunded_after_filing,
            cancelled_by_seller=cancelled_by_seller,
            reversed=reversed,
        )
        is counts
    )


@pytest.mark.parametrize(
    ("reason", "on_time", "tracking_valid", "funding"),
    [
        (ClaimReason.NOT_RECEIVED, True, True, G_MARKET),
        (ClaimReason.NOT_RECEIVED, False, True, G_SELLER),
        (ClaimReason.NOT_RECEIVED, True, False, G_SELLER),
        (ClaimReason.NOT_AS_DESCRIBED, True, True, G_SELLER),
        (ClaimReason.RETURN_NOT_REFUNDED, True, True, G_SELLER),
        (ClaimReason.OTHER, True, True, G_SELLER),
    ],
)
def test_the_marketplace_funds_a_delivery_claim_when_the_seller_shipped_on_time_with_valid_tracking(
    reason: ClaimReason, on_time: bool, tracking_valid: bool, funding: ClaimOutcome
) -> None:
    assert auto_funding(reason, on_time, tracking_valid) is funding


def _claim(*, cancelled_by_seller: bool = False) -> Claim:
    return Claim.file(
        "c-1", "o-1", ClaimReason.NOT_RECEIVED, at=FRIDAY, cancelled_by_seller=cancelled_by_seller
    )


@pytest.mark.parametrize(
    ("outcome", "status", "counts"),
    [
        (G_SELLER, ClaimStatus.DECIDED, True),
        (G_MARKET, ClaimStatus.DECIDED, False),
        (DENIED, ClaimStatus.DECIDED, False),
        (WITHDRAWN, ClaimStatus.WITHDRAWN, False),
    ],
)
def test_deciding_a_claim_sets_its_outcome_and_whether_it_counts(
    outcome: ClaimOutcome, status: ClaimStatus, counts: bool
) -> None:
    claim = _claim()
    claim.decide(outcome, at=FRIDAY + DAY)
    assert (claim.status, claim.outcome, claim.counts_as_defect) == (status, outcome, counts)


def test_a_seller_refund_after_the_claim_was_filed_makes_it_a_defect() -> None:
    claim = _claim()
    claim.record_seller_refund(at=FRIDAY - HOUR)
    assert not claim.counts_as_defect
    claim.record_seller_refund(at=FRIDAY + HOUR)
    assert claim.counts_as_defect


def test_a_claim_on_an_order_the_seller_cancelled_is_a_defect() -> None:
    assert _claim(cancelled_by_seller=True).counts_as_defect


def test_an_appeal_that_reverses_a_grant_removes_the_defect() -> None:
    claim = _claim()
    claim.decide(G_SELLER, at=FRIDAY + DAY)
    claim.reverse_on_appeal(G_MARKET, at=FRIDAY + 5 * DAY)
    assert claim.status is ClaimStatus.REVERSED
    assert (claim.reversed_outcome, claim.outcome) == (G_SELLER, G_MARKET)
    assert not claim.counts_as_defect


def test_a_denied_claim_cannot_be_reversed_on_appeal() -> None:
    claim = _claim()
    claim.decide(DENIED, at=FRIDAY + DAY)
    with pytest.raises(Refused, match="only a grant"):
        claim.reverse_on_appeal(G_MARKET, at=FRIDAY + 2 * DAY)


def test_a_claim_cannot_be_decided_twice_nor_after_withdrawal() -> None:
    claim = _claim()
    claim.decide(DENIED, at=FRIDAY + DAY)
    with pytest.raises(Refused):
        claim.decide(G_SELLER, at=FRIDAY + 2 * DAY)
    withdrawn = _claim()
    withdrawn.withdraw(at=FRIDAY + HOUR)
    with pytest.raises(Refused):
        withdrawn.decide(G_SELLER, at=FRIDAY + DAY)


def test_a_claim_decided_before_it_was_filed_is_refused() -> None:
    with pytest.raises(Refused, match="before"):
        _claim().decide(DENIED, at=FRIDAY - MINUTE)


# --- chargebacks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "outcome", "counts"),
    [
        (ChargebackReason.NOT_RECEIVED, ChargebackOutcome.SELLER_LOST, True),
        (ChargebackReason.NOT_AS_DESCRIBED, ChargebackOutcome.SELLER_LOST, True),
        (ChargebackReason.FRAUD, ChargebackOutcome.SELLER_LOST, False),
        (ChargebackReason.NOT_RECEIVED, ChargebackOutcome.SELLER_WON, False),
        (ChargebackReason.NOT_AS_DESCRIBED, ChargebackOutcome.SELLER_WON, False),
        (ChargebackReason.FRAUD, ChargebackOutcome.SELLER_WON, False),
        (ChargebackReason.NOT_RECEIVED, None, False),  # undecided
    ],
)
def test_only_a_lost_service_chargeback_counts_as_a_defect(
    reason: ChargebackReason, outcome: ChargebackOutcome | None, counts: bool
) -> None:
    assert chargeback_counts_as_defect(reason, outcome) is counts


def test_a_chargeback_is_decided_once() -> None:
    chargeback = Chargeback.file("cb-1", "o-1", ChargebackReason.NOT_RECEIVED, at=FRIDAY)
    assert not chargeback.counts_as_defect
    chargeback.decide(ChargebackOutcome.SELLER_LOST, at=FRIDAY + DAY)
    assert chargeback.counts_as_defect
    with pytest.raises(Refused):
        chargeback.decide(ChargebackOutcome.SELLER_WON, at=FRIDAY + 2 * DAY)


# --- feedback -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("stars", "negative"), [(1, True), (2, True), (3, False), (4, False), (5, False)])
def test_feedback_of_1_or_2_stars_is_negative_and_a_defect(stars: int, negative: bool) -> None:
    feedback = Feedback.receive("f-1", "o-1", stars, at=FRIDAY, existing=None)
    assert feedback.negative is negative
    assert feedback.counts_as_defect is negative


@pytest.mark.parametrize("stars", [0, 6, -1])
def test_feedback_outside_1_to_5_stars_is_refused(stars: int) -> None:
    with pytest.raises(Refused, match="between 1 and 5"):
        Feedback.receive("f-1", "o-1", stars, at=FRIDAY, existing=None)


def test_a_second_feedback_for_an_order_is_refused() -> None:
    first = Feedback.receive("f-1", "o-1", 5, at=FRIDAY, existing=None)
    with pytest.raises(Refused, match="already has feedback f-1: one per order"):
        Feedback.receive("f-2", "o-1", 1, at=FRIDAY + DAY, existing=first)


def test_removed_feedback_does_not_count() -> None:
    feedback = Feedback.receive("f-1", "o-1", 1, at=FRIDAY, existing=None)
    feedback.remove(at=FRIDAY + DAY)
    assert feedback.negative
    assert not feedback.counts_as_defect
    with pytest.raises(Refused):
        feedback.remove(at=FRIDAY + 2 * DAY)


def test_what_counts_as_negative_feedback_is_a_setting() -> None:
    policy = AftersalesPolicy(negative_feedback_max_stars=3)
    assert Feedback.receive("f-1", "o-1", 3, at=FRIDAY, existing=None, policy=policy).negative


# --- the tables -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "table",
    [
        MESSAGE_TRANSITIONS,
        RETURN_TRANSITIONS,
        CLAIM_TRANSITIONS,
        CHARGEBACK_TRANSITIONS,
        FEEDBACK_TRANSITIONS,
    ],
)
def test_every_status_has_a_row_in_its_transition_table(table: Mapping[StrEnum, frozenset[StrEnum]]) -> None:
    statuses = set(type(next(iter(table))))
    assert set(table) == statuses
    assert all(target in statuses for targets in table.values() for target in targets)
