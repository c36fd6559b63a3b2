"""The order aggregate (services/order/domain.py): the transition table, every domain method, and
the rule that a refused step raises and changes nothing."""

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import product

import pytest

from services.order.domain import (
    ALLOWED_TRANSITIONS,
    Order,
    OrderError,
    OrderLine,
    OrderTransitionRefused,
    Reservation,
    ShipTo,
)
from services.order.domain_events import (
    OrderCancellationRequested,
    OrderCancelled,
    OrderConfirmed,
    OrderPiiErased,
    OrderPlaced,
    OrderRejected,
    OrderStatusChanged,
)
from services.order.lines import ReservedLine
from services.order.promises import OrderPolicy
from shared.crypto import DataKey
from shared.events.common import CancelledBy, FulfillmentChannel, OrderStatus, ScanStatus, ShippingSpeed
from shared.events.order import ErasureTrigger, OrderRejection

S = OrderStatus
PURCHASED = datetime(2025, 3, 3, 10, tzinfo=UTC)  # a Monday
SHIP_BY = datetime(2025, 3, 5, tzinfo=UTC)  # the end of Tuesday: one handling day
DELIVER_BY = datetime(2025, 3, 12, tzinfo=UTC)  # the end of Tuesday 11: five transit days
LATER = PURCHASED + timedelta(hours=6)
RESERVATION = Reservation((ReservedLine("L-A", "A", 2), ReservedLine("L-B", "B", 1)), handling_days=1)
ADDRESS = ShipTo("Ada Buyer", ("1 Main St", "Apt 2"), "Seattle", "WA", "98101", "US", "+1-555-0100")


def new_order(lines: tuple[OrderLine, ...] | None = None) -> Order:
    order, _ = Order.place(
        id="o-1",
        seller_id="s-1",
        buyer_id="b-1",
        lines=lines or (OrderLine("A", 2, Decimal("10.00")), OrderLine("B", 1, Decimal("5.50"))),
        currency="USD",
        purchased_at=PURCHASED,
        ship_to=ADDRESS,
        shipping_speed=ShippingSpeed.STANDARD,
        channel=FulfillmentChannel.MERCHANT,
    )
    return order


def order_in(status: OrderStatus) -> Order:
    """A consistent order in `status`, reached through the domain methods themselves."""
    order = new_order()
    if status is S.REJECTED:
        order.reject(OrderRejection.OUT_OF_STOCK, at=LATER)
    if status in (S.UNSHIPPED, S.PARTIALLY_SHIPPED, S.SHIPPED, S.DELIVERED, S.CANCELLED):
        order.confirm(RESERVATION, at=LATER)
    if status is S.PARTIALLY_SHIPPED:
        order.record_shipment({"A": 1}, LATER, shipment_id="sh-1")
    if status in (S.SHIPPED, S.DELIVERED):
        order.record_shipment({"A": 2, "B": 1}, LATER, shipment_id="sh-1")
    if status is S.DELIVERED:
        order.deliver(LATER + timedelta(days=2))
    if status is S.CANCELLED:
        order.cancel_by_seller("cannot source the item", LATER)
    assert order.status is status
    return order


def _ship_rest_or_one(order: Order) -> None:
    rest = {sku: qty for sku, qty in order.outstanding.items() if qty}
    order.record_shipment(rest or {"A": 1}, LATER, shipment_id="sh-next")


#: The domain method that tries to move an order into each status. Nothing leads back to pending.
REACH: dict[OrderStatus, Callable[[Order], object]] = {
    S.UNSHIPPED: lambda o: o.confirm(RESERVATION, at=LATER),
    S.REJECTED: lambda o: o.reject(OrderRejection.LISTING_INACTIVE, at=LATER),
    S.CANCELLED: lambda o: o.cancel_by_seller("damaged in storage", LATER),
    S.PARTIALLY_SHIPPED: lambda o: o.record_shipment({"A": 1}, LATER, shipment_id="sh-next"),
    S.SHIPPED: _ship_rest_or_one,
    S.DELIVERED: lambda o: o.deliver(LATER + timedelta(days=1)),
}
PAIRS = list(product(S, REACH))
ALLOWED = [(a, b) for a, b in PAIRS if b in ALLOWED_TRANSITIONS[a]]
REFUSED = [(a, b) for a, b in PAIRS if b not in ALLOWED_TRANSITIONS[a]]


