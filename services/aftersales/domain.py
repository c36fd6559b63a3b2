"""After-sales life cycles (domain.md section 5): messages, returns, refunds, claims, chargebacks, feedback.

Pure: no I/O and no clock, every time is passed in. Each life cycle has one transition table; a
refused transition or a broken rule raises `Refused` with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Final, TypeVar

from shared.events.common import (
    ChargebackOutcome,
    ChargebackReason,
    ClaimOutcome,
    ClaimReason,
    RefundInitiator,
)


@dataclass(frozen=True)
class AftersalesPolicy:
    """The windows of domain.md section 5."""

    reply_within: timedelta = timedelta(hours=24)  # calendar hours: weekends included
    return_window: timedelta = timedelta(days=30)  # from delivery
    return_answer_within: timedelta = timedelta(hours=48)
    refund_after_receipt_within: timedelta = timedelta(days=2)
    negative_feedback_max_stars: int = 2


DEFAULT_POLICY: Final = AftersalesPolicy()


class Refused(ValueError):
    """A refused transition or a broken rule; `reason` is meant for the seller or the dead letter."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_S = TypeVar("_S", bound=StrEnum)
_Table = Mapping[_S, frozenset[_S]]


def _move(table: _Table[_S], current: _S, target: _S, what: str) -> _S:
    if target not in table[current]:
        raise Refused(f"{what} is {current}: it cannot become {target}")
    return target


def _aware(at: datetime, what: str) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise Refused(f"{what}: time {at.isoformat()} has no time zone")


def _check_time(at: datetime, *, not_before: datetime, what: str) -> None:
    _aware(at, what)
    if at < not_before:
        raise Refused(f"{what}: {at.isoformat()} is before {not_before.isoformat()}")


# --- buyer messages -------------------------------------------------------------------------------


class MessageStatus(StrEnum):
    AWAITING_REPLY = "awaiting_reply"
    REPLIED = "replied"
    NO_REPLY_NEEDED = "no_reply_needed"


MESSAGE_TRANSITIONS: Final[_Table[MessageStatus]] = {
    MessageStatus.AWAITING_REPLY: frozenset({MessageStatus.REPLIED, MessageStatus.NO_REPLY_NEEDED}),
    MessageStatus.REPLIED: frozenset(),
    MessageStatus.NO_REPLY_NEEDED: frozenset(),
}


@dataclass(frozen=True)
class ReplyTime:
    minutes: int  # whole minutes from receipt to reply
    on_time: bool  # replied by the due time


