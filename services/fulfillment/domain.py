"""Shipments (domain.md section 4): confirmation, carrier scans, tracking validity, delivery, the
overdue decision and the erasure of the ship-to address.

Pure: no I/O and no clock, every time is passed in. Refused steps raise `ShipmentError` before
changing anything. Methods return the events they cause.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TypedDict

from services.fulfillment.tracking import (
    DEFAULT_TRACKING_POLICY,
    TrackingPolicy,
    TrackingStatus,
    check_tracking_number,
    decide_tracking_status,
    marketplace_tracking_number,
)
from shared.events.common import Carrier, FulfillmentChannel, ScanStatus
from shared.events.fulfillment import TrackingVerdict


class ShipmentError(Exception):
    """A shipment rule refused the step."""


@dataclass(frozen=True)
class FulfillmentPolicy:
    marketplace_handling_days: int = 1  # warehouse ship time after confirmation, business days (ours)
    weekend_days: frozenset[int] = frozenset({5, 6})  # Saturday, Sunday
    tracking: TrackingPolicy = DEFAULT_TRACKING_POLICY


DEFAULT_FULFILLMENT_POLICY = FulfillmentPolicy()


class _Ids(TypedDict):
    shipment_id: str
    order_id: str
    seller_id: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class ShipmentEvent:
    shipment_id: str
    order_id: str
    seller_id: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class ShipmentConfirmed(ShipmentEvent):
    carrier: Carrier
    tracking_number: str
    tracking_format_valid: bool  # the carrier's format and check digit
    tracking_status: TrackingStatus
    channel: FulfillmentChannel
    shipped_at: datetime
    ship_by: datetime
    deliver_by: datetime
    lines: Mapping[str, int]


@dataclass(frozen=True, kw_only=True)
class ShipmentTrackingUpdated(ShipmentEvent):
    status: ScanStatus
    location: str | None


@dataclass(frozen=True, kw_only=True)
class ShipmentTrackingValidated(ShipmentEvent):
    tracking_status: TrackingStatus  # valid or invalid, never pending
    verdict: TrackingVerdict
    reason: str | None
    first_scan_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class ShipmentDelivered(ShipmentEvent):
    on_time: bool  # delivered by deliver-by


@dataclass(frozen=True)
class Address:
    name: str | None
    lines: tuple[str, ...]
    city: str
    region: str | None
    postal_code: str | None
    country: str
    phone: str | None = None

    def erased(self) -> Address:
        # Section 8: keep city, region and country, nothing that finds the buyer.
        return replace(self, name=None, lines=(), postal_code=None, phone=None)


@dataclass(frozen=True)
class Scan:
    status: ScanStatus
    at: datetime
    location: str | None = None


@dataclass
class Shipment:
    id: str
    order_id: str
    seller_id: str
    carrier: Carrier
    tracking_number: str
    lines: dict[str, int]  # sku -> units in this shipment
    channel: FulfillmentChannel
    confirmed_at: datetime
    shipped_at: datetime  # merchant: the confirmation; marketplace: confirmation + handling
    ship_by: datetime
    deliver_by: datetime
    ship_to: Address | None = None
    tracking_status: TrackingStatus = TrackingStatus.PENDING
    tracking_verdict: TrackingVerdict | None = None
    tracking_reason: str | None = None
    scans: list[Scan] = field(default_factory=list)
    delivered_at: datetime | None = None
    address_erased_at: datetime | None = None

    @classmethod
    def confirm(
        cls,
        *,
        id: str,
        order_id: str,
        seller_id: str,
        carrier: Carrier,
        tracking_number: str,
        lines: Mapping[str, int],
        confirmed_at: datetime,
        ship_by: datetime,
        deliver_by: datetime,
        ship_to: Address | None = None,
        policy: FulfillmentPolicy = DEFAULT_FULFILLMENT_POLICY,
    ) -> tuple[Shipment, list[ShipmentEvent]]:
        """The seller confirms a merchant-fulfilled shipment. A malformed tracking number is
        accepted and judged invalid at once: it counts against the valid tracking rate."""
        shipment = cls(
            id=id,
            order_id=order_id,
            seller_id=seller_id,
            carrier=carrier,
            tracking_number=check_tracking_number(carrier, tracking_number).number,
            lines=_checked_lines(lines),
            channel=FulfillmentChannel.MERCHANT,
            confirmed_at=confirmed_at,
            shipped_at=confirmed_at,
            ship_by=ship_by,
            deliver_by=deliver_by,
            ship_to=ship_to,
        )
        return shipment, shipment._confirmed(policy)

    @classmethod
    def ship_from_marketplace(
        cls,
        *,
        id: str,
        order_id: str,
        seller_id: str,
        lines: Mapping[str, int],
        confirmed_at: datetime,
        ship_by: datetime,
        deliver_by: datetime,
        ship_to: Address | None = None,
        policy: FulfillmentPolicy = DEFAULT_FULFILLMENT_POLICY,
    ) -> tuple[Shipment, list[ShipmentEvent]]:
        """The platform's warehouse ships: confirmation + the handling business days, on the
        marketplace carrier, with a TBA number derived from the order id."""
        shipped_at = add_business_days(confirmed_at, policy.marketplace_handling_days, policy.weekend_days)
        shipment = cls(
            id=id,
            order_id=order_id,
            seller_id=seller_id,
            carrier=Carrier.MARKETPLACE,
            tracking_number=marketplace_tracking_number(order_id),
            lines=_checked_lines(lines),
            channel=FulfillmentChannel.MARKETPLACE,
            confirmed_at=confirmed_at,
            shipped_at=shipped_at,
            ship_by=ship_by,
            deliver_by=deliver_by,
            ship_to=ship_to,
        )
        return shipment, shipment._confirmed(policy)

    def record_scan(
        self,
        status: ScanStatus,
        at: datetime,
        policy: FulfillmentPolicy = DEFAULT_FULFILLMENT_POLICY,
        *,
        location: str | None = None,
    ) -> list[ShipmentEvent]:
        """A carrier scan. Scans after delivery are kept but never move the delivery time;
        duplicates are the caller's inbox's business."""
        if status is ScanStatus.DELIVERED and at < self.shipped_at:
            raise ShipmentError(f"a delivery at {at.isoformat()} before the shipment at {self.shipped_at}")
        self.scans.append(Scan(status, at, location))
        updated = ShipmentTrackingUpdated(**self._ids(at), status=status, location=location)
        events: list[ShipmentEvent] = [updated]
        events += self.validate_tracking(at, policy)
        if status is ScanStatus.DELIVERED and self.delivered_at is None:
            self.delivered_at = at
            events.append(ShipmentDelivered(**self._ids(at), on_time=at <= self.deliver_by))
        return events

    def validate_tracking(
        self, now: datetime, policy: FulfillmentPolicy = DEFAULT_FULFILLMENT_POLICY
    ) -> list[ShipmentEvent]:
        """Re-decide the tracking status; an event only when it changes. Pending resolves once;
        a number invalid for want of a scan turns valid if a scan stamped inside the window
        arrives late (the outcome depends on event times, not on the order of processing)."""
        check = check_tracking_number(self.carrier, self.tracking_number)
        decision = decide_tracking_status(
            check,
            confirmed_at=self.confirmed_at,
            first_scan_at=self._first_scan_at(policy.tracking),
            now=now,
            policy=policy.tracking,
        )
        current, new = self.tracking_status, decision.status
        upgrade = current is TrackingStatus.PENDING or new is TrackingStatus.VALID
        if decision.verdict is None or new is current or not upgrade:
            return []
        self.tracking_status, self.tracking_verdict = new, decision.verdict
        self.tracking_reason = decision.reason
        validated = ShipmentTrackingValidated(
            **self._ids(now),
            tracking_status=decision.status,
            verdict=decision.verdict,
            reason=decision.reason,
            first_scan_at=decision.first_scan_at,
        )
        return [validated]

    def erase_address(self, at: datetime) -> None:
        """Follows the order service's `order.pii_erased`, which decides when (section 8)."""
        if self.address_erased_at is not None:
            raise ShipmentError(f"the address of shipment {self.id} is already erased")
        self.ship_to = self.ship_to.erased() if self.ship_to is not None else None
        self.address_erased_at = at

    def _confirmed(self, policy: FulfillmentPolicy) -> list[ShipmentEvent]:
        validated = self.validate_tracking(self.confirmed_at, policy)  # a bad number: invalid at once
        confirmed = ShipmentConfirmed(
            **self._ids(self.shipped_at),  # the departure: a business day after confirmation in a warehouse
            carrier=self.carrier,
            tracking_number=self.tracking_number,
            tracking_format_valid=check_tracking_number(self.carrier, self.tracking_number).valid,
            tracking_status=self.tracking_status,
            channel=self.channel,
            shipped_at=self.shipped_at,
            ship_by=self.ship_by,
            deliver_by=self.deliver_by,
            lines=dict(self.lines),
        )
        return [confirmed, *validated]

    def _first_scan_at(self, policy: TrackingPolicy) -> datetime | None:
        times = [scan.at for scan in self.scans if scan.status in policy.counting_scans]
        return min(times, default=None)

    def _ids(self, at: datetime) -> _Ids:
        return _Ids(shipment_id=self.id, order_id=self.order_id, seller_id=self.seller_id, at=at)