def test_the_table_names_every_status_and_nothing_leads_back_to_pending() -> None:
    assert set(ALLOWED_TRANSITIONS) == set(S)
    assert all(S.PENDING not in targets for targets in ALLOWED_TRANSITIONS.values())
    assert all(not ALLOWED_TRANSITIONS[s] for s in (S.DELIVERED, S.CANCELLED, S.REJECTED))


@pytest.mark.parametrize(("start", "target"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_an_allowed_transition_happens(start: OrderStatus, target: OrderStatus) -> None:
    order = order_in(start)
    REACH[target](order)
    assert order.status is target


@pytest.mark.parametrize(("start", "target"), REFUSED, ids=[f"{a}->{b}" for a, b in REFUSED])
def test_a_refused_transition_raises_and_changes_nothing(start: OrderStatus, target: OrderStatus) -> None:
    order = order_in(start)
    before = copy.deepcopy(order)
    with pytest.raises(OrderTransitionRefused) as refused:
        REACH[target](order)
    assert refused.value.status is start
    assert order == before


def test_placing_an_order_makes_it_pending_and_announces_it() -> None:
    order, events = Order.place(
        id="o-9",
        seller_id="s-1",
        buyer_id="b-1",
        lines=[OrderLine("A", 1, Decimal("1.00"))],
        currency="USD",
        purchased_at=PURCHASED,
        ship_to=ADDRESS,
        shipping_speed=ShippingSpeed.PRIORITY,
        channel=FulfillmentChannel.MARKETPLACE,
    )
    assert order.status is S.PENDING
    assert [type(e) for e in events] == [OrderPlaced, OrderStatusChanged]
    assert events[1] == OrderStatusChanged(
        order_id="o-9", seller_id="s-1", at=PURCHASED, old_status=None, new_status=S.PENDING
    )
    assert events[0].at == PURCHASED


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        ((), "no lines"),
        ((OrderLine("A", 1, Decimal(1)), OrderLine("A", 2, Decimal(1))), "sku A appears twice"),
        ((OrderLine("A", 0, Decimal(1)),), "quantity must be positive"),
        ((OrderLine("A", 1, Decimal(-1)),), "negative price"),
        ((OrderLine(None, 1, Decimal(1), "L-1"), OrderLine("B", 1, Decimal(1), "L-1")), "listing L-1 appears twice"),
        ((OrderLine(None, 1, Decimal(1)),), "neither a listing nor a SKU"),
        ((OrderLine("A", 100_000, Decimal("999999999.99")), OrderLine("B", 1, Decimal(1))), "total is over"),
    ],
)
def test_a_malformed_order_is_recorded_and_rejected_at_once_and_never_announced_as_placed(
    lines: tuple[OrderLine, ...], problem: str
) -> None:
    order, events = Order.place(
        id="o-9",
        seller_id="s-1",
        buyer_id="b-1",
        lines=lines,
        currency="USD",
        purchased_at=PURCHASED,
        ship_to=ADDRESS,
        shipping_speed=ShippingSpeed.STANDARD,
        channel=FulfillmentChannel.MERCHANT,
    )
    assert order.status is S.REJECTED and order.closed_at == PURCHASED
    assert [type(e) for e in events] == [OrderRejected, OrderStatusChanged]
    changed = events[1]
    assert isinstance(changed, OrderStatusChanged) and (changed.old_status, changed.new_status) == (None, S.REJECTED)
    assert order.rejection_reason is OrderRejection.MALFORMED
    assert problem in (order.rejection_detail or "")


def test_confirming_sets_the_promises_and_reports_them() -> None:
    order = new_order()
    events = order.confirm(RESERVATION, at=LATER)
    assert (order.ship_by, order.deliver_by) == (SHIP_BY, DELIVER_BY)
    assert events[0] == OrderConfirmed(
        order_id="o-1", seller_id="s-1", at=LATER, ship_by=SHIP_BY, deliver_by=DELIVER_BY
    )
    assert events[1] == OrderStatusChanged(
        order_id="o-1", seller_id="s-1", at=LATER, old_status=S.PENDING, new_status=S.UNSHIPPED
    )


def test_confirming_names_every_line_by_listing_and_sku() -> None:
    order = new_order()
    order.confirm(RESERVATION, at=LATER)
    assert [(line.listing_id, line.sku) for line in order.lines] == [("L-A", "A"), ("L-B", "B")]


