"""Listing and inventory events, produced by the listing service on `listing.events` (domain.md section 2)."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Self

from pydantic import Field, model_validator

from shared.events import topics
from shared.events.common import (
    Condition,
    CountryCode,
    FulfillmentChannel,
    Gtin,
    HandlingDays,
    Identifier,
    ListingStatus,
    Model,
    Money,
    Name,
    Quantity,
    ReservationFailure,
    ShortText,
    Sku,
    StockQuantity,
)
from shared.events.envelope import Payload

_LISTING = (topics.LISTING_EVENTS,)


class AdjustmentReason(StrEnum):
    """Why available stock changed outside a reservation."""

    SELLER_UPDATE = "seller_update"  # the seller set a new quantity
    SHIPMENT = "shipment"  # reserved stock left with a shipment
    RESTOCK = "restock"  # a returned item went back to stock
    CORRECTION = "correction"  # an operator's correction


class _ListingState(Payload):
    """A listing as it is after the change: what buyers see and what orders reserve."""

    listing_id: Identifier = Field(description="Unique listing id.")
    sku: Sku = Field(description="The seller's SKU.")
    product_id: Gtin = Field(description="GTIN-8/12/13/14 of the product, with a valid check digit.")
    title: ShortText = Field(description="Title, 1-200 characters.")
    brand: Name | None = Field(default=None, description="Brand.")
    condition: Condition = Field(description="Item condition.")
    price: Money = Field(description="Price of one unit; above zero.")
    quantity: StockQuantity = Field(description="Units available to buy (not reserved).")
    handling_days: HandlingDays = Field(description="Business days from purchase to shipment, 1-30.")
    fulfillment_channel: FulfillmentChannel = Field(description="Who ships it.")
    status: ListingStatus = Field(description="Active (buyable), inactive or suppressed.")

    @model_validator(mode="after")
    def _priced(self) -> Self:
        if self.price.amount <= 0:
            raise ValueError("price.amount must be above zero")
        return self


class ListingCreated(_ListingState):
    """A seller created a listing that passed the content rules."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.listing.created.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _LISTING


class ListingUpdated(_ListingState):
    """A seller changed a listing; the payload is the whole listing after the change."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.listing.updated.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _LISTING


class ListingStatusChanged(Payload):
    """A listing became active, inactive or suppressed."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.listing.status_changed.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _LISTING

    listing_id: Identifier = Field(description="The listing.")
    sku: Sku = Field(description="Its SKU.")
    fulfillment_channel: FulfillmentChannel = Field(description="Who ships it.")
    old_status: ListingStatus = Field(description="Status before.")
    new_status: ListingStatus = Field(description="Status after.")
    reasons: list[ShortText] = Field(
        default_factory=list, max_length=20, description="Why: failed rules (L1..L9), enforcement ..."
    )

    @model_validator(mode="after")
    def _is_a_change(self) -> Self:
        if self.old_status == self.new_status:
            raise ValueError("old_status and new_status are the same")
        return self


class StockLine(Model):
    """Units of one listing."""

    listing_id: Identifier = Field(description="The listing.")
    sku: Sku = Field(description="Its SKU.")
    quantity: Quantity = Field(description="Units, at least 1.")
    handling_days: HandlingDays | None = Field(
        default=None, description="The listing's handling days, on a reservation's lines: ship-by per line."
    )


class InventoryReserved(Payload):
    """Stock was reserved for every line of an order."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.inventory.reserved.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _LISTING

    order_id: Identifier = Field(description="The order the stock is held for.")
    lines: list[StockLine] = Field(
        min_length=1, max_length=100,
        description="Units reserved: line i is the order's line i, its listing resolved (by id or SKU).",
    )
    handling_days: HandlingDays = Field(description="The largest handling days of the lines: sets ship-by.")
    seller_country: CountryCode | None = Field(
        default=None, description="The seller's country: its public holidays are not business days for ship-by.")


class InventoryReservationFailed(Payload):
    """Stock could not be reserved for an order; nothing was reserved."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.inventory.reservation_failed.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _LISTING

    order_id: Identifier = Field(description="The order.")
    reason: ReservationFailure = Field(description="Out of stock, listing inactive, seller not active ...")
    listing_id: Identifier | None = Field(default=None, description="The listing that failed, if one did.")
    detail: ShortText | None = Field(default=None, description="Human-readable detail.")


class InventoryReleased(Payload):
    """Reserved stock of an order went back to available stock (cancelled or rejected order)."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.inventory.released.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _LISTING

    order_id: Identifier = Field(description="The order.")
    lines: list[StockLine] = Field(min_length=1, max_length=100, description="Units released per listing.")
    reason: ShortText = Field(description="Why, e.g. order cancelled by the buyer.")


class InventoryAdjusted(Payload):
    """Stock of a listing changed outside a reservation."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.inventory.adjusted.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _LISTING

    listing_id: Identifier = Field(description="The listing.")
    sku: Sku = Field(description="Its SKU.")
    delta: int = Field(ge=-10_000_000, le=10_000_000, description="Change of available + reserved units.")
    available: StockQuantity = Field(description="Units available after the change; never negative.")
    reserved: StockQuantity = Field(description="Units reserved after the change; never negative.")
    reason: AdjustmentReason = Field(description="Why it changed.")
    order_id: Identifier | None = Field(default=None, description="The order, for a shipment.")

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if self.delta == 0:
            raise ValueError("delta must not be zero")
        return self
