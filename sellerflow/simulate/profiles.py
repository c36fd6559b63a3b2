"""Seller profiles: how a kind of seller behaves, as rates the simulator draws from."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Profile:
    name: str
    orders_per_day: float = 6.0
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
    # what buyers do, per order
    # Defects (domain.md section 6: the order defect rate must stay under 1%): an excellent seller
    # lands near 0.25%, any other near 0.4%, with these rates and the carriers' delays: an honest
    # seller breaches only through what its profile does wrong, not through bad luck.
    lost: float = 0.002  # the carrier loses the parcel
    message: float = 0.12
    return_request: float = 0.04
    feedback: float = 0.3
    review: float = 0.15  # a product review: never counts in seller metrics
    negative_feedback: float = 0.006  # share of feedback at 1-2 stars when all went well
    claim_when_lost: float = 0.7
    chargeback: float = 0.0003

    def behaving(self) -> Profile:
        """The same seller after an accepted appeal: it fixed what it did wrong."""
        return replace(EXCELLENT, name=self.name, orders_per_day=self.orders_per_day)


EXCELLENT = Profile("excellent", negative_feedback=0.003, lost=0.001, chargeback=0.0002)
AVERAGE = Profile("average", ship_late=0.02, cancel=0.01, reply_late=0.05, return_late=0.03)
SLOW_SHIPPER = Profile("slow shipper", ship_late=0.35, reply_late=0.05)
CANCELLER = Profile("canceller", cancel=0.12)
BAD_TRACKER = Profile("bad tracker", invalid_tracking=0.15, no_scan=0.08)
CARELESS_SUPPORT = Profile("careless support", reply_late=0.6, return_late=0.6, return_request=0.08, message=0.25,
                           negative_feedback=0.05)
SPAMMER = Profile("spammer", spam=0.3)

PROFILES: dict[str, Profile] = {p.name: p for p in (EXCELLENT, AVERAGE, SLOW_SHIPPER, CANCELLER, BAD_TRACKER,
                                                     CARELESS_SUPPORT, SPAMMER)}

#: Shares of each profile in a population (the rest are average).
MIX: tuple[tuple[Profile, float], ...] = (
    (EXCELLENT, 0.30), (SLOW_SHIPPER, 0.10), (CANCELLER, 0.10), (BAD_TRACKER, 0.10),
    (CARELESS_SUPPORT, 0.10), (SPAMMER, 0.08),
)
