"""A-to-z claims, chargebacks and feedback: the order defects (domain.md sections 5 and 6), produced by
the aftersales service on `aftersales.events`. Each carries the order date and channel, and whether
it counts against the seller, so the metrics service computes the order defect rate from them alone.
"""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import Field, model_validator

from shared.events import topics
from shared.events.common import (
    ChargebackOutcome,
    ChargebackReason,
    ClaimOutcome,
    ClaimReason,
    Identifier,
    Money,
    ShortText,
    Stars,
    UtcDatetime,
)
from shared.events.order import OrderFacts

_AFTERSALES = (topics.AFTERSALES_EVENTS,)


class ClaimFiled(OrderFacts):
    """A buyer filed an A-to-z guarantee claim."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.claim.filed.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _AFTERSALES

    claim_id: Identifier = Field(description="Unique claim id.")
    reason: ClaimReason = Field(description="What the buyer claims.")
    amount: Money = Field(description="Amount claimed.")
    filed_at: UtcDatetime = Field(description="When it was filed.")


class ClaimDecided(OrderFacts):
    """A claim was decided, withdrawn, or an earlier decision reversed on appeal.

    The latest decision of a claim wins: an appeal that reverses a counted decision removes the defect.
    """

    EVENT_TYPE: ClassVar[str] = "sellerflow.claim.decided.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _AFTERSALES

    claim_id: Identifier = Field(description="The claim.")
    outcome: ClaimOutcome = Field(description="Granted (seller- or marketplace-funded), denied, withdrawn.")
    counts_against_seller: bool = Field(
        description="An order defect: granted seller-funded, refunded by the seller after filing, "
        "or on an order the seller cancelled."
    )
    reverses_earlier_decision: bool = Field(
        default=False, description="True for an appeal's decision that replaces an earlier one."
    )
    decided_by: Identifier | None = Field(default=None, description="The operator; null for an A-to-z rule.")
    decided_at: UtcDatetime = Field(description="When it was decided.")
    reason: ShortText | None = Field(default=None, description="Why.")


class ChargebackFiled(OrderFacts):
    """A buyer's bank filed a chargeback."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.chargeback.filed.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _AFTERSALES

    chargeback_id: Identifier = Field(description="Unique chargeback id.")
    reason: ChargebackReason = Field(description="Service (not received, not as described) or fraud.")
    amount: Money = Field(description="Amount charged back.")
    filed_at: UtcDatetime = Field(description="When it was filed.")


class ChargebackDecided(OrderFacts):
    """A chargeback was decided; a service chargeback the seller lost is an order defect."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.chargeback.decided.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _AFTERSALES

    chargeback_id: Identifier = Field(description="The chargeback.")
    reason: ChargebackReason = Field(description="Service (not received, not as described) or fraud.")
    outcome: ChargebackOutcome = Field(description="Whether the seller won or lost.")
    counts_against_seller: bool = Field(description="True for a service chargeback the seller lost.")
    decided_at: UtcDatetime = Field(description="When it was decided.")

    @model_validator(mode="after")
    def _counts_only_lost_service_chargebacks(self) -> Self:
        lost = self.outcome is ChargebackOutcome.SELLER_LOST
        lost_service = lost and self.reason is not ChargebackReason.FRAUD
        if self.counts_against_seller != lost_service:
            raise ValueError("counts_against_seller is true exactly for a service chargeback the seller lost")
        return self


class FeedbackReceived(OrderFacts):
    """A buyer rated the seller for an order; 1-2 stars is negative feedback (an order defect)."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.feedback.received.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _AFTERSALES

    feedback_id: Identifier = Field(description="Unique feedback id; one per order.")
    stars: Stars = Field(description="1 to 5 stars.")
    left_at: UtcDatetime = Field(description="When it was left: the date the feedback rating attributes by.")

    @property
    def negative(self) -> bool:
        return self.stars <= 2


class FeedbackRemoved(OrderFacts):
    """Feedback was removed and no longer counts."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.feedback.removed.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _AFTERSALES

    feedback_id: Identifier = Field(description="The feedback removed.")
    stars: Stars = Field(description="Its stars.")
    left_at: UtcDatetime = Field(description="When it had been left.")
    removed_at: UtcDatetime = Field(description="When it was removed.")
    removed_by: Identifier | None = Field(default=None, description="`buyer` or `operator`, when known.")
    reason: ShortText | None = Field(default=None, description="Why it was removed, when given.")
