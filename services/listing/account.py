"""The seller account status machine (domain.md sections 1 and 7) and its effect on listings.

Status changes only on a verification, an enforcement decision of the metrics service, or an
operator's decision; every allowed change is in TRANSITIONS, anything else raises.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from services.listing.verification import Verdict
from shared.events.common import AccountStatus, EnforcementAction, FulfillmentChannel, ListingStatus


class Trigger(StrEnum):
    """What may change an account's status."""

    APPROVE = "approve"  # an operator clears a registration pending review
    REJECT = "reject"  # an operator refuses a registration pending review
    WARN = "warn"
    RESTRICT = "restrict"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"  # the metrics service: the seller is healthy again
    APPEAL_ACCEPTED = "appeal_accepted"  # an operator accepts a plan of action
    APPEAL_DENIED = "appeal_denied"


class TransitionRefused(Exception):
    """The trigger does not apply to an account in this status."""

    def __init__(self, status: AccountStatus, trigger: Trigger) -> None:
        super().__init__(f"an account that is {status.value} cannot take {trigger.value}")
        self.status = status
        self.trigger = trigger


#: Every allowed (status, trigger) -> new status. A milder enforcement than the current status
#: keeps the status (a warning does not lift a restriction); a repeated decision is a no-op.
TRANSITIONS: Mapping[tuple[AccountStatus, Trigger], AccountStatus] = MappingProxyType(
    {
        (AccountStatus.PENDING_REVIEW, Trigger.APPROVE): AccountStatus.ACTIVE,
        (AccountStatus.PENDING_REVIEW, Trigger.REJECT): AccountStatus.REJECTED,
        (AccountStatus.ACTIVE, Trigger.WARN): AccountStatus.WARNED,
        (AccountStatus.ACTIVE, Trigger.RESTRICT): AccountStatus.RESTRICTED,
        (AccountStatus.ACTIVE, Trigger.SUSPEND): AccountStatus.SUSPENDED,
        (AccountStatus.REINSTATED, Trigger.WARN): AccountStatus.WARNED,
        (AccountStatus.REINSTATED, Trigger.RESTRICT): AccountStatus.RESTRICTED,
        (AccountStatus.REINSTATED, Trigger.SUSPEND): AccountStatus.SUSPENDED,
        (AccountStatus.REINSTATED, Trigger.REINSTATE): AccountStatus.REINSTATED,
        (AccountStatus.WARNED, Trigger.WARN): AccountStatus.WARNED,
        (AccountStatus.WARNED, Trigger.RESTRICT): AccountStatus.RESTRICTED,
        (AccountStatus.WARNED, Trigger.SUSPEND): AccountStatus.SUSPENDED,
        (AccountStatus.WARNED, Trigger.REINSTATE): AccountStatus.REINSTATED,
        (AccountStatus.RESTRICTED, Trigger.WARN): AccountStatus.RESTRICTED,
        (AccountStatus.RESTRICTED, Trigger.RESTRICT): AccountStatus.RESTRICTED,
        (AccountStatus.RESTRICTED, Trigger.SUSPEND): AccountStatus.SUSPENDED,
        (AccountStatus.RESTRICTED, Trigger.REINSTATE): AccountStatus.REINSTATED,
        (AccountStatus.RESTRICTED, Trigger.APPEAL_ACCEPTED): AccountStatus.REINSTATED,
        (AccountStatus.RESTRICTED, Trigger.APPEAL_DENIED): AccountStatus.RESTRICTED,
        (AccountStatus.SUSPENDED, Trigger.WARN): AccountStatus.SUSPENDED,
        (AccountStatus.SUSPENDED, Trigger.RESTRICT): AccountStatus.SUSPENDED,
        (AccountStatus.SUSPENDED, Trigger.SUSPEND): AccountStatus.SUSPENDED,
        (AccountStatus.SUSPENDED, Trigger.REINSTATE): AccountStatus.REINSTATED,
        (AccountStatus.SUSPENDED, Trigger.APPEAL_ACCEPTED): AccountStatus.REINSTATED,
        (AccountStatus.SUSPENDED, Trigger.APPEAL_DENIED): AccountStatus.SUSPENDED,
    }
)

