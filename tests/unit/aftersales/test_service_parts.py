"""The pure parts of the aftersales service layer: routing, the read-model fold, violations, settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.aftersales import read_model, repository, service, wire
from services.aftersales.config import AftersalesSettings
from services.aftersales.message_rules import SellerMessageRule as R
from shared.events import EVENT_TYPES, Event, new_event, topics
from shared.events import fulfillment as f
from shared.events import order as o
from shared.events.common import CancelledBy, Carrier, FulfillmentChannel, Money, ShippingSpeed
from shared.events.envelope import Payload
from shared.messaging.consumer import Record

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
FACTS: dict[str, Any] = {"order_id": "O-1", "purchased_at": T0, "fulfillment_channel": FulfillmentChannel.MERCHANT}
SHIPMENT: dict[str, Any] = {**FACTS, "shipment_id": "SH-1", "shipped_at": T0 + DAY, "ship_by": T0 + 2 * DAY,
                            "deliver_by": T0 + 7 * DAY}
USD = Money(amount=Decimal("42.00"), currency="USD")


def _event(payload: Payload, seller: str = "S-1") -> Event[Any]:
    return new_event(payload, seller_id=seller, subject="x", time=T0, source="/test")


def test_every_type_on_ingress_buyer_has_a_use_case() -> None:
    on_ingress = {t for t, cls in EVENT_TYPES.items() if topics.INGRESS_BUYER in cls.TOPICS}
    assert set(service.INGRESS) == on_ingress


def test_every_ingress_item_but_a_review_waits_for_its_order() -> None:
    waits = {t for t, (_, waits_for_order) in service.INGRESS.items() if not waits_for_order}
    assert waits == {"sellerflow.buyer.review_posted.v1"}


def test_an_orders_events_in_one_batch_fold_into_one_row() -> None:
    line = {"listing_id": "L-1", "sku": "SKU-1", "quantity": 1, "unit_price": USD}
    events = [
        _event(o.OrderPlaced(**FACTS, buyer_id="B-1", lines=[o.PlacedLine(**line)], currency="USD", total=USD,
                             shipping_speed=ShippingSpeed.STANDARD, ship_to_country="US")),
        _event(o.OrderConfirmed(**FACTS, shipping_speed=ShippingSpeed.STANDARD, lines=[o.ConfirmedLine(**line)],
                                currency="USD", total=USD, ship_by=T0 + 2 * DAY, deliver_by=T0 + 7 * DAY)),
        _event(o.OrderCancelled(**FACTS, by=CancelledBy.SELLER, reason="No stock", before_shipment=True,
                                cancelled_at=T0 + DAY)),
        _event(o.OrderPlaced(**{**FACTS, "order_id": "O-2"}, buyer_id="B-1", lines=[o.PlacedLine(**line)],
                             currency="USD", total=USD, shipping_speed=ShippingSpeed.STANDARD,
                             ship_to_country="US"), seller="S-2"),
    ]
    orders, shipments = read_model._fold(events)
    assert shipments == []
    first, second = orders
    assert (first.seller_id, first.order_id, first.total, first.status, first.cancelled_by, first.ship_by) == (
        "S-1", "O-1", Decimal("42.00"), "cancelled", "seller", T0 + 2 * DAY)
    assert (second.seller_id, second.order_id, second.status) == ("S-2", "O-2", "pending")


def test_shipment_events_fold_into_tracking_and_the_orders_latest_delivery() -> None:
    line = f.ShipmentLine(listing_id="L-1", sku="SKU-1", quantity=1)
    events = [
        _event(f.ShipmentConfirmed(**SHIPMENT, carrier=Carrier.UPS, tracking_number="1Z999AA10123456784",
                                   tracking_format_valid=True, lines=[line])),
        _event(f.ShipmentTrackingValidated(**SHIPMENT, valid=True, reason=f.TrackingVerdict.FIRST_SCAN,
                                           first_scan_at=T0 + DAY)),
        _event(f.ShipmentDelivered(**SHIPMENT, delivered_at=T0 + 4 * DAY)),
        _event(f.ShipmentConfirmed(**{**SHIPMENT, "shipment_id": "SH-2"}, carrier=Carrier.UPS,
                                   tracking_number="1Z999AA1", tracking_format_valid=False, lines=[line])),
    ]
    [order], [tracked, bad] = read_model._fold(events)
    assert (tracked.tracking_valid, tracked.first_scan_at, tracked.delivered_at) == (True, T0 + DAY, T0 + 4 * DAY)
    assert bad.tracking_valid is False  # a bad number is invalid at once, without waiting for scans
    assert (order.delivered_at, order.total) == (T0 + 4 * DAY, None)  # a shipment does not make the order known


def test_a_message_breaking_rules_of_both_categories_raises_one_violation_per_category() -> None:
    found = wire.violations("sm-1", [R.CONTACT_DETAILS, R.REVIEW_INCENTIVE, R.POSITIVE_REVIEW_REQUEST], T0)
    summary = [(v.category, v.severity, v.rules, v.subject_id) for v in found]
    assert summary == [("messaging", "low", ["M2"], "sm-1"), ("review", "high", ["M4", "M5"], "sm-1")]
    assert all(len(v.description) <= 200 and v.detected_at == T0 for v in found)
    again = wire.violations("sm-1", [R.CONTACT_DETAILS, R.REVIEW_INCENTIVE, R.POSITIVE_REVIEW_REQUEST], T0)
    assert [v.violation_id for v in again] == [v.violation_id for v in found]  # stable ids


def test_a_parked_item_that_expires_says_what_it_waited_for() -> None:
    record = Record("t", 0, 1, b"S-1", b"{}")
    waiting = read_model.Parked(1, "S-1", "O-9", "order", topics.INGRESS_BUYER, record)
    assert service._expiry_reason(waiting, 3 * DAY) == (
        "order O-9 unknown: no order.placed or order.confirmed within 3 days")
    undelivered = read_model.Parked(2, "S-1", "O-9", "delivery", topics.INGRESS_BUYER, record)
    assert "not delivered within 1.5 days" in service._expiry_reason(undelivered, 1.5 * DAY)


def test_every_window_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFTERSALES_PARK_FOR_DAYS", "5")
    monkeypatch.setenv("AFTERSALES_REPLY_WITHIN_HOURS", "12")
    settings = AftersalesSettings()
    policy = settings.policy()
    assert (policy.park_for, policy.reply_within, policy.return_window) == (5 * DAY, timedelta(hours=12), 30 * DAY)
    assert settings.message_policy().max_review_requests_per_order == 1


def test_stored_aggregates_map_their_enums_and_extra_columns() -> None:
    assert set(repository.CLAIMS.enums) == {"reason", "status", "outcome", "reversed_outcome"}
    assert repository.CLAIMS.extras == ("amount", "currency")
    assert set(repository.RETURNS.enums) == {"status", "refunded_by"}
    assert repository.MESSAGES.fields[0] == "message_id"
