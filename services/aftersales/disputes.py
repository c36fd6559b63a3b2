"""The order defects of domain.md section 5: A-to-z claims, chargebacks and feedback. Pure, no I/O.

Each says whether it counts against the seller (the order defect rate of domain.md section 6).
Messages, returns and refunds are in `domain.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from services.aftersales.domain import DEFAULT_POLICY, AftersalesPolicy
from services.aftersales.lifecycle import Refused, Table, move, require_aware, require_not_before
from shared.events.common import ChargebackOutcome, ChargebackReason, ClaimOutcome, ClaimReason

# --- A-to-z guarantee claims ----------------------------------------------------------------------


#: Claims about delivery: the ones the marketplace funds when the seller shipped on time, tracked.
DELIVERY_CLAIM_REASONS: Final = frozenset({ClaimReason.NOT_RECEIVED})


class ClaimStatus(StrEnum):
    FILED = "filed"
    DECIDED = "decided"
    WITHDRAWN = "withdrawn"
    REVERSED = "reversed"  # the seller's appeal overturned the decision


CLAIM_TRANSITIONS: Final[Table[ClaimStatus]] = {
    ClaimStatus.FILED: frozenset({ClaimStatus.DECIDED, ClaimStatus.WITHDRAWN}),
    ClaimStatus.DECIDED: frozenset({ClaimStatus.REVERSED}),
    ClaimStatus.WITHDRAWN: frozenset(),
    ClaimStatus.REVERSED: frozenset(),
}

_GRANTED: Final = frozenset({ClaimOutcome.GRANTED_SELLER_FUNDED, ClaimOutcome.GRANTED_MARKETPLACE_FUNDED})


def auto_funding(claim_reason: ClaimReason, shipped_on_time: bool, tracking_valid: bool) -> ClaimOutcome:
    """Who pays a granted claim: the marketplace when the seller did its part for a delivery claim."""
    if claim_reason in DELIVERY_CLAIM_REASONS and shipped_on_time and tracking_valid:
        return ClaimOutcome.GRANTED_MARKETPLACE_FUNDED
    return ClaimOutcome.GRANTED_SELLER_FUNDED


def claim_counts_as_defect(
    outcome: ClaimOutcome | None, *, refunded_after_filing: bool, cancelled_by_seller: bool, reversed: bool
) -> bool:
    """Whether a claim is an order defect (domain.md section 5); `outcome` is None while undecided.

    Read top to bottom: a reversal, a withdrawal or marketplace funding clears the seller whatever
    else happened; otherwise a seller-funded grant, a refund after filing or a seller cancellation
    counts, even on a denied or open claim. Our reading of domain.md: "the seller refunds after the
    claim was filed" is a defect of its own, beside the grant, so a denial does not clear a refund
    the claim forced (the seller settled only once the buyer escalated).
    """
    if reversed or outcome in (ClaimOutcome.WITHDRAWN, ClaimOutcome.GRANTED_MARKETPLACE_FUNDED):
        return False
    return outcome is ClaimOutcome.GRANTED_SELLER_FUNDED or refunded_after_filing or cancelled_by_seller


@dataclass
class Claim:
    claim_id: str
    order_id: str
    reason: ClaimReason
    filed_at: datetime
    cancelled_by_seller: bool = False  # the order was cancelled by the seller (or the system)
    status: ClaimStatus = ClaimStatus.FILED
    outcome: ClaimOutcome | None = None
    decided_at: datetime | None = None
    reversed_at: datetime | None = None
    reversed_outcome: ClaimOutcome | None = None  # the grant the appeal overturned
    refunded_after_filing: bool = False

    @classmethod
    def file(
        cls, claim_id: str, order_id: str, reason: ClaimReason, *, at: datetime,
        cancelled_by_seller: bool = False,
    ) -> Claim:
        require_aware(at, f"claim {claim_id}")
        return cls(claim_id, order_id, reason, filed_at=at, cancelled_by_seller=cancelled_by_seller)

    def decide(self, outcome: ClaimOutcome, *, at: datetime) -> None:
        """Decide the claim; WITHDRAWN is an outcome too (the buyer withdrew it)."""
        target = ClaimStatus.WITHDRAWN if outcome is ClaimOutcome.WITHDRAWN else ClaimStatus.DECIDED
        self._go(target, at)
        self.outcome, self.decided_at = outcome, at

    def withdraw(self, *, at: datetime) -> None:
        self.decide(ClaimOutcome.WITHDRAWN, at=at)

    def reverse_on_appeal(self, outcome: ClaimOutcome, *, at: datetime) -> None:
        """The seller's appeal replaced a grant by `outcome`: the claim no longer counts against them."""
        if self.outcome not in _GRANTED:
            decision = self.outcome or "not decided"
            raise Refused(f"claim {self.claim_id} was {decision}: only a grant can be reversed")
        if outcome in (self.outcome, ClaimOutcome.WITHDRAWN, ClaimOutcome.GRANTED_SELLER_FUNDED):
            # An appeal goes the seller's way: it never ends seller-funded (that would add a defect).
            raise Refused(f"claim {self.claim_id}: {outcome} does not reverse {self.outcome}")
        self._go(ClaimStatus.REVERSED, at)
        self.reversed_outcome, self.outcome, self.reversed_at = self.outcome, outcome, at

    def record_seller_refund(self, *, at: datetime) -> bool:
        """The seller refunded the order; after filing, that makes the claim a defect. True if it concerns
        this claim (filed by then, and neither withdrawn nor reversed)."""
        if at < self.filed_at or self.status in (ClaimStatus.WITHDRAWN, ClaimStatus.REVERSED):
            return False
        self.refunded_after_filing = True
        return True

    @property
    def counts_as_defect(self) -> bool:
        return claim_counts_as_defect(
            self.outcome,
            refunded_after_filing=self.refunded_after_filing,
            cancelled_by_seller=self.cancelled_by_seller,
            reversed=self.status is ClaimStatus.REVERSED,
        )

    def _go(self, target: ClaimStatus, at: datetime) -> None:
        require_not_before(at, not_before=self.filed_at, what=f"claim {self.claim_id}")
        self.status = move(CLAIM_TRANSITIONS, self.status, target, f"claim {self.claim_id}")


