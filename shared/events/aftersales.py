"""Messages, returns, refunds and reviews, produced by the aftersales service on `aftersales.events`
(domain.md section 5). Claims, chargebacks and feedback (the order defects) are in `disputes.py`.
"""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import Field, model_validator

from shared.events import topics
from shared.events.common import (
    Identifier,
    MessageRule,
    Money,
    RefundInitiator,
    ReturnReason,
    ShortText,
    Stars,
    UtcDatetime,
)
from shared.events.envelope import Payload
from shared.events.order import OrderFacts

_AFTERSALES = (topics.AFTERSALES_EVENTS,)


class MessageReceived(Payload):
    """A buyer message arrived; unless no reply is needed, the seller must reply by `due_by` (24 h)."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.message.received.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _AFTERSALES

    message_id: Identifier = Field(description="The buyer's message.")
    order_id: Identifier | None = Field(default=None, description="The order it is about, if any.")
    received_at: UtcDatetime = Field(description="When it arrived: the response metric's attribution date.")
    needs_reply: bool = Field(description="False when the buyer marked it no-reply-needed.")
    due_by: UtcDatetime | None = Field(default=None, description="Reply deadline; null if none.")
    marked_no_reply_needed_at: UtcDatetime | None = Field(
        default=None,
        description="Set when the seller marked the message no-reply-needed after it arrived: this event then "
        "replaces the earlier message.received of the same message_id (needs_reply false, no due_by).",
    )

    @model_validator(mode="after")
    def _deadline(self) -> Self:
        if self.needs_reply != (self.due_by is not None):
            raise ValueError("due_by is set exactly when a reply is needed")
        if self.due_by is not None and self.due_by < self.received_at:
            raise ValueError("due_by is before received_at")
        return self


class MessageReplied(Payload):
    """The seller replied to a buyer message (the reply passed the messaging rules)."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.message.replied.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _AFTERSALES

    message_id: Identifier = Field(description="The buyer's message answered.")
    reply_id: Identifier = Field(description="The seller's reply.")
    order_id: Identifier | None = Field(default=None, description="The order, if any.")
    received_at: UtcDatetime = Field(description="When the buyer's message arrived.")
    replied_at: UtcDatetime = Field(description="When the seller replied.")
    due_by: UtcDatetime | None = Field(default=None, description="The reply deadline, if a reply was needed.")
    minutes_to_reply: int = Field(ge=0, description="Whole minutes from received_at to replied_at.")

    @model_validator(mode="after")
    def _after_receipt(self) -> Self:
        if self.replied_at < self.received_at:
            raise ValueError("replied_at is before received_at")
        return self


class MessageBlocked(Payload):
    """A seller message broke the messaging rules and was not delivered."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.message.blocked.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _AFTERSALES

    message_id: Identifier = Field(description="The seller's blocked message.")
    in_reply_to: Identifier | None = Field(default=None, description="The buyer message it answered, if any.")
    order_id: Identifier | None = Field(default=None, description="The order, if any.")
    rules: list[MessageRule] = Field(min_length=1, max_length=8, description="The rules broken: M1 to M8.")


class _ReturnFacts(OrderFacts):
    return_id: Identifier = Field(description="The return.")
    requested_at: UtcDatetime = Field(description="When the buyer asked: the date the metric attributes by.")
    answer_by: UtcDatetime = Field(description="Deadline to authorize, reject or refund (48 h).")


class ReturnRequested(_ReturnFacts):
    """A buyer asked to return an order."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.return.requested.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _AFTERSALES

    reason: ReturnReason = Field(description="Why the buyer returns it.")


class ReturnAuthorized(_ReturnFacts):
    """The seller authorized a return."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.return.authorized.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _AFTERSALES

    answered_at: UtcDatetime = Field(description="When the seller answered; late if after answer_by.")
    answered_late: bool | None = Field(
        default=None, description="True when this first answer came after answer_by (return dissatisfaction)."
    )


class ReturnRejected(_ReturnFacts):
    """The seller rejected a return, with a reason."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.return.rejected.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _AFTERSALES

    answered_at: UtcDatetime = Field(description="When the seller answered; late if after answer_by.")
    reason: ShortText = Field(description="Why the seller rejected it.")
    answered_late: bool | None = Field(
        default=None, description="True when this first answer came after answer_by (return dissatisfaction)."
    )


class ReturnReceived(_ReturnFacts):
    """The returned item arrived back; it must be refunded by `refund_by`."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.return.received.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _AFTERSALES

    received_at: UtcDatetime = Field(description="When the item arrived back.")
    refund_by: UtcDatetime = Field(description="Deadline to refund (2 days).")


class RefundIssued(OrderFacts):
    """Money went back to the buyer; never more than was paid."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.refund.issued.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _AFTERSALES

    refund_id: Identifier = Field(description="Unique refund id.")
    amount: Money = Field(description="Amount refunded, above zero.")
    order_total: Money = Field(description="What the buyer paid for the order.")
    reason: ShortText = Field(description="Why.")
    initiated_by: RefundInitiator = Field(description="Seller, marketplace or a claim.")
    issued_at: UtcDatetime = Field(description="When the refund was issued.")
    return_id: Identifier | None = Field(default=None, description="The return it answers, if any.")
    claim_id: Identifier | None = Field(
        default=None,
        description="The A-to-z claim open when refunded (a seller refund after a claim is a defect).",
    )
    claim_counts_against_seller: bool | None = Field(
        default=None,
        description="With claim_id: whether that claim counts against the seller now. The latest of a claim's "
        "claim.decided and refund.issued events says whether it counts.",
    )
    return_requested_at: UtcDatetime | None = Field(
        default=None, description="With return_id: when that return was requested (the return metric's date)."
    )
    return_answered_late: bool | None = Field(
        default=None,
        description="With return_id: the return's first answer (authorize, reject, or this refund) came after "
        "its 48-hour deadline.",
    )
    rejected_return_refunded_by_claim: bool | None = Field(
        default=None,
        description="With return_id: the seller had rejected the return and a claim refunds it now "
        "(return dissatisfaction).",
    )

    @model_validator(mode="after")
    def _within_what_was_paid(self) -> Self:
        if self.amount.currency != self.order_total.currency:
            raise ValueError("amount and order_total must be in one currency")
        if not 0 < self.amount.amount <= self.order_total.amount:
            raise ValueError("amount must be above zero and at most order_total")
        return self


class ReviewReceived(Payload):
    """A buyer reviewed a product: feeds the listing's rating, never the seller's metrics."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.review.received.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _AFTERSALES

    review_id: Identifier = Field(description="Unique review id.")
    listing_id: Identifier = Field(description="The listing reviewed.")
    order_id: Identifier | None = Field(default=None, description="The order, for a verified purchase.")
    stars: Stars = Field(description="1 to 5 stars.")
    posted_at: UtcDatetime = Field(description="When it was posted.")