_STATUS_AFTER_VERIFICATION = {
    Verdict.VERIFIED: AccountStatus.ACTIVE,
    Verdict.REJECTED: AccountStatus.REJECTED,
    Verdict.PENDING_REVIEW: AccountStatus.PENDING_REVIEW,
}
# Statuses in good standing: they may list on either channel and sell.
_IN_GOOD_STANDING = frozenset({AccountStatus.ACTIVE, AccountStatus.WARNED, AccountStatus.REINSTATED})


def transition(status: AccountStatus, trigger: Trigger) -> AccountStatus:
    """The status after `trigger`; raises TransitionRefused when the table does not allow it."""
    try:
        return TRANSITIONS[(status, trigger)]
    except KeyError:
        raise TransitionRefused(status, trigger) from None


def status_after_verification(verdict: Verdict) -> AccountStatus:
    """A new account's first status."""
    return _STATUS_AFTER_VERIFICATION[verdict]


def apply_enforcement(status: AccountStatus, action: EnforcementAction) -> AccountStatus:
    return transition(status, Trigger(action.value))


def decide_appeal(status: AccountStatus, *, accepted: bool) -> AccountStatus:
    return transition(status, Trigger.APPEAL_ACCEPTED if accepted else Trigger.APPEAL_DENIED)


def decide_review(status: AccountStatus, *, approved: bool) -> AccountStatus:
    return transition(status, Trigger.APPROVE if approved else Trigger.REJECT)


def may_create_listing(status: AccountStatus, channel: FulfillmentChannel) -> bool:
    """Also the test for re-activating a paused listing: a restricted seller may not ship itself."""
    if status in _IN_GOOD_STANDING:
        return True
    return status is AccountStatus.RESTRICTED and channel is FulfillmentChannel.MARKETPLACE


def may_sell(status: AccountStatus) -> bool:
    """New orders are accepted from every verified seller that is not suspended."""
    return status in _IN_GOOD_STANDING or status is AccountStatus.RESTRICTED


@dataclass(frozen=True)
class SellerListing:
    """What the account machine needs to know of a listing."""

    listing_id: str
    channel: FulfillmentChannel
    status: ListingStatus
    deactivated_by_enforcement: bool = False
    paused: bool = False  # the seller paused it: it stays inactive whatever the account does
    in_stock: bool = True  # units available: without them a listing is inactive (domain.md section 2)


@dataclass(frozen=True)
class ListingChange:
    listing_id: str
    status: ListingStatus
    deactivated_by_enforcement: bool


def blocks_listing(status: AccountStatus, channel: FulfillmentChannel) -> bool:
    """An enforcement holds a listing of this channel inactive (restricted: merchant; suspended: all)."""
    if status is AccountStatus.SUSPENDED:
        return True
    return status is AccountStatus.RESTRICTED and channel is FulfillmentChannel.MERCHANT


def listing_changes(
    new_status: AccountStatus, listings: Iterable[SellerListing]
) -> tuple[ListingChange, ...]:
    """The listings to switch once the account is in `new_status`.

    Restricted: active merchant-fulfilled listings go inactive; suspended: every active listing;
    active again: exactly the listings enforcement switched off come back, unless the seller paused
    one meanwhile or it has no stock (those stay inactive); the ones the seller paused, or the rules
    suppressed, before stay as they are. The enforcement mark is cleared on every listing it is on.
    """
    if new_status is AccountStatus.RESTRICTED:
        return _deactivate(listing for listing in listings if listing.channel is FulfillmentChannel.MERCHANT)
    if new_status is AccountStatus.SUSPENDED:
        return _deactivate(listings)
    if new_status in {AccountStatus.ACTIVE, AccountStatus.REINSTATED}:
        return tuple(_restore(listing) for listing in listings if listing.deactivated_by_enforcement)
    return ()


def _restore(listing: SellerListing) -> ListingChange:
    buyable = listing.status is ListingStatus.INACTIVE and not listing.paused and listing.in_stock
    status = ListingStatus.ACTIVE if buyable else listing.status
    return ListingChange(listing.listing_id, status, deactivated_by_enforcement=False)


def _deactivate(listings: Iterable[SellerListing]) -> tuple[ListingChange, ...]:
    return tuple(
        ListingChange(listing.listing_id, ListingStatus.INACTIVE, deactivated_by_enforcement=True)
        for listing in listings
        if listing.status is ListingStatus.ACTIVE
    )
