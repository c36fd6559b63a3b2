"""Domain events of an order as wire events (services/order/publishing.py): every one has its wire
type, and buyer data leaves only sealed with the order's data key."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.order import domain_events as de
from services.order.domain import BUYER_CANCELLATION, Order, OrderLine, Reservation, ShipTo
from services.order.lines import ReservedLine
from services.order.publishing import confirmation_event_id, envelopes
from shared.crypto import DataKey, Unsealable
from shared.events import order as wire
from shared.events.common import CancelledBy, FulfillmentChannel, OrderStatus, ShippingSpeed
from shared.pii import open_personal, open_text, order_context

PURCHASED = datetime(2025, 3, 3, 10, tzinfo=UTC)
ADDRESS = ShipTo("Ada Buyer", ("1 Main St",), "Seattle", "WA", "98101", "US", "+1-555-0100")


def confirmed(channel: FulfillmentChannel) -> tuple[Order, list[de.OrderEvent]]:
    order, events = Order.place(
        id="o-1", seller_id="s-1", buyer_id="b-1", lines=[OrderLine(None, 2, Decimal("9.95"), "L-A")], currency="EUR",
        purchased_at=PURCHASED, ship_to=ADDRESS, shipping_speed=ShippingSpeed.STANDARD, channel=channel,
        data_key=DataKey.generate(),
    )
    events += order.confirm(Reservation((ReservedLine("L-A", "A", 2),), 1), at=PURCHASED + timedelta(minutes=1))
    return order, events


def test_every_domain_event_becomes_the_wire_event_of_the_same_name() -> None:
    order, events = confirmed(FulfillmentChannel.MERCHANT)
    wired = envelopes(order, events)  # as the service does: right after the step, from the state it left
    cancelled = order.cancel_by_seller("damaged", PURCHASED + timedelta(hours=1))
    wired += envelopes(order, cancelled)
    erased = order.erase_pii(PURCHASED + timedelta(days=31))
    wired += envelopes(order, erased)
    events += cancelled + erased
    assert [type(e.data).__name__ for e in wired] == [type(e).__name__ for e in events]
    assert [e.time for e in wired] == [e.at for e in events]
    assert {e.sellerid for e in wired} == {"s-1"} and {e.subject for e in wired} == {"o-1"}


def test_the_placed_and_confirmed_events_carry_lines_prices_and_the_total() -> None:
    order, events = confirmed(FulfillmentChannel.MERCHANT)
    placed, changed, confirmation, _ = (e.data for e in envelopes(order, events))
    assert isinstance(placed, wire.OrderPlaced) and placed.total.amount == Decimal("19.90")
    assert placed.ship_to_country == "US"
    assert isinstance(changed, wire.OrderStatusChanged) and changed.old_status is None
    assert changed.new_status is OrderStatus.PENDING
    assert isinstance(confirmation, wire.OrderConfirmed)
    assert [(line.listing_id, line.sku, line.quantity) for line in confirmation.lines] == [("L-A", "A", 2)]
    assert confirmation.ship_by == datetime(2025, 3, 5, tzinfo=UTC)  # the end of the next business day


@pytest.mark.parametrize(("channel", "carries"), [(FulfillmentChannel.MERCHANT, True),
                                                  (FulfillmentChannel.MARKETPLACE, False)])
def test_the_buyer_address_travels_only_sealed_and_only_for_a_merchant_fulfilled_order(
    channel: FulfillmentChannel, carries: bool
) -> None:
    order, events = confirmed(channel)
    wired = envelopes(order, events)
    clear = (b"Ada Buyer", b"1 Main St", b"98101", b"+1-555-0100")
    assert not [e.type for e in wired if any(text in e.to_bytes() for text in clear)]
    confirmation = next(e.data for e in wired if isinstance(e.data, wire.OrderConfirmed))
    assert confirmation.ship_to is None
    if not carries:
        assert confirmation.ship_to_sealed is None
        return
    sealed = confirmation.ship_to_sealed
    assert sealed is not None and (sealed.city, sealed.region, sealed.country) == ("Seattle", "WA", "US")
    assert order.data_key is not None
    kept = ShipTo(None, (), sealed.city, sealed.region, None, sealed.country)
    assert open_personal(order.data_key, kept, sealed.buyer, context=order_context("s-1", "o-1", "ship_to")) == ADDRESS
    with pytest.raises(Unsealable):  # bound to its order: moved to another, it does not open
        open_personal(order.data_key, kept, sealed.buyer, context=order_context("s-1", "o-2", "ship_to"))


def test_the_buyer_cancellation_reason_travels_sealed_and_the_wire_says_only_who_cancelled() -> None:
    order, _ = confirmed(FulfillmentChannel.MERCHANT)
    key = order.data_key
    assert key is not None
    requested = envelopes(order, order.request_cancellation(PURCHASED + timedelta(hours=1), "moving to Reykjavik"))
    accepted = envelopes(order, order.accept_cancellation(PURCHASED + timedelta(hours=2)))
    assert not [e.type for e in requested + accepted if b"Reykjavik" in e.to_bytes()]
    request, cancelled = requested[0].data, accepted[0].data
    assert isinstance(request, wire.OrderCancellationRequested) and request.reason is None
    assert isinstance(cancelled, wire.OrderCancelled) and cancelled.reason == BUYER_CANCELLATION
    context = order_context("s-1", "o-1", "buyer_reason")
    assert request.buyer_reason is not None and cancelled.buyer_reason is not None
    assert open_text(key, request.buyer_reason, context=context) == "moving to Reykjavik"
    assert open_text(key, cancelled.buyer_reason, context=context) == "moving to Reykjavik"


def test_erasure_destroys_the_data_key_so_the_sealed_copies_no_longer_open() -> None:
    order, events = confirmed(FulfillmentChannel.MERCHANT)
    key = order.data_key
    sealed = next(e.data for e in envelopes(order, events) if isinstance(e.data, wire.OrderConfirmed)).ship_to_sealed
    assert key is not None and sealed is not None
    order.record_shipment({"A": 2}, PURCHASED + timedelta(hours=3), shipment_id="sh-1")
    order.record_delivery("sh-1", PURCHASED + timedelta(days=2))
    order.erase_pii(PURCHASED + timedelta(days=32))
    assert order.data_key is None  # the only copy of the key: nothing else can open `sealed` now
    with pytest.raises(Unsealable):
        open_personal(DataKey.generate(), ADDRESS.erased(), sealed.buyer,
                      context=order_context("s-1", "o-1", "ship_to"))


def test_the_confirmation_has_an_id_known_again_at_erasure_time() -> None:
    order, events = confirmed(FulfillmentChannel.MERCHANT)
    confirmation = next(e for e in envelopes(order, events) if isinstance(e.data, wire.OrderConfirmed))
    assert confirmation.id == confirmation_event_id("s-1", "o-1") != confirmation_event_id("s-2", "o-1")


def test_a_cancellation_names_who_and_that_nothing_had_shipped() -> None:
    order, _ = confirmed(FulfillmentChannel.MERCHANT)
    cancelled = envelopes(order, order.cancel_by_seller("x" * 300, PURCHASED + timedelta(hours=2)))[0].data
    assert isinstance(cancelled, wire.OrderCancelled)
    assert (cancelled.by, cancelled.before_shipment, len(cancelled.reason)) == (CancelledBy.SELLER, True, 200)


def test_an_event_that_cannot_be_built_is_refused_without_quoting_buyer_data() -> None:
    order, _ = confirmed(FulfillmentChannel.MERCHANT)
    order.ship_to = ShipTo("Ada Buyer", ("1 Main St",), "Seattle", "WA", "98101", "USA-not-a-code")
    with pytest.raises(ValueError, match="country: String should match") as refused:
        envelopes(order, [de.OrderConfirmed(order_id="o-1", seller_id="s-1", at=PURCHASED + timedelta(hours=1),
                                            ship_by=datetime(2025, 3, 5, tzinfo=UTC),
                                            deliver_by=PURCHASED + timedelta(days=8))])
    assert "Ada" not in str(refused.value) and "Main" not in str(refused.value)
