"""A run of stock events decided in memory: each event sees the stock the events before it left."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from services.listing.inventory_service import decide
from services.listing.listing_repository import ListingRow
from services.listing.repository import SellerRow
from services.listing.stock_repository import StockChange
from services.listing.stock_run import StockRun
from shared.events import Event
from shared.messaging.consumer import Unprocessable
from tests.integration.listing.helpers import order_cancelled, order_placed, shipment_confirmed
from tests.support.factories import T0

SELLER = "S-1"


def listing(listing_id: str, on_hand: int, reserved: int = 0) -> ListingRow:
    return ListingRow(
        listing_id=listing_id, seller_id=SELLER, sku=f"SKU-{listing_id}", product_id="4006381333931",
        product_key="04006381333931", title="Stoneware Mug", brand="Kiln & Co", description="A mug.",
        bullet_points=[], condition="new", price=Decimal("12.50"), currency="USD", handling_days=2,
        fulfillment_channel="merchant", image_urls=[], category=None, status="active", paused=False, held=False,
        suppressed_by=[], on_hand=on_hand, reserved=reserved, created_at=T0, updated_at=T0,
    )


def seller(status: str = "active") -> SellerRow:
    return SellerRow(
        seller_id=SELLER, legal_name="Ada Lovelace", country="GB", business_type="individual",
        contact_email="ada@example.co.uk", tax_id_key="k", tax_id_masked="***", bank_account_masked="***",
        document_type="passport", document_number_masked="***", document_expires_on=date(2030, 1, 31),
        status=status, reasons=[], registered_at=T0, updated_at=T0,
    )


def run_of(events: list[Event[Any]], *listings: ListingRow) -> StockRun:
    """A run as `stock_run.lock` leaves it: every order.placed claimed, every shipment new."""
    orders = {(e.sellerid, e.data.order_id) for e in events if e.type == "sellerflow.order.placed.v1"}
    shipments = {(e.sellerid, e.data.shipment_id) for e in events if e.type == "sellerflow.shipment.confirmed.v1"}
    return StockRun({SELLER: seller()}, {row.listing_id: row for row in listings}, {}, orders, shipments)


def decided(run: StockRun, events: list[Event[Any]]) -> list[str]:
    return [staged.type.split(".")[2] for event in events for staged in decide(run, event)]


def mug(quantity: int) -> list[dict[str, Any]]:
    return [{"listing_id": "L-mug", "quantity": quantity}]


def test_two_orders_for_the_last_unit_the_first_in_the_run_gets_it() -> None:
    first, second = order_placed(SELLER, mug(1)), order_placed(SELLER, mug(1))
    run = run_of([first, second], listing("L-mug", on_hand=3, reserved=2))

    assert decided(run, [first, second]) == ["reserved", "reservation_failed"]
    assert run.stock_changes() == [StockChange("L-mug", 0, 1, T0)]
    assert [(r.order_id, r.status) for r in run.saved()] == [(first.data.order_id, "held"),
                                                             (second.data.order_id, "failed")]


def test_a_cancellation_in_the_same_run_gives_back_what_its_order_reserved() -> None:
    placed = order_placed(SELLER, mug(2))
    cancelled = order_cancelled(placed)
    run = run_of([placed, cancelled], listing("L-mug", on_hand=3))

    assert decided(run, [placed, cancelled]) == ["reserved", "released"]
    assert run.stock_changes() == [StockChange("L-mug", 0, 0, cancelled.time)]  # written, with the last time
    [reservation] = run.saved()
    assert (reservation.status, reservation.held, reservation.created_at) == ("released", [], T0)


def test_a_cancellation_before_its_order_in_the_run_releases_nothing() -> None:
    placed = order_placed(SELLER, mug(2))
    cancelled = order_cancelled(placed)
    run = run_of([cancelled, placed], listing("L-mug", on_hand=3))

    assert decided(run, [cancelled, placed]) == ["reserved"]
    assert run.stock_changes() == [StockChange("L-mug", 0, 2, T0)]


def test_an_order_placed_twice_in_a_run_is_decided_once() -> None:
    placed = order_placed(SELLER, mug(2))
    again = order_placed(SELLER, mug(3), order_id=placed.data.order_id)
    run = run_of([placed], listing("L-mug", on_hand=9))

    assert decided(run, [placed, again]) == ["reserved"]
    assert run.stock_changes() == [StockChange("L-mug", 0, 2, T0)]


def test_a_shipment_consumes_what_an_order_of_the_same_run_reserved() -> None:
    placed = order_placed(SELLER, mug(2))
    shipped = shipment_confirmed(placed, [("L-mug", "SKU-L-mug", 2)])
    run = run_of([placed, shipped], listing("L-mug", on_hand=5))

    assert decided(run, [placed, shipped]) == ["reserved", "adjusted"]
    assert run.stock_changes() == [StockChange("L-mug", -2, 0, shipped.time)]
    assert [(r.status, r.held) for r in run.saved()] == [("shipped", [])]


def test_a_shipment_before_its_order_in_the_run_is_unprocessable() -> None:
    placed = order_placed(SELLER, mug(2))
    shipped = shipment_confirmed(placed, [("L-mug", "SKU-L-mug", 2)])
    run = run_of([shipped, placed], listing("L-mug", on_hand=5))

    with pytest.raises(Unprocessable, match=r"holds no stock \(none\)"):
        decide(run, shipped)


def test_nothing_changes_for_events_that_change_nothing() -> None:
    placed = order_placed(SELLER, mug(2))
    run = run_of([], listing("L-mug", on_hand=5))  # its order was decided by an earlier batch

    assert decided(run, [placed, order_cancelled(order_placed(SELLER, mug(1)))]) == []
    assert (run.stock_changes(), run.saved()) == ([], [])
