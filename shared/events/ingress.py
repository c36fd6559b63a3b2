"""Payloads of the ingress topics: what storefronts, carriers, buyers, the A-to-z team and banks send.

These are the public contract for other systems: unknown fields are refused at every level,
every string is bounded, and impossible values are refused with a reason.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import ConfigDict, Field, model_validator

from shared.events import topics
from shared.events.common import (
    Address,
    BusinessTime,
    Carrier,
    ChargebackOutcome,
    ChargebackReason,
    ClaimOutcome,
    ClaimReason,
    CurrencyCode,
    FulfillmentChannel,
    Identifier,
    IngressModel,
    LongText,
    Money,
    Quantity,
    ReturnReason,
    ScanStatus,
    ShippingSpeed,
    ShortText,
    Sku,
    Stars,
    TrackingNumber,
)
from shared.events.envelope import IngressPayload

_ORDERS = (topics.INGRESS_ORDERS,)
_CARRIER = (topics.INGRESS_CARRIER,)
_BUYER = (topics.INGRESS_BUYER,)
_GRANTED = frozenset({ClaimOutcome.GRANTED_SELLER_FUNDED, ClaimOutcome.GRANTED_MARKETPLACE_FUNDED})
_NOT_GRANTED: list[Any] = sorted(outcome.value for outcome in set(ClaimOutcome) - _GRANTED)


class IngressAddress(Address):
    """A ship-to address as a storefront sends it: unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class IngressOrderLine(IngressModel):
    """One line of a storefront order: a listing id or a seller SKU (or both), a quantity, a price."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["listing_id"], "properties": {"listing_id": {"not": {"type": "null"}}}},
        {"required": ["sku"], "properties": {"sku": {"not": {"type": "null"}}}},
    ]})

    listing_id: Identifier | None = Field(default=None, description="The listing bought, if known.")
    sku: Sku | None = Field(default=None, description="The seller SKU bought.")
    quantity: Quantity = Field(description="Units bought, at least 1.")
    unit_price: Money = Field(description="Price of one unit.")

    @model_validator(mode="after")
    def _names_what_was_bought(self) -> Self:
        if self.listing_id is None and self.sku is None:
            raise ValueError("a line needs a listing_id or a sku")
        return self


class CheckoutOrderPlaced(IngressPayload):
    """A buyer placed an order at a storefront or checkout. Every line's `unit_price.currency` must be the
    order's `currency` (a rule this schema cannot state)."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.checkout.order_placed.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _ORDERS

    order_id: Identifier = Field(description="The storefront's order id, unique per seller.")
    buyer_id: Identifier = Field(description="Opaque buyer id.")
    lines: list[IngressOrderLine] = Field(min_length=1, max_length=100, description="1 to 100 lines.")
    currency: CurrencyCode = Field(description="ISO 4217 currency of every price in the order.")
    purchased_at: BusinessTime = Field(description="Purchase time: the order date of every metric.")
    ship_to: IngressAddress = Field(description="Where to ship: buyer personal data.")
    shipping_speed: ShippingSpeed = Field(description="Shipping speed the buyer chose.")
    fulfillment_channel: FulfillmentChannel = Field(description="Who ships: the seller or the marketplace.")

    @model_validator(mode="after")
    def _one_currency(self) -> Self:
        if any(line.unit_price.currency != self.currency for line in self.lines):
            raise ValueError("every line's unit_price.currency must be the order currency")
        return self


class CheckoutCancellationRequested(IngressPayload):
    """The buyer asked to cancel an order before it ships."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.checkout.cancellation_requested.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _ORDERS

    order_id: Identifier = Field(description="The order to cancel.")
    buyer_id: Identifier = Field(description="Opaque buyer id.")
    requested_at: BusinessTime = Field(description="When the buyer asked.")
    reason: ShortText | None = Field(default=None, description="The buyer's reason, if given.")


class CarrierScanRecorded(IngressPayload):
    """A carrier scanned a parcel."""

    model_config = ConfigDict(json_schema_extra={
        "if": {"required": ["status"], "properties": {"status": {"const": ScanStatus.DELIVERED.value}}},
        "then": {"required": ["scanned_at"], "properties": {"scanned_at": {"not": {"type": "null"}}}},
    })

    EVENT_TYPE: ClassVar[str] = "sellerflow.carrier.scan_recorded.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _CARRIER

    carrier: Carrier = Field(description="The carrier that scanned.")
    tracking_number: TrackingNumber = Field(description="Tracking number of the parcel, 6-40 letters/digits.")
    status: ScanStatus = Field(description="What the scan says.")
    scanned_at: BusinessTime | None = Field(
        default=None, description="When the scan happened; required for `delivered` (the delivery time)."
    )
    location: ShortText | None = Field(default=None, description="Carrier facility or city of the scan.")
    detail: ShortText | None = Field(default=None, description="Carrier's note, e.g. the exception code.")

    @model_validator(mode="after")
    def _delivery_has_a_time(self) -> Self:
        if self.status is ScanStatus.DELIVERED and self.scanned_at is None:
            raise ValueError("a delivered scan must carry scanned_at")
        return self


class BuyerMessageSent(IngressPayload):
    """A buyer sent the seller a message."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.buyer.message_sent.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _BUYER

    message_id: Identifier = Field(description="Unique message id.")
    order_id: Identifier | None = Field(default=None, description="The order it is about, if any.")
    buyer_id: Identifier = Field(description="Opaque buyer id.")
    sent_at: BusinessTime = Field(description="When the buyer sent it: starts the 24-hour reply clock.")
    needs_reply: bool = Field(default=True, description="False when the buyer marked it no-reply-needed.")
    subject: ShortText | None = Field(default=None, description="Subject line.")
    body: LongText = Field(description="Message text, up to 4000 characters.")


