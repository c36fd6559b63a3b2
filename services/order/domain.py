"""The order aggregate: one table of allowed status changes, and domain methods that return the
events they cause (domain.md section 3).

Pure: no I/O and no clock, every time is passed in. A refused step raises before it changes
anything: `OrderTransitionRefused` when the status forbids it, `OrderError` for any other rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import TypedDict

from services.order.promises import DEFAULT_POLICY, OrderPolicy, auto_cancel_deadline, pii_erasure_due
from shared.events.common import CancelledBy, FulfillmentChannel, OrderStatus, ShippingSpeed
from shared.events.order import ErasureTrigger, OrderRejection

_S = OrderStatus

#: The one table of allowed status changes. Partially shipped -> partially shipped is a further
#: partial shipment. Nothing returns to pending; delivered, cancelled and rejected are final.
#: Cancellation is only possible while unshipped: a pending order waits for its reservation, and
#: after a shipment a refund is a refund, not a cancellation.
ALLOWED_TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = MappingProxyType(
    {
        _S.PENDING: frozenset({_S.UNSHIPPED, _S.REJECTED}),
        _S.UNSHIPPED: frozenset({_S.PARTIALLY_SHIPPED, _S.SHIPPED, _S.CANCELLED}),
        _S.PARTIALLY_SHIPPED: frozenset({_S.PARTIALLY_SHIPPED, _S.SHIPPED}),
        _S.SHIPPED: frozenset({_S.DELIVERED}),
        _S.DELIVERED: frozenset(),
        _S.CANCELLED: frozenset(),
        _S.REJECTED: frozenset(),
    }
)
CLOSED: frozenset[OrderStatus] = frozenset({_S.DELIVERED, _S.CANCELLED, _S.REJECTED})
_BUYER_REQUEST_ALLOWED = frozenset({_S.PENDING, _S.UNSHIPPED})  # "before shipment"
_ERASURE_TRIGGERS = {
    _S.DELIVERED: ErasureTrigger.DELIVERED,
    _S.CANCELLED: ErasureTrigger.CANCELLED,
    _S.REJECTED: ErasureTrigger.REJECTED,
}


class OrderError(Exception):
    """A domain rule refused the step: bad input, a deadline not reached, too many units."""


class OrderTransitionRefused(OrderError):
    """The order's status does not allow the step."""

    def __init__(self, action: str, status: OrderStatus, target: OrderStatus | None = None) -> None:
        self.action, self.status, self.target = action, status, target
        into = f" (to {target})" if target is not None else ""
        super().__init__(f"{action} refused: the order is {status}{into}")


class _Ids(TypedDict):
    order_id: str
    seller_id: str
    at: datetime


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
    old_status: OrderStatus
    new_status: OrderStatus


@dataclass(frozen=True, kw_only=True)
class OrderPiiErased(OrderEvent):
    trigger: ErasureTrigger  # what started the retention clock


@dataclass(frozen=True)
class OrderLine:
    sku: str  # the seller SKU: unique within an order, the key of shipments
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class ShipTo:
    name: str | None
    lines: tuple[str, ...]
    city: str
    region: str | None
    postal_code: str | None
    country: str
    phone: str | None = None

    def erased(self) -> ShipTo:
        # Section 8: keep city, region and country for reporting, nothing that finds the buyer.
        return replace(self, name=None, lines=(), postal_code=None, phone=None)


