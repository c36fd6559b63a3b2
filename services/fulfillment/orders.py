"""An order as the fulfillment service knows it: built from `order.confirmed` (never from the order
schema), then followed through its shipments, its ship-by and the erasure of its address.

Pure: no I/O and no clock. Refused steps raise `ShipmentError` (or `NotShippable`, when the order
as a whole cannot ship) before changing anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from services.fulfillment.domain import (
    DEFAULT_FULFILLMENT_POLICY,
    FulfillmentPolicy,
    ShipmentError,
    marketplace_ship_time,
)
from services.fulfillment.domain_events import FulfillmentOverdue
from shared.events.common import FulfillmentChannel
from shared.pii import PostalAddress


class NotShippable(ShipmentError):
    """The order cannot take a shipment now: cancelled, or shipped by the marketplace."""


@dataclass(frozen=True)
class OrderLine:
    listing_id: str
    sku: str
    quantity: int


Address = PostalAddress  # the buyer's address as fulfillment keeps it


@dataclass
class OrderToShip:
    seller_id: str
    order_id: str
    channel: FulfillmentChannel
    purchased_at: datetime
    confirmed_at: datetime
    ship_by: datetime
    deliver_by: datetime
    lines: tuple[OrderLine, ...]
    ship_to: Address | None = None  # merchant-fulfilled only: the marketplace's warehouse has its own
    shipped: dict[str, int] = field(default_factory=dict)  # sku -> units shipped so far
    shipments: int = 0
    cancelled_at: datetime | None = None
    overdue_reported_at: datetime | None = None
    address_erased_at: datetime | None = None

    @property
    def outstanding(self) -> dict[str, int]:
        return {line.sku: line.quantity - self.shipped.get(line.sku, 0) for line in self.lines}

    @property
    def anything_shipped(self) -> bool:
        return any(self.shipped.values())

    @property
    def open(self) -> bool:
        return self.cancelled_at is None and any(self.outstanding.values())

    def sku_of(self, listing_id: str) -> str:
        for line in self.lines:
            if line.listing_id == listing_id:
                return line.sku
        raise ShipmentError(f"listing {listing_id} is not in the order")

    def listing_of(self, sku: str) -> str:
        for line in self.lines:
            if line.sku == sku:
                return line.listing_id
        raise ShipmentError(f"sku {sku} is not in the order")

    def ship(self, lines: Mapping[str, int], at: datetime, *, by_seller: bool = True) -> None:
        """Units leave: never more than ordered, never from a cancelled order. A seller may not
        ship what the marketplace's warehouse ships."""
        if self.cancelled_at is not None:
            raise NotShippable(f"order {self.order_id} is cancelled")
        if by_seller and self.channel is FulfillmentChannel.MARKETPLACE:
            raise NotShippable(f"order {self.order_id} is marketplace-fulfilled: the marketplace ships it")
        if at < self.purchased_at:
            raise ShipmentError("a shipment before the purchase")
        check_shipment_lines(lines, ordered={line.sku: line.quantity for line in self.lines},
                             already_shipped=self.shipped)
        for sku, qty in lines.items():
            self.shipped[sku] = self.shipped.get(sku, 0) + qty
        self.shipments += 1

    def marketplace_ship_at(self, policy: FulfillmentPolicy = DEFAULT_FULFILLMENT_POLICY) -> datetime | None:
        """When the warehouse ships this order, while it still has to."""
        if self.channel is not FulfillmentChannel.MARKETPLACE or not self.open or self.anything_shipped:
            return None
        return marketplace_ship_time(self.confirmed_at, policy)

    def overdue_at(self) -> datetime | None:
        """The ship-by to watch, while nothing has shipped and the overdue is not reported."""
        if self.cancelled_at is not None or self.anything_shipped or self.overdue_reported_at is not None:
            return None
        return self.ship_by

    def report_overdue(self, now: datetime) -> list[FulfillmentOverdue]:
        """Ship-by has passed with nothing shipped: reported once, timed at the ship-by that passed."""
        if not is_overdue(ship_by=self.ship_by, anything_shipped=self.anything_shipped, now=now) \
                or self.cancelled_at is not None or self.overdue_reported_at is not None:
            return []
        self.overdue_reported_at = now
        return [FulfillmentOverdue(order_id=self.order_id, seller_id=self.seller_id, at=self.ship_by)]

    def cancel(self, at: datetime) -> None:
        """The order service cancelled it: nothing more ships, nothing is overdue."""
        if self.cancelled_at is None:
            self.cancelled_at = at

    def erase_address(self, at: datetime) -> None:
        """Follows the order service's `order.pii_erased`, which decides when (section 8)."""
        if self.address_erased_at is not None:
            raise ShipmentError(f"the address of order {self.order_id} is already erased")
        self.ship_to = self.ship_to.erased() if self.ship_to is not None else None
        self.address_erased_at = at


def is_overdue(*, ship_by: datetime, anything_shipped: bool, now: datetime) -> bool:
    """Ship-by has passed with nothing shipped: `fulfillment.overdue` (once, the caller keeps that)."""
    return not anything_shipped and now > ship_by


def check_shipment_lines(
    lines: Mapping[str, int], *, ordered: Mapping[str, int], already_shipped: Mapping[str, int]
) -> None:
    """Refuse a shipment of unknown skus or of more units than are left to ship."""
    if not lines:
        raise ShipmentError("a shipment needs at least one line")
    for sku, qty in lines.items():
        if qty <= 0:
            raise ShipmentError(f"sku {sku}: shipped quantity must be positive")
        left = ordered.get(sku, 0) - already_shipped.get(sku, 0)
        if sku not in ordered or qty > left:
            raise ShipmentError(f"sku {sku}: {qty} shipped but {max(left, 0)} left to ship")