# --- chargebacks ----------------------------------------------------------------------------------


class ChargebackStatus(StrEnum):
    FILED = "filed"
    DECIDED = "decided"


CHARGEBACK_TRANSITIONS: Final[Table[ChargebackStatus]] = {
    ChargebackStatus.FILED: frozenset({ChargebackStatus.DECIDED}),
    ChargebackStatus.DECIDED: frozenset(),
}

#: The buyer says the seller failed them; fraud is the card holder's matter, never the seller's.
SERVICE_CHARGEBACK_REASONS: Final = frozenset(
    {ChargebackReason.NOT_RECEIVED, ChargebackReason.NOT_AS_DESCRIBED}
)


def chargeback_counts_as_defect(reason: ChargebackReason, outcome: ChargebackOutcome | None) -> bool:
    return reason in SERVICE_CHARGEBACK_REASONS and outcome is ChargebackOutcome.SELLER_LOST


@dataclass
class Chargeback:
    chargeback_id: str
    order_id: str
    reason: ChargebackReason
    filed_at: datetime
    status: ChargebackStatus = ChargebackStatus.FILED
    outcome: ChargebackOutcome | None = None
    decided_at: datetime | None = None

    @classmethod
    def file(cls, chargeback_id: str, order_id: str, reason: ChargebackReason, *, at: datetime) -> Chargeback:
        require_aware(at, f"chargeback {chargeback_id}")
        return cls(chargeback_id, order_id, reason, filed_at=at)

    def decide(self, outcome: ChargebackOutcome, *, at: datetime) -> None:
        what = f"chargeback {self.chargeback_id}"
        require_not_before(at, not_before=self.filed_at, what=what)
        self.status = move(CHARGEBACK_TRANSITIONS, self.status, ChargebackStatus.DECIDED, what)
        self.outcome, self.decided_at = outcome, at

    @property
    def counts_as_defect(self) -> bool:
        return chargeback_counts_as_defect(self.reason, self.outcome)


# --- feedback -------------------------------------------------------------------------------------


class FeedbackStatus(StrEnum):
    PUBLISHED = "published"
    REMOVED = "removed"


FEEDBACK_TRANSITIONS: Final[Table[FeedbackStatus]] = {
    FeedbackStatus.PUBLISHED: frozenset({FeedbackStatus.REMOVED}),
    FeedbackStatus.REMOVED: frozenset(),
}


@dataclass
class Feedback:
    feedback_id: str
    order_id: str
    stars: int
    negative: bool
    received_at: datetime
    status: FeedbackStatus = FeedbackStatus.PUBLISHED
    removed_at: datetime | None = None

    @classmethod
    def receive(
        cls, feedback_id: str, order_id: str, stars: int, *, at: datetime, existing: Feedback | None,
        policy: AftersalesPolicy = DEFAULT_POLICY,
    ) -> Feedback:
        """Feedback on an order; `existing` is the order's feedback so far: one per order, even if removed."""
        require_aware(at, f"feedback {feedback_id}")
        if existing is not None:
            raise Refused(f"order {order_id} already has feedback {existing.feedback_id}: one per order")
        if not 1 <= stars <= 5:
            raise Refused(f"feedback {feedback_id}: {stars} stars is not between 1 and 5")
        negative = stars <= policy.negative_feedback_max_stars
        return cls(feedback_id, order_id, stars, negative=negative, received_at=at)

    def remove(self, *, at: datetime) -> None:
        what = f"feedback {self.feedback_id}"
        require_not_before(at, not_before=self.received_at, what=what)
        self.status = move(FEEDBACK_TRANSITIONS, self.status, FeedbackStatus.REMOVED, what)
        self.removed_at = at

    @property
    def counts_as_defect(self) -> bool:
        """Negative and still published: removed feedback does not count."""
        return self.negative and self.status is FeedbackStatus.PUBLISHED