def is_overdue(*, ship_by: datetime, anything_shipped: bool, now: datetime) -> bool:
    """Ship-by has passed with nothing shipped: `fulfillment.overdue` (once, the caller keeps that)."""
    return not anything_shipped and now > ship_by


def check_shipment_lines(
    lines: Mapping[str, int], *, ordered: Mapping[str, int], already_shipped: Mapping[str, int]
) -> None:
    """Refuse a shipment of unknown skus or of more units than are left to ship."""
    for sku, qty in _checked_lines(lines).items():
        left = ordered.get(sku, 0) - already_shipped.get(sku, 0)
        if sku not in ordered or qty > left:
            raise ShipmentError(f"sku {sku}: {qty} shipped but {max(left, 0)} left to ship")


def add_business_days(start: datetime, days: int, weekend_days: frozenset[int]) -> datetime:
    """`days` x 24 h of weekday time after `start`; a weekend start counts from Monday 00:00.
    The same rule as the order service's promises (a service never imports another's package)."""
    if days < 0 or len(weekend_days) >= 7:
        raise ValueError("business days must not be negative and some day must be a business day")
    if start.utcoffset() is None:
        raise ValueError(f"naive datetime {start.isoformat()}: business time must carry a zone")
    at, remaining = _skip_weekend(start.astimezone(UTC), weekend_days), timedelta(days=days)
    while remaining > _until_midnight(at):
        remaining -= _until_midnight(at)
        at = _skip_weekend(at + _until_midnight(at), weekend_days)
    return at + remaining


def _until_midnight(at: datetime) -> timedelta:
    return at.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1) - at


def _skip_weekend(at: datetime, weekend_days: frozenset[int]) -> datetime:
    while at.weekday() in weekend_days:
        at += _until_midnight(at)
    return at


def _checked_lines(lines: Mapping[str, int]) -> dict[str, int]:
    if not lines:
        raise ShipmentError("a shipment needs at least one line")
    for sku, qty in lines.items():
        if qty <= 0:
            raise ShipmentError(f"sku {sku}: shipped quantity must be positive")
    return dict(lines)
