import pytest

from services.listing.account import (
    TRANSITIONS,
    ListingChange,
    SellerListing,
    TransitionRefused,
    Trigger,
    apply_enforcement,
    blocks_listing,
    decide_appeal,
    decide_review,
    listing_changes,
    may_create_listing,
    may_sell,
    status_after_verification,
    transition,
)
from services.listing.verification import Verdict
from shared.events.common import AccountStatus, EnforcementAction, FulfillmentChannel, ListingStatus

A = AccountStatus
MERCHANT = FulfillmentChannel.MERCHANT
MARKETPLACE = FulfillmentChannel.MARKETPLACE


@pytest.mark.parametrize(
    ("verdict", "status"),
    [
        (Verdict.VERIFIED, A.ACTIVE),
        (Verdict.REJECTED, A.REJECTED),
        (Verdict.PENDING_REVIEW, A.PENDING_REVIEW),
    ],
)
def test_a_new_account_starts_in_the_status_of_its_verdict(verdict, status):
    assert status_after_verification(verdict) is status


@pytest.mark.parametrize(("approved", "status"), [(True, A.ACTIVE), (False, A.REJECTED)])
def test_an_operator_decides_a_registration_pending_review(approved, status):
    assert decide_review(A.PENDING_REVIEW, approved=approved) is status


@pytest.mark.parametrize("status", [A.ACTIVE, A.REJECTED, A.SUSPENDED])
def test_only_a_pending_registration_can_be_reviewed(status):
    with pytest.raises(TransitionRefused):
        decide_review(status, approved=True)


@pytest.mark.parametrize(
    ("status", "action", "after"),
    [
        (A.ACTIVE, EnforcementAction.WARN, A.WARNED),
        (A.ACTIVE, EnforcementAction.RESTRICT, A.RESTRICTED),
        (A.ACTIVE, EnforcementAction.SUSPEND, A.SUSPENDED),
        (A.WARNED, EnforcementAction.RESTRICT, A.RESTRICTED),
        (A.WARNED, EnforcementAction.SUSPEND, A.SUSPENDED),
        (A.WARNED, EnforcementAction.REINSTATE, A.REINSTATED),
        (A.RESTRICTED, EnforcementAction.SUSPEND, A.SUSPENDED),
        (A.RESTRICTED, EnforcementAction.REINSTATE, A.REINSTATED),
        (A.SUSPENDED, EnforcementAction.REINSTATE, A.REINSTATED),
        (A.REINSTATED, EnforcementAction.WARN, A.WARNED),
        (A.REINSTATED, EnforcementAction.RESTRICT, A.RESTRICTED),
        (A.REINSTATED, EnforcementAction.SUSPEND, A.SUSPENDED),
    ],
)
def test_an_enforcement_decision_moves_the_account(status, action, after):
    assert apply_enforcement(status, action) is after


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (A.RESTRICTED, EnforcementAction.WARN),
        (A.SUSPENDED, EnforcementAction.WARN),
        (A.SUSPENDED, EnforcementAction.RESTRICT),
    ],
)
def test_a_milder_enforcement_does_not_lift_a_graver_one(status, action):
    assert apply_enforcement(status, action) is status


@pytest.mark.parametrize("status", [A.WARNED, A.RESTRICTED, A.SUSPENDED, A.REINSTATED])
def test_a_repeated_enforcement_decision_changes_nothing(status):
    action = {
        A.WARNED: EnforcementAction.WARN,
        A.RESTRICTED: EnforcementAction.RESTRICT,
        A.SUSPENDED: EnforcementAction.SUSPEND,
        A.REINSTATED: EnforcementAction.REINSTATE,
    }[status]

    assert apply_enforcement(status, action) is status


@pytest.mark.parametrize("action", list(EnforcementAction))
@pytest.mark.parametrize("status", [A.PENDING_REVIEW, A.REJECTED])
def test_an_account_that_was_never_verified_cannot_be_enforced_on(status, action):
    with pytest.raises(TransitionRefused) as refused:
        apply_enforcement(status, action)

    assert refused.value.status is status
    assert refused.value.trigger is Trigger(action.value)


def test_an_active_account_cannot_be_reinstated():
    with pytest.raises(TransitionRefused, match="active cannot take reinstate"):
        apply_enforcement(A.ACTIVE, EnforcementAction.REINSTATE)


@pytest.mark.parametrize("status", [A.RESTRICTED, A.SUSPENDED])
def test_an_accepted_appeal_reinstates_the_account(status):
    assert decide_appeal(status, accepted=True) is A.REINSTATED


@pytest.mark.parametrize("status", [A.RESTRICTED, A.SUSPENDED])
def test_a_denied_appeal_leaves_the_account_as_it_was(status):
    assert decide_appeal(status, accepted=False) is status


@pytest.mark.parametrize("status", [A.PENDING_REVIEW, A.REJECTED, A.ACTIVE, A.WARNED, A.REINSTATED])
@pytest.mark.parametrize("accepted", [True, False])
def test_an_account_without_a_restriction_or_suspension_has_nothing_to_appeal(status, accepted):
    with pytest.raises(TransitionRefused):
        decide_appeal(status, accepted=accepted)


def test_every_transition_in_the_table_is_what_transition_returns():
    for (status, trigger), after in TRANSITIONS.items():
        assert transition(status, trigger) is after


def test_a_rejected_account_has_no_way_out():
    assert not [key for key in TRANSITIONS if key[0] is A.REJECTED]


# --- listings ---


@pytest.mark.parametrize("status", [A.ACTIVE, A.WARNED, A.REINSTATED])
@pytest.mark.parametrize("channel", list(FulfillmentChannel))
def test_a_seller_in_good_standing_may_list_on_either_channel(status, channel):
    assert may_create_listing(status, channel)