@dataclass
class BuyerMessage:
    message_id: str
    order_id: str | None  # a message may be about no order
    received_at: datetime
    due_by: datetime
    status: MessageStatus = MessageStatus.AWAITING_REPLY
    replied_at: datetime | None = None

    @classmethod
    def receive(
        cls, message_id: str, order_id: str | None, *, at: datetime, needs_reply: bool = True,
        policy: AftersalesPolicy = DEFAULT_POLICY,
    ) -> BuyerMessage:
        _aware(at, f"message {message_id}")
        status = MessageStatus.AWAITING_REPLY if needs_reply else MessageStatus.NO_REPLY_NEEDED
        return cls(message_id, order_id, received_at=at, due_by=at + policy.reply_within, status=status)

    @property
    def needs_reply(self) -> bool:
        """Counted by the response-time metric: every message not marked no-reply-needed."""
        return self.status is not MessageStatus.NO_REPLY_NEEDED

    def reply(self, *, at: datetime) -> ReplyTime:
        _check_time(at, not_before=self.received_at, what=f"reply to message {self.message_id}")
        what = f"message {self.message_id}"
        self.status = _move(MESSAGE_TRANSITIONS, self.status, MessageStatus.REPLIED, what)
        self.replied_at = at
        minutes = int((at - self.received_at).total_seconds() // 60)
        return ReplyTime(minutes=minutes, on_time=at <= self.due_by)

    def mark_no_reply_needed(self) -> None:
        self.status = _move(
            MESSAGE_TRANSITIONS, self.status, MessageStatus.NO_REPLY_NEEDED, f"message {self.message_id}"
        )

    def is_overdue(self, now: datetime) -> bool:
        return self.status is MessageStatus.AWAITING_REPLY and now > self.due_by


# --- returns --------------------------------------------------------------------------------------


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    AUTHORIZED = "authorized"
    REJECTED = "rejected"
    RECEIVED = "received"
    REFUNDED = "refunded"


RETURN_TRANSITIONS: Final[_Table[ReturnStatus]] = {
    # The three answers the 48 h rule asks for.
    ReturnStatus.REQUESTED: frozenset(
        {ReturnStatus.AUTHORIZED, ReturnStatus.REJECTED, ReturnStatus.REFUNDED}
    ),
    # Refunding before the item is back is the seller's choice.
    ReturnStatus.AUTHORIZED: frozenset({ReturnStatus.RECEIVED, ReturnStatus.REFUNDED}),
    ReturnStatus.RECEIVED: frozenset({ReturnStatus.REFUNDED}),
    # A rejected return may still be refunded, by the seller or by a claim.
    ReturnStatus.REJECTED: frozenset({ReturnStatus.REFUNDED}),
    ReturnStatus.REFUNDED: frozenset(),
}


@dataclass
class Return:
    return_id: str
    order_id: str
    delivered_at: datetime
    requested_at: datetime
    answer_due_by: datetime
    status: ReturnStatus = ReturnStatus.REQUESTED
    answered_at: datetime | None = None  # first of authorize, reject, refund
    rejection_reason: str | None = None
    received_at: datetime | None = None
    refund_due_by: datetime | None = None
    refunded_at: datetime | None = None
    refunded_by: RefundInitiator | None = None
    rejected_before_refund: bool = False

    @classmethod
    def request(
        cls, return_id: str, order_id: str, *, delivered_at: datetime, at: datetime,
        policy: AftersalesPolicy = DEFAULT_POLICY,
    ) -> Return:
        _check_time(at, not_before=delivered_at, what=f"return {return_id} requested before delivery")
        if at - delivered_at > policy.return_window:
            raise Refused(
                f"return {return_id} requested {(at - delivered_at).days} days after delivery: "
                f"the window is {policy.return_window.days} days"
            )
        due = at + policy.return_answer_within
        return cls(return_id, order_id, delivered_at, requested_at=at, answer_due_by=due)

    def authorize(self, *, at: datetime) -> None:
        self._answer(ReturnStatus.AUTHORIZED, at)

    def reject(self, reason: str, *, at: datetime) -> None:
        if not reason.strip():
            raise Refused(f"return {self.return_id}: a rejection needs a reason")
        self._answer(ReturnStatus.REJECTED, at)
        self.rejection_reason = reason

    def receive(self, *, at: datetime, policy: AftersalesPolicy = DEFAULT_POLICY) -> None:
        self._go(ReturnStatus.RECEIVED, at)
        self.received_at, self.refund_due_by = at, at + policy.refund_after_receipt_within

    def refund(self, *, at: datetime, initiated_by: RefundInitiator) -> None:
        was_rejected = self.status is ReturnStatus.REJECTED
        self._answer(ReturnStatus.REFUNDED, at)  # raises before anything changes
        self.refunded_at, self.refunded_by, self.rejected_before_refund = at, initiated_by, was_rejected

    @property
    def answered_late(self) -> bool:
        return self.answered_at is not None and self.answered_at > self.answer_due_by

    def is_answer_overdue(self, now: datetime) -> bool:
        return self.answered_at is None and now > self.answer_due_by

    @property
    def refunded_late(self) -> bool:
        """Refunded more than the allowed time after the item came back."""
        due, done = self.refund_due_by, self.refunded_at
        return due is not None and done is not None and done > due

    @property
    def rejected_then_refunded_by_claim(self) -> bool:
        return self.rejected_before_refund and self.refunded_by is RefundInitiator.CLAIM

    def _answer(self, target: ReturnStatus, at: datetime) -> None:
        self._go(target, at)
        if self.answered_at is None:
            self.answered_at = at

    def _go(self, target: ReturnStatus, at: datetime) -> None:
        _check_time(at, not_before=self.requested_at, what=f"return {self.return_id}")
        self.status = _move(RETURN_TRANSITIONS, self.status, target, f"return {self.return_id}")


# --- refunds --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refund:
    refund_id: str
    order_id: str
    amount: Decimal
    currency: str
    reason: str
    initiated_by: RefundInitiator
    issued_at: datetime


@dataclass
class OrderRefunds:
    """Every refund of one order: together never above what the buyer paid."""

    order_id: str
    paid: Decimal
    currency: str
    refunds: list[Refund] = field(default_factory=list)

    @property
    def refunded(self) -> Decimal:
        return sum((refund.amount for refund in self.refunds), Decimal(0))

    @property
    def refundable(self) -> Decimal:
        return self.paid - self.refunded

    def issue(
        self, refund_id: str, amount: Decimal, currency: str, *, reason: str,
        initiated_by: RefundInitiator, at: datetime,
    ) -> Refund:
        what = f"refund {refund_id} of order {self.order_id}"
        _aware(at, what)
        if any(refund.refund_id == refund_id for refund in self.refunds):
            raise Refused(f"{what} was already issued")
        if amount <= 0:
            raise Refused(f"{what}: the amount must be positive, not {amount}")
        if currency != self.currency:
            raise Refused(f"{what} is in {currency}, the order was paid in {self.currency}")
        if not reason.strip():
            raise Refused(f"{what} needs a reason")
        if amount > self.refundable:
            raise Refused(
                f"{what}: {amount} {currency} would bring refunds to {self.refunded + amount} {currency}, "
                f"above the {self.paid} {currency} paid ({self.refundable} {currency} left to refund)"
            )
        refund = Refund(refund_id, self.order_id, amount, currency, reason, initiated_by, at)
        self.refunds.append(refund)
        return refund


# --- A-to-z guarantee claims ----------------------------------------------------------------------


#: Claims about delivery: the ones the marketplace funds when the seller shipped on time, tracked.
DELIVERY_CLAIM_REASONS: Final = frozenset({ClaimReason.NOT_RECEIVED})


class ClaimStatus(StrEnum):
    FILED = "filed"
    DECIDED = "decided"
    WITHDRAWN = "withdrawn"
    REVERSED = "reversed"  # the seller's appeal overturned the decision


CLAIM_TRANSITIONS: Final[_Table[ClaimStatus]] = {
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
    counts, even on a denied or open claim (the seller settled only once the claim forced it).
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
        _aware(at, f"claim {claim_id}")
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
        if outcome in (self.outcome, ClaimOutcome.WITHDRAWN):
            raise Refused(f"claim {self.claim_id}: {outcome} does not reverse {self.outcome}")
        self._go(ClaimStatus.REVERSED, at)
        self.reversed_outcome, self.outcome, self.reversed_at = self.outcome, outcome, at

    def record_seller_refund(self, *, at: datetime) -> None:
        """The seller refunded the order; after filing, that makes the claim a defect."""
        if at >= self.filed_at:
            self.refunded_after_filing = True

    @property
    def counts_as_defect(self) -> bool:
        return claim_counts_as_defect(
            self.outcome,
            refunded_after_filing=self.refunded_after_filing,
            cancelled_by_seller=self.cancelled_by_seller,
            reversed=self.status is ClaimStatus.REVERSED,
        )

    def _go(self, target: ClaimStatus, at: datetime) -> None:
        _check_time(at, not_before=self.filed_at, what=f"claim {self.claim_id}")
        self.status = _move(CLAIM_TRANSITIONS, self.status, target, f"claim {self.claim_id}")


# --- chargebacks ----------------------------------------------------------------------------------


class ChargebackStatus(StrEnum):
    FILED = "filed"
    DECIDED = "decided"


CHARGEBACK_TRANSITIONS: Final[_Table[ChargebackStatus]] = {
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
        _aware(at, f"chargeback {chargeback_id}")
        return cls(chargeback_id, order_id, reason, filed_at=at)

    def decide(self, outcome: ChargebackOutcome, *, at: datetime) -> None:
        what = f"chargeback {self.chargeback_id}"
        _check_time(at, not_before=self.filed_at, what=what)
        self.status = _move(CHARGEBACK_TRANSITIONS, self.status, ChargebackStatus.DECIDED, what)
        self.outcome, self.decided_at = outcome, at

    @property
    def counts_as_defect(self) -> bool:
        return chargeback_counts_as_defect(self.reason, self.outcome)


# --- feedback -------------------------------------------------------------------------------------


class FeedbackStatus(StrEnum):
    PUBLISHED = "published"
    REMOVED = "removed"


FEEDBACK_TRANSITIONS: Final[_Table[FeedbackStatus]] = {
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
        _aware(at, f"feedback {feedback_id}")
        if existing is not None:
            raise Refused(f"order {order_id} already has feedback {existing.feedback_id}: one per order")
        if not 1 <= stars <= 5:
            raise Refused(f"feedback {feedback_id}: {stars} stars is not between 1 and 5")
        negative = stars <= policy.negative_feedback_max_stars
        return cls(feedback_id, order_id, stars, negative=negative, received_at=at)

    def remove(self, *, at: datetime) -> None:
        what = f"feedback {self.feedback_id}"
        _check_time(at, not_before=self.received_at, what=what)
        self.status = _move(FEEDBACK_TRANSITIONS, self.status, FeedbackStatus.REMOVED, what)
        self.removed_at = at

    @property
    def counts_as_defect(self) -> bool:
        """Negative and still published: removed feedback does not count."""
        return self.negative and self.status is FeedbackStatus.PUBLISHED