def test_a_line_sent_with_only_a_listing_id_gets_its_sku_from_the_reservation() -> None:
    order = new_order((OrderLine(None, 2, Decimal("10.00"), listing_id="L-A"), OrderLine("B", 1, Decimal(1))))
    assert order.ordered == {"listing L-A": 2, "B": 1}
    order.confirm(RESERVATION, at=LATER)
    assert order.ordered == {"A": 2, "B": 1}
    order.record_shipment({"A": 2, "B": 1}, LATER, shipment_id="sh-1")
    assert order.status is S.SHIPPED


def test_the_largest_handling_days_over_a_weekend_set_ship_by_and_the_speed_sets_deliver_by() -> None:
    friday = datetime(2025, 3, 7, 15, tzinfo=UTC)
    order, _ = Order.place(id="o-9", seller_id="s-1", buyer_id="b-1", lines=[OrderLine("A", 2, Decimal(1))],
                           currency="USD", purchased_at=friday, ship_to=ADDRESS,
                           shipping_speed=ShippingSpeed.EXPEDITED, channel=FulfillmentChannel.MERCHANT)
    order.confirm(Reservation((ReservedLine("L-A", "A", 2),), handling_days=2), at=friday)
    assert order.ship_by == datetime(2025, 3, 12, tzinfo=UTC)  # Fri + 2: Mon, Tue (24:00)
    assert order.deliver_by == datetime(2025, 3, 14, tzinfo=UTC)  # Tue + 2: Wed, Thu (24:00)


@pytest.mark.parametrize(
    ("reserved", "message"),
    [
        ((ReservedLine("L-A", "A", 2),), "no line for B"),
        ((ReservedLine("L-A", "A", 1), ReservedLine("L-B", "B", 1)), "1 reserved for 2 ordered"),
        ((ReservedLine("L-A", "X", 2), ReservedLine("L-B", "B", 1)), "no line for A"),
        ((ReservedLine("L-A", "A", 2), ReservedLine("L-A", "B", 1)), "twice"),
        ((ReservedLine("L-A", "A", 2), ReservedLine("L-B", "B", 1), ReservedLine("L-C", "C", 1)), "one to one"),
    ],
)
def test_a_reservation_that_does_not_match_the_order_is_refused_and_changes_nothing(
    reserved: tuple[ReservedLine, ...], message: str
) -> None:
    order = new_order()
    before = copy.deepcopy(order)
    with pytest.raises(OrderError, match=message):
        order.confirm(Reservation(reserved, handling_days=1), at=LATER)
    assert order == before


def test_a_reservation_naming_another_sku_for_a_listing_is_refused() -> None:
    order = new_order((OrderLine("A", 2, Decimal(1), listing_id="L-A"),))
    with pytest.raises(OrderError, match="another SKU"):
        order.confirm(Reservation((ReservedLine("L-A", "Z", 2),), handling_days=1), at=LATER)


def test_the_total_is_the_sum_of_the_lines() -> None:
    assert new_order().total == Decimal("25.50")


def test_a_rejection_carries_its_reason_and_detail() -> None:
    order = new_order()
    events = order.reject(OrderRejection.SELLER_NOT_ACTIVE, at=LATER, detail="seller suspended")
    assert events[0] == OrderRejected(
        order_id="o-1",
        seller_id="s-1",
        at=LATER,
        reason=OrderRejection.SELLER_NOT_ACTIVE,
        detail="seller suspended",
    )
    assert order.closed_at == LATER


def test_a_seller_cancellation_before_shipment_counts_against_the_seller() -> None:
    order = order_in(S.UNSHIPPED)
    events = order.cancel_by_seller(" out of stock ", LATER)
    assert events[0] == OrderCancelled(
        order_id="o-1", seller_id="s-1", at=LATER, by=CancelledBy.SELLER, reason="out of stock"
    )
    assert order.cancelled_by is CancelledBy.SELLER
    assert order.closed_at == LATER


def test_a_cancellation_dated_before_the_purchase_is_refused() -> None:
    order = order_in(S.UNSHIPPED)
    with pytest.raises(OrderError, match="before the purchase"):
        order.cancel_by_seller("typo", PURCHASED - timedelta(minutes=1))
    assert order.status is S.UNSHIPPED


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_seller_cancellation_without_a_reason_is_refused(reason: str) -> None:
    order = order_in(S.UNSHIPPED)
    with pytest.raises(OrderError, match="needs a reason"):
        order.cancel_by_seller(reason, LATER)
    assert order.status is S.UNSHIPPED


