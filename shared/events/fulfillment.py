"""Shipment events, produced by the fulfillment service on `fulfillment.events` (domain.md section 4).

Every shipment event carries the order date, channel and deadlines, so the metrics service computes
late shipment, valid tracking and on-time delivery from these events alone.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Self

from pydantic import Field, model_validator

from shared.events import topics
from shared.events.common import (
    Carrier,
    Identifier,
    Model,
    Quantity,
    ScanStatus,
    ShortText,
    Sku,
    TrackingNumber,
    UtcDatetime,
)
from shared.events.order import OrderFacts

_FULFILLMENT = (topics.FULFILLMENT_EVENTS,)


class TrackingVerdict(StrEnum):
    """Why tracking is valid or invalid."""

    FIRST_SCAN = "first_scan"  # valid: the carrier scanned it
    BAD_FORMAT = "bad_format"  # invalid: the number does not match the carrier's format or check digit
    NO_SCAN = "no_scan"  # invalid: no carrier scan within 5 days of confirmation


class ShipmentLine(Model):
    listing_id: Identifier = Field(description="The listing shipped.")
    sku: Sku = Field(description="Its SKU.")
    quantity: Quantity = Field(description="Units in this shipment, at least 1.")


class _ShipmentFacts(OrderFacts):
    shipment_id: Identifier = Field(description="The shipment.")
    shipped_at: UtcDatetime = Field(description="Shipment confirmation time.")
    ship_by: UtcDatetime = Field(description="The order's latest time to confirm shipment.")
    deliver_by: UtcDatetime = Field(description="The order's latest promised delivery.")

    @model_validator(mode="after")
    def _shipped_after_purchase(self) -> Self:
        if self.shipped_at < self.purchased_at:
            raise ValueError("shipped_at is before purchased_at")
        return self


class ShipmentConfirmed(_ShipmentFacts):
    """A shipment left: confirmed by the seller, or by the marketplace's warehouse."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.shipment.confirmed.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _FULFILLMENT

    carrier: Carrier = Field(description="The carrier.")
    tracking_number: TrackingNumber = Field(description="The tracking number.")
    tracking_format_valid: bool = Field(description="Matches the carrier's format and check digit.")
    lines: list[ShipmentLine] = Field(min_length=1, max_length=100, description="What it contains.")


class ShipmentTrackingUpdated(_ShipmentFacts):
    """A carrier scan of a shipment arrived."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.shipment.tracking_updated.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _FULFILLMENT

    carrier: Carrier = Field(description="The carrier.")
    tracking_number: TrackingNumber = Field(description="The tracking number.")
    status: ScanStatus = Field(description="What the scan says.")
    scanned_at: UtcDatetime = Field(description="When the scan happened.")
    location: ShortText | None = Field(default=None, description="Carrier facility or city.")


class ShipmentTrackingValidated(_ShipmentFacts):
    """Tracking was judged: valid on its first carrier scan, invalid on a bad number or no scan in 5 days."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.shipment.tracking_validated.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _FULFILLMENT

    valid: bool = Field(description="Whether tracking is valid.")
    reason: TrackingVerdict = Field(description="Why.")
    first_scan_at: UtcDatetime | None = Field(
        default=None, description="First carrier scan: the shipment is on time if this is by ship_by."
    )

    @model_validator(mode="after")
    def _verdict_matches(self) -> Self:
        if self.valid != (self.reason is TrackingVerdict.FIRST_SCAN):
            raise ValueError("valid is true exactly when reason is first_scan")
        if self.valid and self.first_scan_at is None:
            raise ValueError("valid tracking carries first_scan_at")
        return self


class ShipmentDelivered(_ShipmentFacts):
    """The carrier delivered a shipment."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.shipment.delivered.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _FULFILLMENT

    delivered_at: UtcDatetime = Field(description="Time of the delivered scan; on time if by deliver_by.")

    @model_validator(mode="after")
    def _delivered_after_shipment(self) -> Self:
        if self.delivered_at < self.shipped_at:
            raise ValueError("delivered_at is before shipped_at")
        return self


class FulfillmentOverdue(OrderFacts):
    """Ship-by passed and nothing of the order has shipped."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.fulfillment.overdue.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _FULFILLMENT

    ship_by: UtcDatetime = Field(description="The ship-by that passed.")
    deliver_by: UtcDatetime = Field(description="The order's latest promised delivery.")
