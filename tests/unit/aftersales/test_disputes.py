"""The order defects (domain.md section 5): A-to-z claims, chargebacks, feedback, and whether each counts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import pytest

from services.aftersales.disputes import (
    CHARGEBACK_TRANSITIONS,
    CLAIM_TRANSITIONS,
    FEEDBACK_TRANSITIONS,
    Chargeback,
    Claim,
    ClaimStatus,
    Feedback,
    auto_funding,
    chargeback_counts_as_defect,
    claim_counts_as_defect,
)
from services.aftersales.domain import AftersalesPolicy
from services.aftersales.lifecycle import Refused
from shared.events.common import ChargebackOutcome, ChargebackReason, ClaimOutcome, ClaimReason

FRIDAY = datetime(2025, 3, 7, 18, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


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


@pytest.mark.parametrize("to", [G_SELLER, WITHDRAWN])
def test_an_appeal_never_ends_seller_funded_nor_withdrawn(to: ClaimOutcome) -> None:
    claim = _claim()
    claim.decide(G_MARKET, at=FRIDAY + DAY)
    with pytest.raises(Refused, match="does not reverse"):
        claim.reverse_on_appeal(to, at=FRIDAY + 2 * DAY)
    assert (claim.status, claim.counts_as_defect) == (ClaimStatus.DECIDED, False)


def test_an_appeal_may_turn_a_seller_funded_grant_into_a_denial() -> None:
    claim = _claim()
    claim.decide(G_SELLER, at=FRIDAY + DAY)
    claim.reverse_on_appeal(DENIED, at=FRIDAY + 2 * DAY)
    assert (claim.status, claim.outcome, claim.counts_as_defect) == (ClaimStatus.REVERSED, DENIED, False)


def test_a_denied_claim_the_seller_refunded_after_filing_still_counts() -> None:
    """Our reading of domain.md: the refund after filing is a defect of its own, beside the grant."""
    claim = _claim()
    claim.decide(DENIED, at=FRIDAY + DAY)
    assert not claim.counts_as_defect
    assert claim.record_seller_refund(at=FRIDAY + 2 * DAY)
    assert claim.counts_as_defect


def test_a_seller_refund_does_not_concern_a_withdrawn_claim() -> None:
    claim = _claim()
    claim.withdraw(at=FRIDAY + HOUR)
    assert not claim.record_seller_refund(at=FRIDAY + DAY)
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
        CLAIM_TRANSITIONS,
        CHARGEBACK_TRANSITIONS,
        FEEDBACK_TRANSITIONS,
    ],
)
def test_every_status_has_a_row_in_its_transition_table(table: Mapping[StrEnum, frozenset[StrEnum]]) -> None:
    statuses = set(type(next(iter(table))))
    assert set(table) == statuses
    assert all(target in statuses for targets in table.values() for target in targets)