def test_cancelling_a_shipped_order_is_refused() -> None:
    with pytest.raises(OrderTransitionRefused, match="cancel_by_seller refused: the order is shipped"):
        order_in(S.SHIPPED).cancel_by_seller("changed my mind", LATER)


@pytest.mark.parametrize("status", [S.PENDING, S.UNSHIPPED])
def test_a_buyer_may_request_cancellation_before_shipment(status: OrderStatus) -> None:
    order = order_in(status)
    events = order.request_cancellation(LATER, reason="ordered twice")
    assert events == [
        OrderCancellationRequested(order_id="o-1", seller_id="s-1", at=LATER, reason="ordered twice")
    ]
    assert order.cancellation_requested_at == LATER
    assert order.status is status


@pytest.mark.parametrize("status", [S.PARTIALLY_SHIPPED, S.SHIPPED, S.DELIVERED, S.CANCELLED, S.REJECTED])
def test_a_buyer_request_after_shipment_or_closing_is_refused(status: OrderStatus) -> None:
    with pytest.raises(OrderTransitionRefused):
        order_in(status).request_cancellation(LATER)


def test_a_second_open_request_is_refused() -> None:
    order = order_in(S.UNSHIPPED)
    order.request_cancellation(LATER)
    with pytest.raises(OrderError, match="already open"):
        order.request_cancellation(LATER)


def test_accepting_a_buyer_request_cancels_on_the_buyers_account() -> None:
    order = order_in(S.UNSHIPPED)
    order.request_cancellation(LATER, reason="found it cheaper")
    events = order.accept_cancellation(LATER + timedelta(hours=1))
    cancelled = events[0]
    assert isinstance(cancelled, OrderCancelled)
    assert (cancelled.by, cancelled.reason, cancelled.before_shipment) == (
        CancelledBy.BUYER,
        "found it cheaper",
        True,
    )
    assert order.cancellation_requested_at is None


def test_accepting_without_a_request_is_refused() -> None:
    order = order_in(S.UNSHIPPED)
    with pytest.raises(OrderError, match="no open cancellation request"):
        order.accept_cancellation(LATER)
    assert order.status is S.UNSHIPPED


def test_a_request_on_a_pending_order_is_accepted_only_after_confirmation() -> None:
    order = new_order()
    order.request_cancellation(LATER)
    with pytest.raises(OrderTransitionRefused):
        order.accept_cancellation(LATER)
    order.confirm(RESERVATION, at=LATER)
    order.accept_cancellation(LATER)
    assert order.cancelled_by is CancelledBy.BUYER


def test_shipping_declines_an_open_buyer_request() -> None:
    order = order_in(S.UNSHIPPED)
    order.request_cancellation(LATER)
    order.record_shipment({"A": 2, "B": 1}, LATER, shipment_id="sh-1")
    assert order.cancellation_requested_at is None
    with pytest.raises(OrderTransitionRefused):
        order.accept_cancellation(LATER)


def test_an_order_unshipped_seven_days_after_ship_by_is_cancelled_by_the_system() -> None:
    order = order_in(S.UNSHIPPED)
    now = SHIP_BY + timedelta(days=7, seconds=1)
    assert order.auto_cancel_due(now)
    events = order.auto_cancel(now)
    cancelled = events[0]
    assert isinstance(cancelled, OrderCancelled) and cancelled.by is CancelledBy.SYSTEM
    assert order.status is S.CANCELLED and order.closed_at == now


@pytest.mark.parametrize("now", [SHIP_BY, SHIP_BY + timedelta(days=7)])
def test_auto_cancel_up_to_the_deadline_itself_is_refused(now: datetime) -> None:
    order = order_in(S.UNSHIPPED)
    assert not order.auto_cancel_due(now)
    with pytest.raises(OrderError, match="not due"):
        order.auto_cancel(now)
    assert order.status is S.UNSHIPPED


def test_the_auto_cancel_grace_is_a_setting() -> None:
    order = order_in(S.UNSHIPPED)
    order.auto_cancel(SHIP_BY + timedelta(days=2), OrderPolicy(auto_cancel_after=timedelta(days=1)))
    assert order.status is S.CANCELLED