@dataclass
class Order:
    id: str
    seller_id: str
    buyer_id: str
    lines: tuple[OrderLine, ...]
    currency: str
    purchased_at: datetime
    ship_to: ShipTo
    shipping_speed: ShippingSpeed
    channel: FulfillmentChannel
    status: OrderStatus = OrderStatus.PENDING
    ship_by: datetime | None = None
    deliver_by: datetime | None = None
    shipped: dict[str, int] = field(default_factory=dict)  # sku -> units shipped so far
    shipments: dict[str, datetime | None] = field(default_factory=dict)  # shipment id -> delivered at
    last_shipped_at: datetime | None = None
    cancellation_requested_at: datetime | None = None  # a buyer's request, still open
    cancellation_request_reason: str | None = None
    cancelled_by: CancelledBy | None = None
    cancel_reason: str | None = None
    rejection_reason: OrderRejection | None = None
    rejection_detail: str | None = None
    delivered_at: datetime | None = None
    closed_at: datetime | None = None  # entered delivered, cancelled or rejected
    pii_erased_at: datetime | None = None

    @classmethod
    def place(
        cls,
        *,
        id: str,
        seller_id: str,
        buyer_id: str,
        lines: Sequence[OrderLine],
        currency: str,
        purchased_at: datetime,
        ship_to: ShipTo,
        shipping_speed: ShippingSpeed,
        channel: FulfillmentChannel,
    ) -> tuple[Order, list[OrderEvent]]:
        """A new order is pending; a malformed one is recorded and rejected at once (section 3)."""
        order = cls(
            id=id,
            seller_id=seller_id,
            buyer_id=buyer_id,
            lines=tuple(lines),
            currency=currency,
            purchased_at=purchased_at,
            ship_to=ship_to,
            shipping_speed=shipping_speed,
            channel=channel,
        )
        events: list[OrderEvent] = [
            OrderPlaced(
                **order._ids(purchased_at), buyer_id=buyer_id, channel=channel, shipping_speed=shipping_speed
            )
        ]
        problems = _malformations(order.lines)
        if problems:
            events += order.reject(OrderRejection.MALFORMED, at=purchased_at, detail="; ".join(problems))
        return order, events

    @property
    def ordered(self) -> dict[str, int]:
        return {line.sku: line.quantity for line in self.lines}

    @property
    def outstanding(self) -> dict[str, int]:
        """Units still to ship, per sku."""
        return {sku: qty - self.shipped.get(sku, 0) for sku, qty in self.ordered.items()}

    def confirm(self, ship_by: datetime, deliver_by: datetime, *, at: datetime) -> list[OrderEvent]:
        """Stock is reserved: the order is unshipped and carries its promises."""
        self._require("confirm", _S.UNSHIPPED)
        if not self.purchased_at <= ship_by <= deliver_by:
            raise OrderError("promises out of order: need purchased_at <= ship_by <= deliver_by")
        self.ship_by, self.deliver_by = ship_by, deliver_by
        confirmed = OrderConfirmed(**self._ids(at), ship_by=ship_by, deliver_by=deliver_by)
        return [confirmed, *self._move(_S.UNSHIPPED, at)]

    def reject(self, reason: OrderRejection, *, at: datetime, detail: str | None = None) -> list[OrderEvent]:
        """Seller not active, listing inactive or unknown, stock short, or malformed."""
        self._require("reject", _S.REJECTED)
        self.rejection_reason, self.rejection_detail = reason, detail
        rejected = OrderRejected(**self._ids(at), reason=reason, detail=detail)
        return [rejected, *self._move(_S.REJECTED, at)]

    def cancel_by_seller(self, reason: str, at: datetime) -> list[OrderEvent]:
        """Counted against the seller (pre-fulfillment cancel rate)."""
        self._require("cancel_by_seller", _S.CANCELLED)
        return self._cancel(CancelledBy.SELLER, _required(reason, "a seller cancellation needs a reason"), at)

    def request_cancellation(self, at: datetime, reason: str | None = None) -> list[OrderEvent]:
        """The buyer asks; the seller then accepts or ships (shipping declines the request)."""
        if self.status not in _BUYER_REQUEST_ALLOWED:
            raise OrderTransitionRefused("request_cancellation", self.status)
        if self.cancellation_requested_at is not None:
            raise OrderError("a cancellation request is already open")
        self.cancellation_requested_at, self.cancellation_request_reason = at, reason
        return [OrderCancellationRequested(**self._ids(at), reason=reason)]

    def accept_cancellation(self, at: datetime) -> list[OrderEvent]:
        """A buyer-requested cancellation: not counted against the seller."""
        self._require("accept_cancellation", _S.CANCELLED)
        if self.cancellation_requested_at is None:
            raise OrderError("no open cancellation request to accept")
        reason = self.cancellation_request_reason or "requested by the buyer"
        return self._cancel(CancelledBy.BUYER, reason, at)

    def auto_cancel_due(self, now: datetime, policy: OrderPolicy = DEFAULT_POLICY) -> bool:
        if self.status is not _S.UNSHIPPED or self.ship_by is None:
            return False
        return now > auto_cancel_deadline(self.ship_by, policy)

    def auto_cancel(self, now: datetime, policy: OrderPolicy = DEFAULT_POLICY) -> list[OrderEvent]:
        """Nothing shipped by ship-by + the grace: the system cancels, counted as the seller's."""
        self._require("auto_cancel", _S.CANCELLED)
        if not self.auto_cancel_due(now, policy):
            raise OrderError("auto-cancel is not due: unshipped orders only, after ship-by + the grace")
        return self._cancel(CancelledBy.SYSTEM, "not shipped by the ship-by date plus the grace period", now)

    def record_shipment(
        self, lines: Mapping[str, int], at: datetime, *, shipment_id: str
    ) -> list[OrderEvent]:
        """Units leave: partially shipped or shipped. Never more than ordered."""
        if not ALLOWED_TRANSITIONS[self.status] & {_S.PARTIALLY_SHIPPED, _S.SHIPPED}:
            raise OrderTransitionRefused("record_shipment", self.status, _S.SHIPPED)
        if shipment_id in self.shipments:
            raise OrderError(f"shipment {shipment_id} is already recorded")
        if at < self.purchased_at:
            raise OrderError("a shipment before the purchase")
        _check_shipment_lines(lines, self.outstanding)
        for sku, qty in lines.items():
            self.shipped[sku] = self.shipped.get(sku, 0) + qty
        self.shipments[shipment_id] = None
        self.last_shipped_at = max(at, self.last_shipped_at or at)
        self.cancellation_requested_at = self.cancellation_request_reason = None  # declined by shipping
        done = not any(self.outstanding.values())
        return self._move(_S.SHIPPED if done else _S.PARTIALLY_SHIPPED, at)

    def record_delivery(self, shipment_id: str, at: datetime) -> list[OrderEvent]:
        """One shipment arrived; the order is delivered once everything shipped has arrived."""
        if shipment_id not in self.shipments:
            raise OrderError(f"unknown shipment {shipment_id}")
        if self.shipments[shipment_id] is not None:
            raise OrderError(f"shipment {shipment_id} is already delivered")
        self.shipments[shipment_id] = at
        arrivals = [d for d in self.shipments.values() if d is not None]
        if self.status is _S.SHIPPED and len(arrivals) == len(self.shipments):
            return self.deliver(max(arrivals))  # the last arrival, whatever order they were processed in
        return []

    def deliver(self, at: datetime) -> list[OrderEvent]:
        """Everything shipped has arrived: delivered (any shipment still open arrived at `at`)."""
        self._require("deliver", _S.DELIVERED)
        if self.last_shipped_at is not None and at < self.last_shipped_at:
            raise OrderError("a delivery before the shipment")
        self.shipments = {sid: at if d is None else d for sid, d in self.shipments.items()}
        self.delivered_at = at
        return self._move(_S.DELIVERED, at)

    def erasure_due(self, now: datetime, policy: OrderPolicy = DEFAULT_POLICY) -> bool:
        if self.pii_erased_at is not None or self.closed_at is None:
            return False
        return now >= pii_erasure_due(self.closed_at, policy)

    def erase_pii(self, now: datetime, policy: OrderPolicy = DEFAULT_POLICY) -> list[OrderEvent]:
        """Retention over: the ship-to keeps only city, region and country (section 8)."""
        if self.status not in CLOSED or self.closed_at is None:
            raise OrderTransitionRefused("erase_pii", self.status)
        if self.pii_erased_at is not None:
            raise OrderError("personal data already erased")
        if not self.erasure_due(now, policy):
            raise OrderError(f"erasure is not due before {pii_erasure_due(self.closed_at, policy)}")
        self.ship_to, self.pii_erased_at = self.ship_to.erased(), now
        return [OrderPiiErased(**self._ids(now), trigger=_ERASURE_TRIGGERS[self.status])]

    def _cancel(self, by: CancelledBy, reason: str, at: datetime) -> list[OrderEvent]:
        self.cancelled_by, self.cancel_reason = by, reason
        self.cancellation_requested_at = self.cancellation_request_reason = None
        return [OrderCancelled(**self._ids(at), by=by, reason=reason), *self._move(_S.CANCELLED, at)]

    def _require(self, action: str, target: OrderStatus) -> None:
        if target not in ALLOWED_TRANSITIONS[self.status]:
            raise OrderTransitionRefused(action, self.status, target)

    def _move(self, target: OrderStatus, at: datetime) -> list[OrderEvent]:
        self._require("move", target)  # every status change passes the table, whatever the caller
        before, self.status = self.status, target
        if target in CLOSED:
            self.closed_at = at
        if before is target:
            return []
        return [OrderStatusChanged(**self._ids(at), old_status=before, new_status=target)]

    def _ids(self, at: datetime) -> _Ids:
        return _Ids(order_id=self.id, seller_id=self.seller_id, at=at)


def _required(text: str, message: str) -> str:
    if not text or not text.strip():
        raise OrderError(message)
    return text.strip()


def _malformations(lines: Sequence[OrderLine]) -> list[str]:
    problems = [] if lines else ["no lines"]
    skus = [line.sku for line in lines]
    problems += [f"sku {sku} appears twice" for sku in sorted(set(skus)) if skus.count(sku) > 1]
    problems += [f"sku {line.sku}: quantity must be positive" for line in lines if line.quantity <= 0]
    problems += [f"sku {line.sku}: negative price" for line in lines if line.unit_price < 0]
    return problems


def _check_shipment_lines(lines: Mapping[str, int], outstanding: Mapping[str, int]) -> None:
    if not lines:
        raise OrderError("a shipment needs at least one line")
    for sku, qty in lines.items():
        if sku not in outstanding:
            raise OrderError(f"sku {sku} is not in the order")
        if qty <= 0:
            raise OrderError(f"sku {sku}: shipped quantity must be positive")
        if qty > outstanding[sku]:
            raise OrderError(f"sku {sku}: {qty} shipped but only {outstanding[sku]} left to ship")
