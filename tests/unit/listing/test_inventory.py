import pytest

from services.listing.inventory import (
    ExceedsReservation,
    InvalidQuantity,
    Line,
    NegativeStock,
    Reservation,
    ReservationRefused,
    StockLevel,
    StockUpdate,
    UnknownStock,
    adjust,
    consume,
    release,
    reserve,
    set_available,
)
from shared.events.common import ListingStatus, ReservationFailure

STOCK = {
    "mug": StockLevel("mug", on_hand=10, reserved=2),
    "plate": StockLevel("plate", on_hand=4),
    "paused": StockLevel("paused", on_hand=9, status=ListingStatus.INACTIVE),
    "suppressed": StockLevel("suppressed", on_hand=9, status=ListingStatus.SUPPRESSED),
}


def reserved(update: StockUpdate | ReservationRefused) -> StockUpdate:
    assert isinstance(update, StockUpdate), update
    return update


def by_id(update: StockUpdate) -> dict[str, StockLevel]:
    return {level.listing_id: level for level in update.stock}


def test_available_stock_is_what_is_on_hand_minus_what_is_reserved():
    assert STOCK["mug"].available == 8


@pytest.mark.parametrize(("on_hand", "reserved_units"), [(-1, 0), (3, 4), (3, -1)])
def test_a_stock_level_can_never_be_negative(on_hand, reserved_units):
    with pytest.raises(NegativeStock):
        StockLevel("mug", on_hand=on_hand, reserved=reserved_units)


def test_an_order_reserves_every_line():
    update = reserved(reserve("o-1", [Line("mug", 3), Line("plate", 4)], STOCK))

    assert update.reservation == Reservation("o-1", (Line("mug", 3), Line("plate", 4)))
    assert by_id(update) == {
        "mug": StockLevel("mug", on_hand=10, reserved=5),
        "plate": StockLevel("plate", on_hand=4, reserved=4),
    }


def test_two_lines_of_one_listing_are_reserved_together():
    update = reserved(reserve("o-1", [Line("mug", 3), Line("mug", 5)], STOCK))

    assert update.reservation.lines == (Line("mug", 8),)
    assert by_id(update)["mug"].available == 0


def test_an_order_that_one_line_cannot_meet_reserves_nothing():
    refused = reserve("o-1", [Line("mug", 1), Line("plate", 5)], STOCK)

    assert refused == ReservationRefused(
        "o-1", ReservationFailure.OUT_OF_STOCK, "listing plate: 5 wanted, 4 available", "plate"
    )


def test_reserved_units_are_not_available_to_another_order():
    refused = reserve("o-2", [Line("mug", 9)], STOCK)

    assert isinstance(refused, ReservationRefused)
    assert refused.reason is ReservationFailure.OUT_OF_STOCK


def test_lines_of_one_listing_that_together_exceed_the_stock_are_refused():
    refused = reserve("o-1", [Line("plate", 3), Line("plate", 2)], STOCK)

    assert isinstance(refused, ReservationRefused)
    assert refused.detail == "listing plate: 5 wanted, 4 available"


@pytest.mark.parametrize("listing_id", ["paused", "suppressed"])
def test_an_inactive_listing_cannot_be_reserved(listing_id):
    refused = reserve("o-1", [Line(listing_id, 1)], STOCK)

    assert isinstance(refused, ReservationRefused)
    assert refused.reason is ReservationFailure.LISTING_INACTIVE
    assert refused.listing_id == listing_id


def test_an_unknown_listing_cannot_be_reserved():
    refused = reserve("o-1", [Line("ghost", 1)], STOCK)

    assert refused == ReservationRefused(
        "o-1", ReservationFailure.UNKNOWN_LISTING, "listing ghost does not exist", "ghost"
    )


def test_a_refusal_for_an_unknown_listing_outranks_one_for_stock():
    refused = reserve("o-1", [Line("plate", 9), Line("ghost", 1)], STOCK)

    assert isinstance(refused, ReservationRefused)
    assert (refused.reason, refused.listing_id) == (ReservationFailure.UNKNOWN_LISTING, "ghost")


def test_a_seller_who_may_not_sell_reserves_nothing():
    refused = reserve("o-1", [Line("mug", 1)], STOCK, seller_may_sell=False)

    assert refused == ReservationRefused(
        "o-1", ReservationFailure.SELLER_NOT_ACTIVE, "the seller may not sell"
    )


