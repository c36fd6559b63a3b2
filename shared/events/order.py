"""Order lifecycle events, produced by the order service on `order.events` (domain.md section 3).

Buyer personal data travels only sealed with the order's data key (shared.crypto, domain.md section 8):
`order.confirmed.ship_to_sealed` (name, street lines, postal code, phone; city, region and country in
the clear) and the buyer's free-text cancellation reason (`buyer_reason`). The key stays in the order
service's schema and `order.pii_erased` destroys it: what this topic keeps can no longer be read.
`order.placed` carries the destination country only. The clear `ship_to` and `reason` of events
published before sealing are still read, never written.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import ClassVar, Self

from pydantic import Field, model_validator

from shared.crypto import Sealed
from shared.events import topics
from shared.events.common import (
    Address,
    CancelledBy,
    CountryCode,
    CurrencyCode,
    FulfillmentChannel,
    Identifier,
    Model,
    Money,
    Name,
    OrderStatus,
    Quantity,
    ShippingSpeed,
    ShortText,
    Sku,
    UtcDatetime,
)
from shared.events.envelope import Payload

_ORDER = (topics.ORDER_EVENTS,)


class OrderFacts(Payload):
    """What every event about an order carries, so a consumer can attribute it by order date and channel."""

    order_id: Identifier = Field(description="The order.")
    purchased_at: UtcDatetime = Field(description="Purchase time: the order date metrics attribute by.")
    fulfillment_channel: FulfillmentChannel = Field(
        description="Who ships; marketplace-fulfilled orders are left out of the shipping metrics."
    )


class OrderRejection(StrEnum):
    SELLER_NOT_ACTIVE = "seller_not_active"
    LISTING_INACTIVE = "listing_inactive"
    OUT_OF_STOCK = "out_of_stock"
    UNKNOWN_LISTING = "unknown_listing"
    MALFORMED = "malformed"


class ErasureTrigger(StrEnum):
    DELIVERED = "delivered"  # 30 days after delivery
    CANCELLED = "cancelled"  # 30 days after cancellation
    REJECTED = "rejected"  # 30 days after rejection
    NOT_DELIVERED = "not_delivered"  # 30 days after the last carrier event of a parcel lost or returned to sender


class SealedShipTo(Model):
    """Where an order ships: city, region and country in the clear, the buyer's part sealed."""

    city: Name = Field(description="City; kept after personal data is erased.")
    region: Name | None = Field(default=None, description="State, province or region; kept after erasure.")
    country: CountryCode = Field(description="ISO 3166-1 alpha-2 country; kept after erasure.")
    buyer: Sealed = Field(description="Name, street lines, postal code and phone (JSON), sealed with the "
                          "order's data key: unreadable once the order's personal data is erased.")


class PlacedLine(Model):
    """A line as the storefront sent it: a listing id or a SKU (or both)."""

    listing_id: Identifier | None = Field(default=None, description="The listing bought, if known.")
    sku: Sku | None = Field(default=None, description="The seller SKU bought.")
    quantity: Quantity = Field(description="Units bought, at least 1.")
    unit_price: Money = Field(description="Price of one unit.")


class ConfirmedLine(Model):
    """A line with its listing resolved and reserved."""

    listing_id: Identifier = Field(description="The listing bought.")
    sku: Sku = Field(description="Its SKU.")
    quantity: Quantity = Field(description="Units bought, at least 1.")
    unit_price: Money = Field(description="Price of one unit.")


def _check_currency(currency: str, amounts: Iterable[Money]) -> None:
    if any(money.currency != currency for money in amounts):
        raise ValueError("every amount must be in the order currency")


