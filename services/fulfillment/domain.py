"""Shipments (domain.md section 4): confirmation, carrier scans, tracking validity and delivery.
The order a shipment belongs to (its lines, deadlines and address) is `orders.OrderToShip`.

Pure: no I/O and no clock, every time is passed in. Refused steps raise `ShipmentError` before
changing anything. Methods return the events they cause.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypedDict

from services.fulfillment.domain_events import (
    ShipmentConfirmed,
    ShipmentDelivered,
    ShipmentEvent,
    ShipmentTrackingUpdated,
    ShipmentTrackingValidated,
)
from services.fulfillment.tracking import (
    DEFAULT_TRACKING_POLICY,
    TrackingPolicy,
    TrackingStatus,
    check_tracking_number,
    decide_tracking_status,
    marketplace_tracking_number,
)
from shared.calendar import to_utc
from shared.events.common import Carrier, FulfillmentChannel, ScanStatus
from shared.events.fulfillment import TrackingVerdict


class ShipmentError(Exception):
    """A shipment rule refused the step."""


@dataclass(frozen=True)
class FulfillmentPolicy:
    #: The warehouse ships this long after confirmation, weekends included (domain.md section 4, ours).
    marketplace_ship_delay: timedelta = timedelta(days=1)
    tracking: TrackingPolicy = DEFAULT_TRACKING_POLICY


DEFAULT_FULFILLMENT_POLICY = FulfillmentPolicy()


class _Ids(TypedDict):
    shipment_id: str
    order_id: str
    seller_id: str
    at: datetime


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
    purchased_at: datetime  # the order's: no shipment leaves before it
    tracking_status: TrackingStatus = TrackingStatus.PENDING
    tracking_verdict: TrackingVerdict | None = None
    tracking_reason: str | None = None
    scans: list[Scan] = field(default_factory=list)
    delivered_at: datetime | None = None

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
        purchased_at: datetime,
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
            purchased_at=purchased_at,
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
        purchased_at: datetime,
        attempt: int = 0,
        policy: FulfillmentPolicy = DEFAULT_FULFILLMENT_POLICY,
    ) -> tuple[Shipment, list[ShipmentEvent]]:
        """The platform's warehouse ships: confirmation + its delay (a day), on the
        marketplace carrier, with a TBA number derived from the order id (`attempt` > 0 derives
        another one, when the first is already some other shipment's)."""
        shipped_at = marketplace_ship_time(confirmed_at, policy)
        seed = order_id if attempt == 0 else f"{order_id}#{attempt}"
        shipment = cls(
            id=id,
            order_id=order_id,
            seller_id=seller_id,
            carrier=Carrier.MARKETPLACE,
            tracking_number=marketplace_tracking_number(seed),
            lines=_checked_lines(lines),
            channel=FulfillmentChannel.MARKETPLACE,
            confirmed_at=confirmed_at,
            shipped_at=shipped_at,
            ship_by=ship_by,
            deliver_by=deliver_by,
            purchased_at=purchased_at,
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
        """A carrier scan. Scans after delivery are kept but never move the delivery time. The same
        scan twice (status and time) is applied once: carriers resend."""
        if any(scan.status is status and scan.at == at for scan in self.scans):
            return []
        if status is ScanStatus.DELIVERED and at < self.shipped_at:
            raise ShipmentError(f"a delivery at {at.isoformat()} before the shipment at {self.shipped_at}")
        self.scans.append(Scan(status, at, location))
        updated = ShipmentTrackingUpdated(**self._ids(at), status=status, location=location)
        events: list[ShipmentEvent] = [updated]
        events += self.validate_tracking(at, policy, at_tick=False)
        if status is ScanStatus.DELIVERED and self.delivered_at is None:
            self.delivered_at = at
            events.append(ShipmentDelivered(**self._ids(at), on_time=at <= self.deliver_by))
        return events

    def validate_tracking(
        self, now: datetime, policy: FulfillmentPolicy = DEFAULT_FULFILLMENT_POLICY, *, at_tick: bool = True
    ) -> list[ShipmentEvent]:
        """Re-decide the tracking status; an event only when it changes. Pending resolves once;
        a number invalid for want of a scan turns valid if a scan stamped inside the window
        arrives late (the outcome depends on event times, not on the order of processing). Only a
        clock tick (`at_tick`) judges a number invalid for want of a scan in time."""
        check = check_tracking_number(self.carrier, self.tracking_number)
        decision = decide_tracking_status(
            check,
            confirmed_at=self.confirmed_at,
            first_scan_at=self._first_scan_at(policy.tracking),
            now=now,
            policy=policy.tracking,
            at_tick=at_tick,
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

    def _confirmed(self, policy: FulfillmentPolicy) -> list[ShipmentEvent]:
        if self.shipped_at < self.purchased_at:
            raise ShipmentError("a shipment before the purchase")
        validated = self.validate_tracking(self.confirmed_at, policy, at_tick=False)  # a bad number: at once
        confirmed = ShipmentConfirmed(
            **self._ids(self.shipped_at),  # the departure: a day after confirmation in a warehouse
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


def _checked_lines(lines: Mapping[str, int]) -> dict[str, int]:
    if not lines:
        raise ShipmentError("a shipment needs at least one line")
    for sku, qty in lines.items():
        if qty <= 0:
            raise ShipmentError(f"sku {sku}: shipped quantity must be positive")
    return dict(lines)


def marketplace_ship_time(confirmed_at: datetime, policy: FulfillmentPolicy = DEFAULT_FULFILLMENT_POLICY) -> datetime:
    """When the platform's warehouse ships an order confirmed at `confirmed_at`."""
    return to_utc(confirmed_at) + policy.marketplace_ship_delay