def test_a_marketplace_order_is_never_auto_cancelled_the_marketplace_ships_it() -> None:
    order, _ = Order.place(id="o-9", seller_id="s-1", buyer_id="b-1", lines=[OrderLine("A", 2, Decimal(1))],
                           currency="USD", purchased_at=PURCHASED, ship_to=ADDRESS,
                           shipping_speed=ShippingSpeed.STANDARD, channel=FulfillmentChannel.MARKETPLACE)
    order.confirm(Reservation((ReservedLine("L-A", "A", 2),), handling_days=1), at=LATER)
    assert not order.auto_cancel_due(SHIP_BY + timedelta(days=30))
    with pytest.raises(OrderError, match="not due"):
        order.auto_cancel(SHIP_BY + timedelta(days=30))


def test_a_partially_shipped_order_is_not_auto_cancelled() -> None:
    order = order_in(S.PARTIALLY_SHIPPED)
    assert not order.auto_cancel_due(SHIP_BY + timedelta(days=30))
    with pytest.raises(OrderTransitionRefused):
        order.auto_cancel(SHIP_BY + timedelta(days=30))


def test_shipping_part_then_the_rest_moves_through_partially_shipped_to_shipped() -> None:
    order = order_in(S.UNSHIPPED)
    first = order.record_shipment({"A": 1}, LATER, shipment_id="sh-1")
    assert [(e.old_status, e.new_status) for e in first if isinstance(e, OrderStatusChanged)] == [
        (S.UNSHIPPED, S.PARTIALLY_SHIPPED)
    ]
    assert order.record_shipment({"A": 1}, LATER, shipment_id="sh-2") == []  # still partially shipped
    assert order.outstanding == {"A": 0, "B": 1}
    order.record_shipment({"B": 1}, LATER, shipment_id="sh-3")
    assert order.status is S.SHIPPED and order.shipped == {"A": 2, "B": 1}


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ({"A": 2}, "only 1 left"),
        ({"C": 1}, "not in the order"),
        ({"A": 0}, "must be positive"),
        ({}, "at least one line"),
    ],
)
def test_a_shipment_of_more_than_ordered_or_unknown_lines_is_refused(
    lines: dict[str, int], message: str
) -> None:
    order = order_in(S.PARTIALLY_SHIPPED)
    before = copy.deepcopy(order)
    with pytest.raises(OrderError, match=message):
        order.record_shipment(lines, LATER, shipment_id="sh-2")
    assert order == before


def test_the_same_shipment_is_not_recorded_twice() -> None:
    order = order_in(S.PARTIALLY_SHIPPED)
    with pytest.raises(OrderError, match="already recorded"):
        order.record_shipment({"A": 1}, LATER, shipment_id="sh-1")


def test_a_shipment_before_the_purchase_is_refused() -> None:
    with pytest.raises(OrderError, match="before the purchase"):
        order_in(S.UNSHIPPED).record_shipment({"A": 1}, PURCHASED - timedelta(hours=1), shipment_id="sh-1")


def test_the_order_is_delivered_when_every_shipment_has_arrived() -> None:
    order = order_in(S.UNSHIPPED)
    order.record_shipment({"A": 2}, LATER, shipment_id="sh-1")
    order.record_shipment({"B": 1}, LATER, shipment_id="sh-2")
    arrived = LATER + timedelta(days=2)
    assert order.record_delivery("sh-1", arrived) == []
    assert order.status is S.SHIPPED
    events = order.record_delivery("sh-2", arrived + timedelta(hours=3))
    assert [e.new_status for e in events if isinstance(e, OrderStatusChanged)] == [S.DELIVERED]
    assert order.delivered_at == arrived + timedelta(hours=3)


def test_the_order_is_delivered_at_the_last_arrival_whatever_the_processing_order() -> None:
    order = order_in(S.UNSHIPPED)
    order.record_shipment({"B": 1}, LATER, shipment_id="sh-early")
    order.record_shipment({"A": 2}, LATER + timedelta(days=1), shipment_id="sh-late")
    order.record_delivery("sh-late", LATER + timedelta(days=3))
    order.record_delivery("sh-early", LATER + timedelta(hours=20))  # stamped earlier, processed last
    assert order.status is S.DELIVERED
    assert order.delivered_at == LATER + timedelta(days=3)


