"""A run of order events in memory (no database): each event sees what an earlier one of the run did,
an order is placed once, refusals and unknown orders are unprocessable, and a placement another
transaction made meanwhile is acknowledged."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from services.order import service
from services.order.batch import PlacedConcurrently, RunOfOrders
from shared.events import Event, new_event
from shared.events.common import ScanStatus
from shared.events.fulfillment import ShipmentTrackingUpdated
from shared.events.ingress import CheckoutCancellationRequested
from shared.events.listing import InventoryReserved, StockLine
from shared.messaging.consumer import Unprocessable
from tests.support.factories import T0, checkout_order

SELLER = "S-1"


def reserved(order_id: str, *, hours: int = 1) -> Event[Any]:
    data = InventoryReserved(order_id=order_id, lines=[StockLine(listing_id="L-1", sku="SKU-1", quantity=1)],
                             handling_days=1)
    return new_event(data, seller_id=SELLER, subject=order_id, time=T0 + timedelta(hours=hours),
                     source="/sellerflow/listing")


def cancellation_requested(order_id: str, *, hours: int = 2) -> Event[Any]:
    at = T0 + timedelta(hours=hours)
    data = CheckoutCancellationRequested(order_id=order_id, buyer_id="B-1", requested_at=at, reason="twice")
    return new_event(data, seller_id=SELLER, subject=order_id, time=at, source="https://storefront.example")


def run_of(*events: Event[Any], stored: RunOfOrders | None = None) -> RunOfOrders:
    work = stored or RunOfOrders({})
    for event in events:
        work.apply(event.sellerid, service.asked(event))
    return work


def staged_types(work: RunOfOrders, inserted: set[tuple[str, str]]) -> list[str]:
    return [json.loads(row.value)["type"].split(".")[2] for row in work.rows(inserted)]


def test_an_order_placed_and_changed_in_one_run_is_new_once_in_its_state_after_the_run() -> None:
    placed = checkout_order(SELLER, "O-1")
    work = run_of(placed, reserved("O-1"), checkout_order(SELLER, "O-1"), cancellation_requested("O-1"))
    key = (SELLER, "O-1")
    assert work.placed == {key: T0 + timedelta(hours=2)} and work.changed == {}
    order = work.orders[key]
    assert (order.status.value, order.cancellation_requested_at) == ("unshipped", T0 + timedelta(hours=2))
    assert staged_types(work, {key}) == ["placed", "status_changed", "confirmed", "status_changed",
                                         "cancellation_requested"]


def test_a_stored_order_is_changed_not_placed_again() -> None:
    stored = run_of(checkout_order(SELLER, "O-1")).orders
    work = run_of(checkout_order(SELLER, "O-1"), reserved("O-1"), stored=RunOfOrders(stored))
    assert work.placed == {} and work.changed == {(SELLER, "O-1"): T0 + timedelta(hours=1)}
    assert staged_types(work, set()) == ["confirmed", "status_changed"]


def test_an_event_about_an_order_the_seller_does_not_have_is_unprocessable() -> None:
    with pytest.raises(Unprocessable, match="order O-9: unknown to this seller"):
        run_of(checkout_order(SELLER, "O-1"), reserved("O-9"))


def test_a_step_the_domain_refuses_is_unprocessable_with_its_reason() -> None:
    with pytest.raises(Unprocessable, match="order O-1: confirm refused: the order is unshipped"):
        run_of(checkout_order(SELLER, "O-1"), reserved("O-1"), reserved("O-1", hours=2))


def test_an_order_another_transaction_placed_meanwhile_is_acknowledged_or_the_batch_applied_again() -> None:
    alone = run_of(checkout_order(SELLER, "O-1"), checkout_order(SELLER, "O-2"))
    assert staged_types(alone, {(SELLER, "O-2")}) == ["placed", "status_changed"]  # O-1's rows dropped
    changed = run_of(checkout_order(SELLER, "O-1"), reserved("O-1"))
    with pytest.raises(PlacedConcurrently):
        changed.rows(set())


def scan(order_id: str, shipment_id: str, status: ScanStatus, *, hours: int) -> Event[Any]:
    at = T0 + timedelta(hours=hours)
    data = ShipmentTrackingUpdated(
        order_id=order_id, purchased_at=T0, fulfillment_channel="merchant", shipment_id=shipment_id,
        shipped_at=T0 + timedelta(hours=3), ship_by=T0 + timedelta(days=1), deliver_by=T0 + timedelta(days=8),
        carrier="ups", tracking_number="1Z999AA10123456784", status=status, scanned_at=at)
    return new_event(data, seller_id=SELLER, subject=shipment_id, time=at, source="/sellerflow/fulfillment")


def test_a_carrier_scan_that_changes_nothing_leaves_the_order_unwritten_and_a_loss_is_kept() -> None:
    stored = run_of(checkout_order(SELLER, "O-1"), reserved("O-1")).orders
    stored[(SELLER, "O-1")].record_shipment({"SKU-1": 1}, T0 + timedelta(hours=3), shipment_id="SH-1")
    quiet = run_of(scan("O-1", "SH-1", ScanStatus.IN_TRANSIT, hours=4), stored=RunOfOrders(dict(stored)))
    assert quiet.changed == {} and staged_types(quiet, set()) == []
    lost = run_of(scan("O-1", "SH-1", ScanStatus.LOST, hours=5), scan("O-1", "SH-1", ScanStatus.IN_TRANSIT, hours=4),
                  stored=RunOfOrders(dict(stored)))
    assert lost.changed == {(SELLER, "O-1"): T0 + timedelta(hours=4)}  # the older scan was looked at, changed nothing
    assert lost.orders[(SELLER, "O-1")].lost_parcels == {"SH-1": T0 + timedelta(hours=5)}
