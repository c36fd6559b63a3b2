"""After-sales life cycles (domain.md section 5): buyer messages, returns and refunds.

Claims, chargebacks and feedback (the order defects) are in `disputes.py`. Pure: no I/O and no
clock, every time is passed in. Each life cycle has one transition table; a refused transition or
a broken rule raises `Refused` with the reason. Domain methods change state and return plain
values; the service layer builds the wire events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Final

from services.aftersales.lifecycle import Refused, Table, move, require_aware, require_not_before
from shared.events.common import RefundInitiator


@dataclass(frozen=True)
class AftersalesPolicy:
    """The windows of domain.md section 5, and how long an item waits for its order (ours)."""

    reply_within: timedelta = timedelta(hours=24)  # calendar hours: weekends included
    return_window: timedelta = timedelta(days=30)  # from delivery
    return_answer_within: timedelta = timedelta(hours=48)
    refund_after_receipt_within: timedelta = timedelta(days=2)
    negative_feedback_max_stars: int = 2
    #: An ingress item for an order not known yet (or a return for an order not delivered yet) waits
    #: this long in business time, then it is dead-lettered.
    park_for: timedelta = timedelta(days=3)
    #: Negative feedback stays on the seller's work list this long (the time to ask for its removal).
    feedback_follow_up: timedelta = timedelta(days=60)
    #: The texts of a message about no order (no order erasure takes them) are erased this long after its
    #: last word, as an order's are 30 days after it closes (domain.md section 8).
    orderless_text_retention: timedelta = timedelta(days=30)


DEFAULT_POLICY: Final = AftersalesPolicy()


# --- buyer messages -------------------------------------------------------------------------------


class MessageStatus(StrEnum):
    AWAITING_REPLY = "awaiting_reply"
    REPLIED = "replied"
    NO_REPLY_NEEDED = "no_reply_needed"


MESSAGE_TRANSITIONS: Final[Table[MessageStatus]] = {
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
    due_by: datetime  # computed even when no reply is needed: see `reply_due_by`
    status: MessageStatus = MessageStatus.AWAITING_REPLY
    replied_at: datetime | None = None

    @classmethod
    def receive(
        cls, message_id: str, order_id: str | None, *, at: datetime, needs_reply: bool = True,
        policy: AftersalesPolicy = DEFAULT_POLICY,
    ) -> BuyerMessage:
        require_aware(at, f"message {message_id}")
        status = MessageStatus.AWAITING_REPLY if needs_reply else MessageStatus.NO_REPLY_NEEDED
        return cls(message_id, order_id, received_at=at, due_by=at + policy.reply_within, status=status)

    @property
    def needs_reply(self) -> bool:
        """Counted by the response-time metric: every message not marked no-reply-needed."""
        return self.status is not MessageStatus.NO_REPLY_NEEDED

    @property
    def reply_due_by(self) -> datetime | None:
        """The deadline as the wire states it: none when no reply is needed."""
        return self.due_by if self.needs_reply else None

    def reply(self, *, at: datetime) -> ReplyTime:
        require_not_before(at, not_before=self.received_at, what=f"reply to message {self.message_id}")
        what = f"message {self.message_id}"
        self.status = move(MESSAGE_TRANSITIONS, self.status, MessageStatus.REPLIED, what)
        self.replied_at = at
        return self.reply_time(at)

    def reply_time(self, at: datetime) -> ReplyTime:
        """How long a reply sent at `at` took, and whether it was within the 24 hours."""
        return ReplyTime(minutes=int((at - self.received_at).total_seconds() // 60), on_time=at <= self.due_by)

    def mark_no_reply_needed(self) -> None:
        self.status = move(
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


RETURN_TRANSITIONS: Final[Table[ReturnStatus]] = {
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

_DAY: Final = timedelta(days=1)


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
        require_not_before(at, not_before=delivered_at, what=f"return {return_id} requested before delivery")
        elapsed = at - delivered_at
        if elapsed > policy.return_window:
            days = -(-elapsed // _DAY)  # a started day counts: 30 days and 1 hour is day 31
            raise Refused(
                f"return {return_id} requested {days} days after delivery: "
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
        require_not_before(at, not_before=self.requested_at, what=f"return {self.return_id}")
        self.status = move(RETURN_TRANSITIONS, self.status, target, f"return {self.return_id}")


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
        require_aware(at, what)
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