def test_a_delivery_while_partially_shipped_is_recorded_without_delivering_the_order() -> None:
    order = order_in(S.PARTIALLY_SHIPPED)
    assert order.record_delivery("sh-1", LATER + timedelta(days=1)) == []
    assert order.status is S.PARTIALLY_SHIPPED
    order.record_shipment({"A": 1, "B": 1}, LATER + timedelta(days=1), shipment_id="sh-2")
    events = order.record_delivery("sh-2", LATER + timedelta(days=3))
    assert [e.new_status for e in events if isinstance(e, OrderStatusChanged)] == [S.DELIVERED]


def test_deliveries_of_unknown_or_already_delivered_shipments_are_refused() -> None:
    order = order_in(S.PARTIALLY_SHIPPED)
    with pytest.raises(OrderError, match="unknown shipment"):
        order.record_delivery("sh-9", LATER)
    order.record_delivery("sh-1", LATER)
    with pytest.raises(OrderError, match="already delivered"):
        order.record_delivery("sh-1", LATER)


def test_a_delivery_before_the_shipment_is_refused() -> None:
    order = order_in(S.SHIPPED)
    with pytest.raises(OrderError, match="before the shipment"):
        order.deliver(LATER - timedelta(minutes=1))
    assert order.status is S.SHIPPED


def test_a_last_delivery_before_its_shipment_is_refused_and_changes_nothing() -> None:
    order = order_in(S.SHIPPED)
    before = copy.deepcopy(order)
    with pytest.raises(OrderError, match="before the shipment"):
        order.record_delivery("sh-1", LATER - timedelta(minutes=1))
    assert order == before


def test_the_delivery_of_each_shipment_keeps_its_own_arrival_time() -> None:
    order = order_in(S.UNSHIPPED)
    order.record_shipment({"A": 2}, LATER, shipment_id="sh-1")
    order.record_shipment({"B": 1}, LATER, shipment_id="sh-2")
    order.record_delivery("sh-2", LATER + timedelta(days=3))
    order.record_delivery("sh-1", LATER + timedelta(days=1))
    assert order.shipments == {"sh-1": LATER + timedelta(days=1), "sh-2": LATER + timedelta(days=3)}
    assert order.delivered_at == LATER + timedelta(days=3)


@pytest.mark.parametrize("status", [S.DELIVERED, S.CANCELLED, S.REJECTED])
def test_personal_data_is_erased_thirty_days_after_closing_keeping_city_region_and_country(
    status: OrderStatus,
) -> None:
    order = order_in(status)
    assert order.closed_at is not None
    due = order.closed_at + timedelta(days=30)
    assert not order.erasure_due(due - timedelta(seconds=1))
    events = order.erase_pii(due)
    assert events == [
        OrderPiiErased(order_id="o-1", seller_id="s-1", at=due, trigger=ErasureTrigger(status.value))
    ]
    assert order.ship_to == ShipTo(None, (), "Seattle", "WA", None, "US", None)
    assert order.pii_erased_at == due and not order.erasure_due(due)


def test_erasing_before_the_retention_ends_is_refused() -> None:
    order = order_in(S.DELIVERED)
    assert order.closed_at is not None
    with pytest.raises(OrderError, match="not due"):
        order.erase_pii(order.closed_at + timedelta(days=29))
    assert order.ship_to == ADDRESS


@pytest.mark.parametrize("status", [S.PENDING, S.UNSHIPPED, S.PARTIALLY_SHIPPED, S.SHIPPED])
def test_erasing_an_open_order_is_refused(status: OrderStatus) -> None:
    order = order_in(status)
    assert not order.erasure_due(PURCHASED + timedelta(days=365))
    with pytest.raises(OrderTransitionRefused):
        order.erase_pii(PURCHASED + timedelta(days=365))


def test_erasing_twice_is_refused() -> None:
    order = order_in(S.CANCELLED)
    order.erase_pii(LATER + timedelta(days=30))
    with pytest.raises(OrderError, match="already erased"):
        order.erase_pii(LATER + timedelta(days=31))


def test_erasure_destroys_the_data_key_and_the_buyer_words_of_a_cancellation() -> None:
    order = order_in(S.UNSHIPPED)
    order.data_key = DataKey.generate()
    order.request_cancellation(LATER, "moving to Reykjavik")
    order.accept_cancellation(LATER + timedelta(hours=1))
    assert order.cancel_reason == "moving to Reykjavik"
    order.erase_pii(LATER + timedelta(days=31))
    assert order.data_key is None and order.cancel_reason == "requested by the buyer"
    assert order.cancellation_request_reason is None and order.cancelled_by is CancelledBy.BUYER


