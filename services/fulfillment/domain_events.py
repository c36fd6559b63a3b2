"""What shipments and orders-to-ship say happened: plain dataclasses returned by domain methods.

Domain facts, not wire messages: `publishing.py` turns each into its `shared.events.fulfillment`
payload (same names; import that module qualified, as `wire`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from services.fulfillment.tracking import TrackingStatus
from shared.events.common import Carrier, FulfillmentChannel, ScanStatus
from shared.events.fulfillment import TrackingVerdict


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


@dataclass(frozen=True, kw_only=True)
class FulfillmentOverdue:
    """Ship-by passed with nothing of the order shipped; `at` is the ship-by that passed."""

    order_id: str
    seller_id: str
    at: datetime