def test_a_refusal_reports_the_gravest_reason_and_details_every_problem():
    lines = [Line("plate", 9), Line("paused", 1), Line("ghost", 1)]

    refused = reserve("o-1", lines, STOCK, seller_may_sell=False)

    assert isinstance(refused, ReservationRefused)
    assert refused.reason is ReservationFailure.SELLER_NOT_ACTIVE
    assert refused.listing_id is None
    assert refused.detail == (
        "the seller may not sell; listing plate: 9 wanted, 4 available; listing paused is inactive; "
        "listing ghost does not exist"
    )


@pytest.mark.parametrize("lines", [[], [Line("mug", 0)], [Line("mug", 1), Line("plate", -2)]])
def test_an_order_without_lines_or_with_a_non_positive_quantity_is_malformed(lines):
    with pytest.raises(InvalidQuantity):
        reserve("o-1", lines, STOCK)


def test_a_cancellation_releases_every_reserved_unit():
    update = reserved(reserve("o-1", [Line("mug", 3), Line("plate", 4)], STOCK))
    stock = {**STOCK, **by_id(update)}

    released = release(update.reservation, stock)

    assert released.reservation == Reservation("o-1", ())
    assert by_id(released) == {"mug": STOCK["mug"], "plate": STOCK["plate"]}


def test_releasing_more_than_is_reserved_is_refused():
    with pytest.raises(NegativeStock):
        release(Reservation("o-1", (Line("plate", 1),)), STOCK)


def test_releasing_stock_of_an_unknown_listing_is_refused():
    with pytest.raises(UnknownStock):
        release(Reservation("o-1", (Line("ghost", 1),)), STOCK)


def test_a_shipment_consumes_reserved_units():
    update = reserved(reserve("o-1", [Line("mug", 3)], STOCK))
    stock = {**STOCK, **by_id(update)}

    shipped = consume(update.reservation, [Line("mug", 3)], stock)

    assert shipped.reservation == Reservation("o-1", ())
    assert by_id(shipped) == {"mug": StockLevel("mug", on_hand=7, reserved=2)}


def test_a_partial_shipment_leaves_the_rest_reserved():
    update = reserved(reserve("o-1", [Line("mug", 3), Line("plate", 2)], STOCK))
    stock = {**STOCK, **by_id(update)}

    shipped = consume(update.reservation, [Line("mug", 1), Line("plate", 2)], stock)

    assert shipped.reservation == Reservation("o-1", (Line("mug", 2),))
    assert by_id(shipped) == {
        "mug": StockLevel("mug", on_hand=9, reserved=4),
        "plate": StockLevel("plate", on_hand=2, reserved=0),
    }


@pytest.mark.parametrize("shipped", [[Line("mug", 4)], [Line("plate", 1)]])
def test_shipping_more_than_the_order_reserved_is_refused(shipped):
    stock = {**STOCK, "mug": StockLevel("mug", on_hand=10, reserved=5)}

    with pytest.raises(ExceedsReservation):
        consume(Reservation("o-1", (Line("mug", 3),)), shipped, stock)


@pytest.mark.parametrize(("delta", "on_hand"), [(5, 15), (-8, 2), (0, 10)])
def test_an_adjustment_changes_the_units_on_hand(delta, on_hand):
    assert adjust(STOCK["mug"], delta) == StockLevel("mug", on_hand=on_hand, reserved=2)


@pytest.mark.parametrize("delta", [-9, -11])
def test_an_adjustment_that_would_eat_into_reserved_units_is_refused(delta):
    with pytest.raises(NegativeStock):
        adjust(STOCK["mug"], delta)


@pytest.mark.parametrize(("quantity", "on_hand"), [(0, 2), (5, 7)])
def test_the_seller_sets_the_units_for_sale_and_reserved_units_stay_aside(quantity, on_hand):
    level = set_available(STOCK["mug"], quantity)

    assert level == StockLevel("mug", on_hand=on_hand, reserved=2)
    assert level.available == quantity


def test_a_negative_quantity_for_sale_is_refused():
    with pytest.raises(InvalidQuantity):
        set_available(STOCK["mug"], -1)
