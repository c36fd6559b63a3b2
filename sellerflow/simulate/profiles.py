"""Seller profiles: how a kind of seller behaves, as rates the simulator draws from."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Profile:
    name: str
    #: Enough orders that the shortest windows (7-day cancel rate, 10-day late shipment rate) reach the
    #: 25-order minimum (domain.md section 6), so a profile's faults show; a little more for cancellers.
    orders_per_day: float = 4.5
    marketplace_share: float = 0.2  # of orders fulfilled by the marketplace's warehouse
    # shipping (merchant-fulfilled)
    ship_late: float = 0.0  # ships after ship-by
    cancel: float = 0.0  # cancels for lack of stock before shipping
    invalid_tracking: float = 0.0  # a number that fails the carrier's check digit
    no_scan: float = 0.0  # a valid-looking number the carrier never scans
    # support
    reply_late: float = 0.0  # answers a buyer message after 24 h
    return_late: float = 0.0  # decides a return after 48 h
    spam: float = 0.0  # per order: a marketing or review-incentive message
    # What buyers do, per order. Buyers blame a seller for what the seller did (a late shipment), not
    # for the carrier's delays: an honest seller's order defect rate comes from its own small base
    # rates (zero for an excellent one), so it breaches only through what its profile does wrong.
    lost: float = 0.002  # the carrier loses the parcel (a claim on it is marketplace-funded if shipped well)
    message: float = 0.12
    return_request: float = 0.04
    feedback: float = 0.3
    review: float = 0.15  # a product review: never counts in seller metrics
    negative_feedback: float = 0.0  # share of feedback at 1-2 stars when the seller did nothing wrong
    negative_when_late: float = 0.3  # share of feedback at 1-2 stars when the seller shipped late
    claim_when_lost: float = 0.7
    chargeback: float = 0.0  # a "not as described" chargeback the seller loses

    def behaving(self) -> Profile:
        """The same seller after an accepted appeal: it fixed what it did wrong."""
        return replace(EXCELLENT, name=self.name, orders_per_day=self.orders_per_day)


# Sellers differ in size. Those whose fault shows in a short window need the volume for it: the
# 7-day cancel rate and the 10-day late shipment rate count from 25 orders on (domain.md section 6).
EXCELLENT = Profile("excellent", orders_per_day=3.5)
# An average seller is slower to answer than an excellent one and mistypes a tracking number now and then;
# nothing that restricts (one late shipment in a 25-order window is already a 4% breach).
AVERAGE = Profile("average", orders_per_day=3.0, reply_late=0.03, return_late=0.02, invalid_tracking=0.002)
SLOW_SHIPPER = Profile("slow shipper", orders_per_day=4.0, ship_late=0.3, reply_late=0.03)
CANCELLER = Profile("canceller", orders_per_day=6.0, cancel=0.12)
BAD_TRACKER = Profile("bad tracker", orders_per_day=3.5, invalid_tracking=0.15, no_scan=0.08)
CARELESS_SUPPORT = Profile("careless support", orders_per_day=4.0, reply_late=0.6, return_late=0.6,
                           return_request=0.08, message=0.25)
SPAMMER = Profile("spammer", orders_per_day=3.0, spam=0.3)

PROFILES: dict[str, Profile] = {p.name: p for p in (EXCELLENT, AVERAGE, SLOW_SHIPPER, CANCELLER, BAD_TRACKER,
                                                     CARELESS_SUPPORT, SPAMMER)}

#: Shares of each profile in a population (the rest are average).
MIX: tuple[tuple[Profile, float], ...] = (
    (EXCELLENT, 0.30), (SLOW_SHIPPER, 0.10), (CANCELLER, 0.10), (BAD_TRACKER, 0.10),
    (CARELESS_SUPPORT, 0.10), (SPAMMER, 0.08),
)