class OrderPlaced(OrderFacts):
    """An order was accepted from ingress; it is pending until stock is reserved."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.order.placed.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _ORDER

    buyer_id: Identifier = Field(description="Opaque buyer id.")
    lines: list[PlacedLine] = Field(min_length=1, max_length=100, description="1 to 100 lines.")
    currency: CurrencyCode = Field(description="ISO 4217 currency of every amount.")
    total: Money = Field(description="Sum of quantity x unit price over the lines.")
    shipping_speed: ShippingSpeed = Field(description="Shipping speed the buyer chose.")
    ship_to_country: CountryCode = Field(description="Destination country (no other address data).")

    @model_validator(mode="after")
    def _one_currency(self) -> Self:
        _check_currency(self.currency, [self.total, *(line.unit_price for line in self.lines)])
        return self


class OrderConfirmed(OrderFacts):
    """Stock is reserved: the order is unshipped, with its ship-by and deliver-by."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.order.confirmed.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _ORDER

    shipping_speed: ShippingSpeed = Field(description="Shipping speed the buyer chose.")
    lines: list[ConfirmedLine] = Field(min_length=1, max_length=100, description="1 to 100 lines.")
    currency: CurrencyCode = Field(description="ISO 4217 currency of every amount.")
    total: Money = Field(description="Sum of quantity x unit price over the lines: the order's sales.")
    ship_by: UtcDatetime = Field(description="Latest time to confirm shipment.")
    deliver_by: UtcDatetime = Field(description="Latest promised delivery.")
    ship_to: Address | None = Field(
        default=None, description="Deprecated, never written now: the clear address of events published "
        "before buyer data was sealed."
    )
    ship_to_sealed: SealedShipTo | None = Field(
        default=None, description="Where to ship (merchant-fulfilled orders), the buyer's part sealed."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _check_currency(self.currency, [self.total, *(line.unit_price for line in self.lines)])
        if not self.purchased_at <= self.ship_by <= self.deliver_by:
            raise ValueError("purchased_at <= ship_by <= deliver_by must hold")
        return self


class OrderRejected(OrderFacts):
    """The order was refused: seller not active, listing inactive, stock short or malformed."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.order.rejected.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _ORDER

    reason: OrderRejection = Field(description="Why it was refused.")
    detail: ShortText | None = Field(default=None, description="Human-readable detail.")


class OrderCancellationRequested(OrderFacts):
    """The buyer asked to cancel; the seller accepts (a buyer cancellation) or ships."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.order.cancellation_requested.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _ORDER

    requested_at: UtcDatetime = Field(description="When the buyer asked.")
    reason: ShortText | None = Field(
        default=None, description="Deprecated, never written now: the clear reason of events published before "
        "buyer data was sealed."
    )
    buyer_reason: Sealed | None = Field(
        default=None, description="The buyer's free-text reason, if given, sealed with the order's data key."
    )


class OrderCancelled(OrderFacts):
    """The order was cancelled."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.order.cancelled.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _ORDER

    by: CancelledBy = Field(
        description="buyer: the seller accepted the buyer's request (not counted against the seller); "
        "seller: the seller cancelled; system: not confirmed in time (counted as a seller cancellation)."
    )
    reason: ShortText = Field(
        description="Why it was cancelled; for a buyer cancellation always `requested by the buyer`: the "
        "buyer's own words travel sealed in `buyer_reason`."
    )
    buyer_reason: Sealed | None = Field(
        default=None, description="The buyer's free-text reason, if given, sealed with the order's data key."
    )
    before_shipment: bool = Field(description="True when nothing had shipped.")
    cancelled_at: UtcDatetime = Field(description="When it was cancelled.")

    @model_validator(mode="after")
    def _not_before_purchase(self) -> Self:
        if self.cancelled_at < self.purchased_at:
            raise ValueError("cancelled_at is before purchased_at")
        return self


class OrderStatusChanged(OrderFacts):
    """The order's status changed."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.order.status_changed.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _ORDER

    old_status: OrderStatus | None = Field(description="Status before; null for a new order.")
    new_status: OrderStatus = Field(description="Status after.")

    @model_validator(mode="after")
    def _is_a_change(self) -> Self:
        if self.old_status == self.new_status:
            raise ValueError("old_status and new_status are the same")
        return self


class OrderPiiErased(Payload):
    """The buyer's name, address, phone and free texts of an order were erased, and the order's data key
    destroyed (what was sealed with it is unreadable); city, region and country are kept."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.order.pii_erased.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _ORDER

    order_id: Identifier = Field(description="The order.")
    trigger: ErasureTrigger = Field(description="What started the 30-day clock.")