def test_a_restricted_seller_may_list_only_marketplace_fulfilled():
    assert may_create_listing(A.RESTRICTED, MARKETPLACE)
    assert not may_create_listing(A.RESTRICTED, MERCHANT)


@pytest.mark.parametrize("status", [A.PENDING_REVIEW, A.REJECTED, A.SUSPENDED])
@pytest.mark.parametrize("channel", list(FulfillmentChannel))
def test_an_unverified_rejected_or_suspended_seller_may_not_list(status, channel):
    assert not may_create_listing(status, channel)


@pytest.mark.parametrize(
    ("status", "sells"),
    [
        (A.ACTIVE, True),
        (A.WARNED, True),
        (A.RESTRICTED, True),
        (A.REINSTATED, True),
        (A.SUSPENDED, False),
        (A.PENDING_REVIEW, False),
        (A.REJECTED, False),
    ],
)
def test_only_a_verified_seller_that_is_not_suspended_may_sell(status, sells):
    assert may_sell(status) is sells


LISTINGS = (
    SellerListing("mfn-active", MERCHANT, ListingStatus.ACTIVE),
    SellerListing("mfn-paused", MERCHANT, ListingStatus.INACTIVE),
    SellerListing("mfn-suppressed", MERCHANT, ListingStatus.SUPPRESSED),
    SellerListing("afn-active", MARKETPLACE, ListingStatus.ACTIVE),
    SellerListing("afn-paused", MARKETPLACE, ListingStatus.INACTIVE),
)


def test_a_restriction_deactivates_the_active_merchant_fulfilled_listings():
    assert listing_changes(A.RESTRICTED, LISTINGS) == (
        ListingChange("mfn-active", ListingStatus.INACTIVE, deactivated_by_enforcement=True),
    )


def test_a_suspension_deactivates_every_active_listing():
    assert listing_changes(A.SUSPENDED, LISTINGS) == (
        ListingChange("mfn-active", ListingStatus.INACTIVE, deactivated_by_enforcement=True),
        ListingChange("afn-active", ListingStatus.INACTIVE, deactivated_by_enforcement=True),
    )


@pytest.mark.parametrize("status", [A.WARNED, A.PENDING_REVIEW, A.REJECTED])
def test_a_warning_changes_no_listing(status):
    assert listing_changes(status, LISTINGS) == ()


def test_reinstatement_reactivates_exactly_the_listings_enforcement_deactivated():
    listings = (
        SellerListing("by-enforcement", MERCHANT, ListingStatus.INACTIVE, deactivated_by_enforcement=True),
        SellerListing(
            "by-enforcement-afn", MARKETPLACE, ListingStatus.INACTIVE, deactivated_by_enforcement=True
        ),
        SellerListing("paused-by-seller", MERCHANT, ListingStatus.INACTIVE),
        SellerListing("suppressed", MERCHANT, ListingStatus.SUPPRESSED),
        SellerListing("active", MARKETPLACE, ListingStatus.ACTIVE),
    )

    assert listing_changes(A.REINSTATED, listings) == (
        ListingChange("by-enforcement", ListingStatus.ACTIVE, deactivated_by_enforcement=False),
        ListingChange("by-enforcement-afn", ListingStatus.ACTIVE, deactivated_by_enforcement=False),
    )


def test_restrict_then_suspend_then_reinstate_restores_the_listings_as_they_were():
    listings = {listing.listing_id: listing for listing in LISTINGS}

    def apply(status: AccountStatus) -> None:
        for change in listing_changes(status, listings.values()):
            old = listings[change.listing_id]
            listings[change.listing_id] = SellerListing(
                old.listing_id, old.channel, change.status, change.deactivated_by_enforcement
            )

    for status in (A.RESTRICTED, A.SUSPENDED, A.REINSTATED):
        apply(status)

    assert tuple(listings.values()) == LISTINGS


def test_reinstatement_leaves_a_listing_the_seller_paused_meanwhile_inactive_and_clears_its_mark():
    listing = SellerListing("paused-later", MERCHANT, ListingStatus.INACTIVE, deactivated_by_enforcement=True,
                            paused=True)

    assert listing_changes(A.REINSTATED, [listing]) == (
        ListingChange("paused-later", ListingStatus.INACTIVE, deactivated_by_enforcement=False),
    )


def test_reinstatement_leaves_a_listing_without_stock_inactive():
    listing = SellerListing("sold-out", MARKETPLACE, ListingStatus.INACTIVE, deactivated_by_enforcement=True,
                            in_stock=False)

    assert listing_changes(A.REINSTATED, [listing]) == (
        ListingChange("sold-out", ListingStatus.INACTIVE, deactivated_by_enforcement=False),
    )


def test_reinstatement_clears_the_mark_of_a_listing_suppressed_meanwhile_and_leaves_it_suppressed():
    listing = SellerListing("fixed-badly", MERCHANT, ListingStatus.SUPPRESSED, deactivated_by_enforcement=True)

    assert listing_changes(A.REINSTATED, [listing]) == (
        ListingChange("fixed-badly", ListingStatus.SUPPRESSED, deactivated_by_enforcement=False),
    )


@pytest.mark.parametrize(
    ("status", "channel", "blocked"),
    [
        (A.SUSPENDED, MARKETPLACE, True),
        (A.SUSPENDED, MERCHANT, True),
        (A.RESTRICTED, MERCHANT, True),
        (A.RESTRICTED, MARKETPLACE, False),
        (A.WARNED, MERCHANT, False),
        (A.ACTIVE, MERCHANT, False),
        (A.REINSTATED, MERCHANT, False),
    ],
)
def test_an_enforcement_holds_the_listings_of_the_channels_it_closes(status, channel, blocked):
    assert blocks_listing(status, channel) is blocked
