import pytest

from services.listing.standing import HELD, NO_STOCK, PAUSED, Standing
from shared.events.common import ListingStatus


def test_a_listing_with_units_nothing_holds_back_is_active():
    standing = Standing(available=3)

    assert standing.status is ListingStatus.ACTIVE
    assert standing.reasons == ()


@pytest.mark.parametrize(
    ("standing", "reasons"),
    [
        (Standing(paused=True, available=3), (PAUSED,)),
        (Standing(held=True, available=3), (HELD,)),
        (Standing(available=0), (NO_STOCK,)),
        (Standing(paused=True, held=True, available=0), (PAUSED, HELD, NO_STOCK)),
    ],
)
def test_a_paused_held_or_empty_listing_is_inactive_and_says_why(standing, reasons):
    assert standing.status is ListingStatus.INACTIVE
    assert standing.reasons == reasons


def test_a_broken_rule_suppresses_whatever_else_holds():
    standing = Standing(suppressed_by=("L4 description: contact details",), paused=True, available=0)

    assert standing.status is ListingStatus.SUPPRESSED
    assert standing.reasons == ("L4 description: contact details", PAUSED, NO_STOCK)


def test_resuming_a_paused_listing_makes_it_active_only_if_nothing_else_holds_it():
    assert Standing(paused=True, available=2).resume().status is ListingStatus.ACTIVE
    assert Standing(paused=True, held=True, available=2).resume().status is ListingStatus.INACTIVE
    assert Standing(available=2).pause().status is ListingStatus.INACTIVE
