"""The order aggregate: one table of allowed status changes, and domain methods that return the
events they cause (domain.md section 3).

Pure: no I/O and no clock, every time is passed in. A refused step raises before it changes
anything: `OrderTransitionRefused` when the status forbids it, `OrderError` for any other rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import TypedDict

from services.order.domain_events import (
    OrderCancellationRequested,
    OrderCancelled,
    OrderConfirmed,
    OrderEvent,
    OrderPiiErased,
    OrderPlaced,
    OrderRejected,
    OrderStatusChanged,
)
from services.order.lines import (
    OrderError,
    OrderLine,
    Reservation,
    ShipTo,
    check_shipment_lines,
    malformations,
    resolve,
)
from services.order.promises import DEFAULT_POLICY, OrderPolicy, auto_cancel_deadline, pii_erasure_due, promise
from shared.crypto import DataKey
from shared.events.common import CancelledBy, FulfillmentChannel, OrderStatus, ScanStatus, ShippingSpeed
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
#: A parcel whose latest carrier scan says this is never delivered (unless a later scan says otherwise).
NOT_DELIVERED_SCANS = frozenset({ScanStatus.LOST, ScanStatus.RETURNED_TO_SENDER})
#: What a buyer cancellation says on the wire; the buyer's own words travel sealed (section 8).
BUYER_CANCELLATION = "requested by the buyer"

__all__ = ["ALLOWED_TRANSITIONS", "CLOSED", "Order", "OrderError", "OrderLine", "OrderTransitionRefused",
           "Reservation", "ShipTo"]


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
    #: Seals the buyer's data on the wire; destroyed with the personal data (crypto-shredding).
    data_key: DataKey | None = field(default=None, repr=False)
    #: Shipments whose latest carrier scan is lost or returned to sender -> the time of that scan.
    lost_parcels: dict[str, datetime] = field(default_factory=dict)

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
        data_key: DataKey | None = None,
    ) -> tuple[Order, list[OrderEvent]]:
        """A new order is pending. A malformed one is recorded as rejected at once and never
        announced as placed: nothing downstream (stock, sales) should count it (section 3).
        `data_key` (new and random, from the caller: the domain draws no randomness) seals its buyer data."""
        order = cls(id=id, seller_id=seller_id, buyer_id=buyer_id, lines=tuple(lines), currency=currency,
                    purchased_at=purchased_at, ship_to=ship_to, shipping_speed=shipping_speed, channel=channel,
                    data_key=data_key)
        problems = malformations(order.lines)
        ids = order._ids(purchased_at)
        if problems:
            order.status, order.closed_at = _S.REJECTED, purchased_at
            order.rejection_reason, order.rejection_detail = OrderRejection.MALFORMED, "; ".join(problems)
            rejected = OrderRejected(**ids, reason=OrderRejection.MALFORMED, detail=order.rejection_detail)
            return order, [rejected, OrderStatusChanged(**ids, old_status=None, new_status=_S.REJECTED)]
        placed = OrderPlaced(**ids, buyer_id=buyer_id, channel=channel, shipping_speed=shipping_speed)
        return order, [placed, OrderStatusChanged(**ids, old_status=None, new_status=_S.PENDING)]

    @property
    def ordered(self) -> dict[str, int]:
        return {line.key: line.quantity for line in self.lines}

    @property
    def outstanding(self) -> dict[str, int]:
        """Units still to ship, per sku."""
        return {sku: qty - self.shipped.get(sku, 0) for sku, qty in self.ordered.items()}

    @property
    def total(self) -> Decimal:
        return sum((line.unit_price * line.quantity for line in self.lines), Decimal(0))

    def confirm(
        self, reservation: Reservation, *, at: datetime, policy: OrderPolicy = DEFAULT_POLICY
    ) -> list[OrderEvent]:
        """Stock is reserved: the order is unshipped, its lines name their SKUs, and it carries
        its promises (ship-by from the reservation's handling days, deliver-by from the speed)."""
        self._require("confirm", _S.UNSHIPPED)
        lines = resolve(self.lines, reservation.lines)
        promised = promise(self.purchased_at, [reservation.handling_days], self.shipping_speed, policy,
                           reservation.country)
        self.lines, self.ship_by, self.deliver_by = lines, promised.ship_by, promised.deliver_by
        confirmed = OrderConfirmed(**self._ids(at), ship_by=promised.ship_by, deliver_by=promised.deliver_by)
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
        """Merchant-fulfilled only: the marketplace ships its own orders, the seller cannot be late."""
        if self.status is not _S.UNSHIPPED or self.ship_by is None or self.channel is not FulfillmentChannel.MERCHANT:
            return False
        return now > auto_cancel_deadline(self.ship_by, policy)

    def auto_cancel(self, now: datetime, policy: OrderPolicy = DEFAULT_POLICY) -> list[OrderEvent]:
        """Nothing shipped by ship-by + the grace: the system cancels, counted as the seller's."""
        self._require("auto_cancel", _S.CANCELLED)
        if not self.auto_cancel_due(now, policy):
            raise OrderError("auto-cancel is not due: unshipped merchant orders only, after ship-by + the grace")
        return self._cancel(CancelledBy.SYSTEM, "not shipped by the ship-by date plus the grace period", now)

    def record_shipment(self, lines: Mapping[str, int], at: datetime, *, shipment_id: str) -> list[OrderEvent]:
        """Units leave: partially shipped or shipped. Never more than ordered."""
        if not ALLOWED_TRANSITIONS[self.status] & {_S.PARTIALLY_SHIPPED, _S.SHIPPED}:
            raise OrderTransitionRefused("record_shipment", self.status, _S.SHIPPED)
        if shipment_id in self.shipments:
            raise OrderError(f"shipment {shipment_id} is already recorded")
        if at < self.purchased_at:
            raise OrderError("a shipment before the purchase")
        check_shipment_lines(dict(lines), self.outstanding)
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
        arrivals = [d for sid, d in self.shipments.items() if d is not None and sid != shipment_id] + [at]
        events: list[OrderEvent] = []
        if self.status is _S.SHIPPED and len(arrivals) == len(self.shipments):
            events = self.deliver(max(arrivals))  # the last arrival, whatever order they were processed in
        self.shipments[shipment_id] = at
        return events

    def deliver(self, at: datetime) -> list[OrderEvent]:
        """Everything shipped has arrived: delivered (any shipment still open arrived at `at`)."""
        self._require("deliver", _S.DELIVERED)
        if self.last_shipped_at is not None and at < self.last_shipped_at:
            raise OrderError("a delivery before the shipment")
        self.shipments = {sid: at if d is None else d for sid, d in self.shipments.items()}
        self.delivered_at = at
        return self._move(_S.DELIVERED, at)

    def record_carrier_scan(self, shipment_id: str, status: ScanStatus, at: datetime) -> list[OrderEvent]:
        """A carrier scan of one of its parcels: lost or returned to sender starts the erasure clock of a
        parcel never delivered (section 8); a later scan saying otherwise stops it. Nothing is published."""
        if shipment_id not in self.shipments or self.shipments[shipment_id] is not None:
            return []  # not a parcel of this order as recorded, or delivered already: delivery decides
        if status in NOT_DELIVERED_SCANS:
            self.lost_parcels[shipment_id] = max(at, self.lost_parcels.get(shipment_id, at))
        elif at >= self.lost_parcels.get(shipment_id, at):
            self.lost_parcels.pop(shipment_id, None)
        return []

    def erasure_clock(self) -> tuple[datetime, ErasureTrigger] | None:
        """Since when the buyer's data has been kept for nothing, and why: the order closed, or every parcel
        arrived or was lost (or returned to sender) and at least one was; None while it is still needed."""
        if self.pii_erased_at is not None:
            return None
        if self.status in CLOSED and self.closed_at is not None:
            return self.closed_at, _ERASURE_TRIGGERS[self.status]
        settled = all(sid in self.lost_parcels or arrived is not None for sid, arrived in self.shipments.items())
        if self.status is _S.SHIPPED and self.lost_parcels and settled:
            arrivals = [arrived for arrived in self.shipments.values() if arrived is not None]
            return max([*self.lost_parcels.values(), *arrivals]), ErasureTrigger.NOT_DELIVERED
        return None

    def erasure_due_at(self, policy: OrderPolicy = DEFAULT_POLICY) -> datetime | None:
        clock = self.erasure_clock()
        return pii_erasure_due(clock[0], policy) if clock else None

    def erasure_due(self, now: datetime, policy: OrderPolicy = DEFAULT_POLICY) -> bool:
        due_at = self.erasure_due_at(policy)
        return due_at is not None and now >= due_at

    def erase_pii(self, now: datetime, policy: OrderPolicy = DEFAULT_POLICY) -> list[OrderEvent]:
        """Retention over: the ship-to keeps only city, region and country, the buyer's free text goes, and
        the data key is destroyed, so every sealed copy on the topics is unreadable (section 8)."""
        if self.pii_erased_at is not None:
            raise OrderError("personal data already erased")
        clock = self.erasure_clock()
        if clock is None:
            raise OrderTransitionRefused("erase_pii", self.status)
        if not self.erasure_due(now, policy):
            raise OrderError(f"erasure is not due before {pii_erasure_due(clock[0], policy)}")
        self.ship_to, self.pii_erased_at, self.data_key = self.ship_to.erased(), now, None
        self.cancellation_request_reason = None
        if self.cancelled_by is CancelledBy.BUYER:
            self.cancel_reason = BUYER_CANCELLATION
        return [OrderPiiErased(**self._ids(now), trigger=clock[1])]

    def _cancel(self, by: CancelledBy, reason: str, at: datetime) -> list[OrderEvent]:
        if at < self.purchased_at:
            raise OrderError("a cancellation before the purchase")
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