class BuyerReturnRequested(IngressPayload):
    """A buyer asked to return an order."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.buyer.return_requested.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _BUYER

    return_id: Identifier = Field(description="Unique return id.")
    order_id: Identifier = Field(description="The order to return.")
    buyer_id: Identifier = Field(description="Opaque buyer id.")
    requested_at: BusinessTime = Field(description="When the buyer asked: starts the 48-hour answer clock.")
    reason: ReturnReason = Field(description="Why the buyer returns it.")
    comment: ShortText | None = Field(default=None, description="The buyer's words.")


class BuyerFeedbackLeft(IngressPayload):
    """A buyer rated the seller for an order (one feedback per order)."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.buyer.feedback_left.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _BUYER

    feedback_id: Identifier = Field(description="Unique feedback id.")
    order_id: Identifier = Field(description="The order rated.")
    buyer_id: Identifier = Field(description="Opaque buyer id.")
    stars: Stars = Field(description="1 to 5 stars; 1-2 is negative.")
    comment: ShortText | None = Field(default=None, description="The buyer's words.")
    left_at: BusinessTime = Field(description="When the feedback was left.")


class BuyerFeedbackRemoved(IngressPayload):
    """Feedback was removed (by the buyer or the marketplace) and no longer counts."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.buyer.feedback_removed.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _BUYER

    feedback_id: Identifier = Field(description="The feedback removed.")
    order_id: Identifier = Field(description="Its order.")
    removed_at: BusinessTime = Field(description="When it was removed.")
    reason: ShortText | None = Field(default=None, description="Why, e.g. a product review, not feedback.")


class BuyerReviewPosted(IngressPayload):
    """A buyer reviewed a product (never counts in seller metrics)."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.buyer.review_posted.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _BUYER

    review_id: Identifier = Field(description="Unique review id.")
    listing_id: Identifier = Field(description="The listing reviewed.")
    order_id: Identifier | None = Field(default=None, description="The order, for a verified purchase.")
    stars: Stars = Field(description="1 to 5 stars.")
    title: ShortText | None = Field(default=None, description="Review title.")
    body: LongText | None = Field(default=None, description="Review text.")
    posted_at: BusinessTime = Field(description="When it was posted.")


class BuyerClaimFiled(IngressPayload):
    """A buyer filed an A-to-z guarantee claim."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.buyer.claim_filed.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _BUYER

    claim_id: Identifier = Field(description="Unique claim id.")
    order_id: Identifier = Field(description="The order claimed.")
    buyer_id: Identifier = Field(description="Opaque buyer id.")
    reason: ClaimReason = Field(description="What the buyer claims.")
    amount: Money = Field(description="Amount claimed.")
    filed_at: BusinessTime = Field(description="When the claim was filed.")


class BuyerClaimWithdrawn(IngressPayload):
    """The buyer withdrew an A-to-z claim."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.buyer.claim_withdrawn.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _BUYER

    claim_id: Identifier = Field(description="The claim withdrawn.")
    order_id: Identifier = Field(description="Its order.")
    withdrawn_at: BusinessTime = Field(description="When it was withdrawn.")


class AtozClaimDecided(IngressPayload):
    """The A-to-z team or its rules decided a claim, or reversed a decision on appeal."""

    model_config = ConfigDict(json_schema_extra={
        "if": {"required": ["outcome"], "properties": {"outcome": {"enum": _NOT_GRANTED}}},
        "then": {"properties": {"refund": {"type": "null"}}},
    })

    EVENT_TYPE: ClassVar[str] = "sellerflow.atoz.claim_decided.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _BUYER

    claim_id: Identifier = Field(description="The claim decided.")
    order_id: Identifier = Field(description="Its order.")
    outcome: ClaimOutcome = Field(description="Granted (seller- or marketplace-funded), denied or withdrawn.")
    decided_at: BusinessTime = Field(description="When it was decided.")
    reverses_earlier_decision: bool = Field(
        default=False, description="True for an appeal's decision that replaces an earlier one."
    )
    refund: Money | None = Field(default=None, description="Amount refunded to the buyer, if granted.")
    reason: ShortText | None = Field(default=None, description="Why.")

    @model_validator(mode="after")
    def _refund_only_when_granted(self) -> Self:
        if self.refund is not None and self.outcome not in _GRANTED:
            raise ValueError("only a granted claim carries a refund")
        return self


class BankChargebackFiled(IngressPayload):
    """A buyer's bank filed a chargeback against an order."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.bank.chargeback_filed.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _BUYER

    chargeback_id: Identifier = Field(description="Unique chargeback id.")
    order_id: Identifier = Field(description="The order charged back.")
    reason: ChargebackReason = Field(description="Service (not received, not as described) or fraud.")
    amount: Money = Field(description="Amount charged back.")
    filed_at: BusinessTime = Field(description="When it was filed.")


class BankChargebackDecided(IngressPayload):
    """The bank decided a chargeback."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.bank.chargeback_decided.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _BUYER

    chargeback_id: Identifier = Field(description="The chargeback decided.")
    order_id: Identifier = Field(description="Its order.")
    outcome: ChargebackOutcome = Field(description="Whether the seller won or lost.")
    decided_at: BusinessTime = Field(description="When it was decided.")
