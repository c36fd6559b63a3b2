"""What the order aggregate says happened: plain dataclasses returned by its domain methods.

These are domain facts, not wire messages: `service.py` turns each into its `shared.events.order`
payload (same names; import that module qualified, as `wire`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.events.common import CancelledBy, FulfillmentChannel, OrderStatus, ShippingSpeed
from shared.events.order import ErasureTrigger, OrderRejection


@dataclass(frozen=True, kw_only=True)
class OrderEvent:
    order_id: str
    seller_id: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class OrderPlaced(OrderEvent):
    buyer_id: str
    channel: FulfillmentChannel
    shipping_speed: ShippingSpeed


@dataclass(frozen=True, kw_only=True)
class OrderConfirmed(OrderEvent):
    ship_by: datetime
    deliver_by: datetime


@dataclass(frozen=True, kw_only=True)
class OrderRejected(OrderEvent):
    reason: OrderRejection
    detail: str | None


@dataclass(frozen=True, kw_only=True)
class OrderCancellationRequested(OrderEvent):
    reason: str | None


@dataclass(frozen=True, kw_only=True)
class OrderCancelled(OrderEvent):
    by: CancelledBy
    reason: str
    before_shipment: bool = True  # always, here: after a shipment it is a refund


@dataclass(frozen=True, kw_only=True)
class OrderStatusChanged(OrderEvent):
    old_status: OrderStatus | None  # None: the order is new
    new_status: OrderStatus


@dataclass(frozen=True, kw_only=True)
class OrderPiiErased(OrderEvent):
    trigger: ErasureTrigger  # what started the retention clock