def shipped_in_two_parcels() -> Order:
    order = order_in(S.UNSHIPPED)
    order.record_shipment({"A": 2}, LATER, shipment_id="sh-1")
    order.record_shipment({"B": 1}, LATER, shipment_id="sh-2")
    return order


@pytest.mark.parametrize("scan", [ScanStatus.LOST, ScanStatus.RETURNED_TO_SENDER])
def test_a_parcel_never_delivered_is_erased_thirty_days_after_its_last_carrier_event(scan: ScanStatus) -> None:
    order = shipped_in_two_parcels()
    order.record_delivery("sh-1", LATER + timedelta(days=2))
    assert order.record_carrier_scan("sh-2", ScanStatus.EXCEPTION, LATER + timedelta(days=3)) == []
    order.record_carrier_scan("sh-2", scan, LATER + timedelta(days=4))
    order.record_carrier_scan("sh-2", scan, LATER + timedelta(days=6))  # the last carrier event counts
    due = LATER + timedelta(days=36)
    assert order.status is S.SHIPPED and order.erasure_due_at() == due and not order.erasure_due(due - timedelta(1))
    events = order.erase_pii(due)
    assert events == [OrderPiiErased(order_id="o-1", seller_id="s-1", at=due, trigger=ErasureTrigger.NOT_DELIVERED)]
    assert order.ship_to == ADDRESS.erased() and order.erasure_due_at() is None


def test_no_erasure_clock_runs_while_another_parcel_is_still_on_its_way() -> None:
    order = shipped_in_two_parcels()
    order.record_carrier_scan("sh-2", ScanStatus.LOST, LATER + timedelta(days=4))
    assert order.erasure_due_at() is None  # sh-1 may still arrive
    order.record_carrier_scan("sh-1", ScanStatus.RETURNED_TO_SENDER, LATER + timedelta(days=5))
    assert order.erasure_due_at() == LATER + timedelta(days=35)


def test_a_lost_parcel_scanned_again_in_transit_stops_the_clock_and_delivery_restarts_it_as_delivered() -> None:
    order = shipped_in_two_parcels()
    for sid in ("sh-1", "sh-2"):
        order.record_carrier_scan(sid, ScanStatus.LOST, LATER + timedelta(days=4))
    order.record_carrier_scan("sh-2", ScanStatus.IN_TRANSIT, LATER + timedelta(days=5))
    order.record_carrier_scan("sh-1", ScanStatus.IN_TRANSIT, LATER + timedelta(days=3))  # older: changes nothing
    assert order.lost_parcels == {"sh-1": LATER + timedelta(days=4)} and order.erasure_due_at() is None
    order.record_delivery("sh-2", LATER + timedelta(days=7))
    order.record_delivery("sh-1", LATER + timedelta(days=8))
    assert order.status is S.DELIVERED
    assert order.erasure_clock() == (LATER + timedelta(days=8), ErasureTrigger.DELIVERED)


def test_a_scan_of_an_unknown_or_delivered_parcel_changes_nothing() -> None:
    order = shipped_in_two_parcels()
    order.record_delivery("sh-1", LATER + timedelta(days=2))
    before = copy.deepcopy(order)
    order.record_carrier_scan("sh-1", ScanStatus.LOST, LATER + timedelta(days=3))
    order.record_carrier_scan("sh-9", ScanStatus.LOST, LATER + timedelta(days=3))
    assert order == before


CANCELLATIONS: dict[str, Callable[[Order], object]] = {
    "seller": lambda o: o.cancel_by_seller("cannot fulfil", LATER),
    "buyer": lambda o: o.accept_cancellation(LATER),
    "system": lambda o: o.auto_cancel(SHIP_BY + timedelta(days=30)),
}
NOT_CANCELLABLE = [s for s in S if S.CANCELLED not in ALLOWED_TRANSITIONS[s]]


@pytest.mark.parametrize("status", NOT_CANCELLABLE)
@pytest.mark.parametrize("way", CANCELLATIONS)
def test_every_way_of_cancelling_is_refused_where_the_table_forbids_it(status: OrderStatus, way: str) -> None:
    order = order_in(status)
    before = copy.deepcopy(order)
    with pytest.raises(OrderTransitionRefused):
        CANCELLATIONS[way](order)
    assert order == before
