"""Request and response bodies of the aftersales HTTP API (handlers.py)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.events.common import Amount, BusinessTime, CleanStr, Identifier, ShortText

Text = Annotated[CleanStr, StringConstraints(min_length=1, max_length=4000)]


# --- commands -------------------------------------------------------------------------------------


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: BusinessTime | None = Field(default=None, description="Business time of the command; default: the latest "
                                   "clock tick this service has seen.")


class MessageText(Command):
    text: Text = Field(description="The seller's words, checked against rules M1-M8 before delivery.")
    message_id: Identifier | None = Field(default=None, description="The seller's own id for this message: sent "
                                          "again with the same id, it is answered as the first time and not sent "
                                          "twice (an id used for another message: 422). Default: a new id.")


class Rejection(Command):
    reason: ShortText = Field(description="Why the return is rejected (required).")


class ReturnRefund(Command):
    amount: Amount | None = Field(default=None, description="Default: all that is left to refund of the order.")
    reason: ShortText | None = None
    refund_id: Identifier | None = Field(default=None, description="Idempotency key: the same id is issued once.")


class OrderRefund(Command):
    amount: Amount
    reason: ShortText
    refund_id: Identifier | None = Field(default=None, description="Idempotency key: the same id is issued once.")


class ClaimDecision(Command):
    outcome: Literal["granted", "denied", "granted_seller_funded", "granted_marketplace_funded"] = Field(
        description="`granted`: funded by the rule (the marketplace funds a delivery claim on an order shipped "
        "on time with valid tracking, else the seller). On appeal, `granted` is marketplace-funded.")
    appeal: bool = Field(default=False, description="This decision reverses an earlier grant (the seller's appeal).")
    refund: Amount | None = Field(default=None, description="Refund with a grant; default: the amount claimed, "
                                  "capped at what is left to refund.")
    reason: ShortText | None = None


class FeedbackRemoval(Command):
    reason: ShortText | None = None


# --- views ----------------------------------------------------------------------------------------


class DeliveryView(BaseModel):
    message_id: str = Field(description="The seller's message.")
    delivered: bool
    rules: list[str] = Field(description="Rules broken (M1-M8) when blocked.")
    minutes_to_reply: int | None = None
    on_time: bool | None = None


class MessageView(BaseModel):
    message_id: str
    order_id: str | None
    subject: str | None
    body: str | None = Field(description="Null once the order's personal data was erased.")
    received_at: datetime
    due_by: datetime
    status: str = Field(description="awaiting_reply, replied or no_reply_needed.")
    replied_at: datetime | None
    reply_id: str | None
    overdue: bool = Field(description="A clock tick found it unanswered past due_by.")


class ReturnView(BaseModel):
    return_id: str
    order_id: str
    reason: str = Field(description="The buyer's reason.")
    status: str
    requested_at: datetime
    answer_due_by: datetime
    answered_at: datetime | None
    received_at: datetime | None
    refund_due_by: datetime | None
    overdue: bool = Field(description="A clock tick found it unanswered after 48 h, or received and unrefunded.")


class AnsweredReturn(BaseModel):
    return_id: str
    status: str
    answered_at: datetime | None
    answered_late: bool
    refund_due_by: datetime | None


class RefundView(BaseModel):
    refund_id: str
    order_id: str
    amount: Decimal
    currency: str
    refundable_left: Decimal
    repeated: bool = Field(description="True when this refund id was issued before: nothing new happened.")


class ClaimView(BaseModel):
    claim_id: str
    order_id: str
    reason: str
    amount: Decimal
    currency: str
    filed_at: datetime
    status: str
    outcome: str | None
    decided_at: datetime | None
    reversed_at: datetime | None


class DecidedClaim(BaseModel):
    claim_id: str
    status: str
    outcome: str | None
    counts_against_seller: bool


class ChargebackView(BaseModel):
    chargeback_id: str
    order_id: str
    reason: str
    amount: Decimal
    currency: str
    filed_at: datetime


class FeedbackView(BaseModel):
    feedback_id: str
    order_id: str
    stars: int
    left_at: datetime
    status: str


class WorkView(BaseModel):
    """Everything waiting on the seller, each list soonest deadline first."""

    messages_due: list[MessageView]
    returns_awaiting: list[ReturnView] = Field(description="Awaiting an answer (48 h) or, once received, a refund.")
    open_claims: list[ClaimView]
    open_chargebacks: list[ChargebackView]
    negative_feedback: list[FeedbackView] = Field(description="Negative, still published, within the follow-up "
                                                  "window (AFTERSALES_FEEDBACK_FOLLOW_UP_DAYS, 60).")
