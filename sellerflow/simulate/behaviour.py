"""What buyers, carriers and sellers do, drawn from the seed: pure functions from facts to plans.

Every draw uses a random generator keyed by the seed and the entity (an order, a message ...), so a
plan does not depend on when the simulator happened to look at the entity.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sellerflow.simulate.population import SimSeller
from sellerflow.simulate.profiles import Profile
from services.fulfillment.tracking import dhl_express_check_digit, fedex_express_check_digit, ups_check_digit

TRANSIT_DAYS = {"standard": 4, "expedited": 2, "priority": 1}

BUYER_QUESTIONS = ["Hello, when will my order arrive?", "Could you tell me if the parcel has shipped?",
                   "Hi, can I still change the delivery address?", "Is this item the 750 ml version?"]
SELLER_REPLIES = ["Thank you for your message. Your order is on its way and should arrive soon.",
                  "Thanks for asking: the parcel left our warehouse and the carrier has it.",
                  "Sorry for the wait. We checked your order and it is in transit."]
SPAM = ["Leave us a 5-star review and we will refund 10% of your order!",
        "Check out our other products at www.acme-home-deals.com, use code SAVE20 for 20% off.",
        "Please contact us before you leave a review, we will make it right with a gift card."]


def rng_for(seed: int, *parts: object) -> random.Random:
    return random.Random("/".join(map(str, (seed, *parts))))


@dataclass(frozen=True)
class OrderDraft:
    order_id: str
    seller: SimSeller
    listing: dict[str, Any]
    quantity: int
    purchased_at: datetime
    speed: str

    @property
    def channel(self) -> str:
        return str(self.listing["fulfillment_channel"])

    def payload(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id, "buyer_id": f"B-{self.order_id}",
            "lines": [{"listing_id": self.listing["listing_id"], "quantity": self.quantity,
                       "unit_price": {"amount": self.listing["price"], "currency": "EUR"}}],
            "currency": "EUR", "purchased_at": self.purchased_at,
            "ship_to": {"name": "Sim Buyer", "lines": ["1 Market Street"], "city": "Hamburg", "region": "HH",
                        "postal_code": "20095", "country": "DE"},
            "shipping_speed": self.speed, "fulfillment_channel": self.channel,
        }

    @property
    def total(self) -> Decimal:
        return Decimal(str(self.listing["price"])) * self.quantity

    def as_order(self, *, deliver_by: str) -> dict[str, Any]:
        """The order as the order service shows it, as far as a parcel's journey needs it."""
        payload = self.payload()
        return {"order_id": self.order_id, "buyer_id": payload["buyer_id"], "lines": payload["lines"],
                "currency": payload["currency"], "total": str(self.total), "shipping_speed": self.speed,
                "deliver_by": deliver_by}


def draw_orders(seed: int, seller: SimSeller, start: datetime, end: datetime, *, merchant_allowed: bool
                ) -> list[OrderDraft]:
    """The orders buyers place with a seller in [start, end): a Poisson count at the profile's rate."""
    rng = rng_for(seed, "orders", seller.seller_id, start.isoformat())
    hours = (end - start).total_seconds() / 3600
    rate = seller.profile.orders_per_day * hours / 24
    count = _poisson(rng, rate)
    listings = seller.listings if merchant_allowed else seller.marketplace_listings
    drafts = []
    for n in range(count):
        marketplace = rng.random() < seller.profile.marketplace_share or not merchant_allowed
        pool = seller.marketplace_listings if marketplace else seller.merchant_listings
        listing = rng.choice(pool or listings)
        at = start + timedelta(seconds=rng.randrange(int(hours * 3600)))
        speed = rng.choice(["standard"] * 6 + ["expedited", "priority"])
        drafts.append(OrderDraft(f"O-{seller.seller_id}-{start:%m%d%H}-{n}", seller, listing,
                                 rng.choice([1, 1, 1, 2, 3]), at, speed))
    return sorted(drafts, key=lambda d: d.purchased_at)


def _poisson(rng: random.Random, mean: float) -> int:
    count, threshold, product = 0, pow(2.718281828459045, -mean), rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


@dataclass(frozen=True)
class ShipPlan:
    cancel: bool
    at: datetime
    carrier: str
    tracking_number: str
    scans: bool  # does the carrier ever scan it?
    late: bool = False  # shipped after ship-by


def plan_shipping(seed: int, profile: Profile, order_id: str, seen_at: datetime, ship_by: datetime) -> ShipPlan:
    rng = rng_for(seed, "ship", order_id)
    if rng.random() < profile.cancel:
        return ShipPlan(True, seen_at + timedelta(hours=rng.uniform(0.5, 4)), "", "", False)
    late = rng.random() < profile.ship_late
    if late:
        at = ship_by + timedelta(hours=rng.uniform(6, 60))
    else:  # some time before ship-by; right away when the order came in just before its ship-by ("by" is on time)
        latest = ship_by - timedelta(hours=1) if ship_by - seen_at > timedelta(minutes=90) else max(ship_by, seen_at)
        at = seen_at + (latest - seen_at) * rng.uniform(0.1, 0.9)
    carrier = rng.choice(["ups", "ups", "fedex", "dhl"])
    number = tracking_number(rng, carrier)
    if rng.random() < profile.invalid_tracking:
        number = number[:-1] + str((int(number[-1]) + 1) % 10)  # a wrong check digit
        return ShipPlan(False, at, carrier, number, False, late)
    return ShipPlan(False, at, carrier, number, rng.random() >= profile.no_scan, late)


def tracking_number(rng: random.Random, carrier: str) -> str:
    if carrier == "ups":
        body = f"{rng.randrange(10**5):05d}X" + "03" + f"{rng.randrange(10**7):07d}"
        return f"1Z{body}{ups_check_digit(body)}"
    if carrier == "fedex":
        digits = f"{rng.randrange(10**11):011d}"
        return digits + str(fedex_express_check_digit(digits))
    digits = f"{rng.randrange(10**9):09d}"
    return digits + str(dhl_express_check_digit(digits))


@dataclass(frozen=True)
class Journey:
    """What happens to a parcel once shipped, and what its buyer does."""

    scans: list[tuple[datetime, str]]
    arrives_at: datetime | None  # None: lost
    message_at: datetime | None
    feedback: tuple[datetime, int] | None
    return_at: datetime | None
    claim_at: datetime | None
    chargeback_at: datetime | None
    review: tuple[datetime, int] | None = None


def plan_journey(seed: int, profile: Profile, order_id: str, shipped_at: datetime, speed: str, *,
                 scanned: bool, deliver_by: datetime | None, shipped_late: bool = False) -> Journey:
    rng = rng_for(seed, "journey", order_id)
    lost = rng.random() < profile.lost
    delayed = rng.random() < 0.03  # the carrier's own delays, whatever the seller does
    transit = timedelta(days=TRANSIT_DAYS[speed] + (rng.choice([1, 2]) if delayed else 0), hours=rng.uniform(-6, 6))
    arrives = None if lost else shipped_at + transit
    scans: list[tuple[datetime, str]] = []
    if scanned:
        scans.append((shipped_at + timedelta(hours=rng.uniform(2, 12)), "in_transit"))
        scans.append((arrives, "delivered") if arrives else (shipped_at + timedelta(days=3), "lost"))
    late = arrives is None or (deliver_by is not None and arrives > deliver_by)
    message_at = shipped_at + timedelta(hours=rng.uniform(6, 60)) if rng.random() < profile.message else None
    feedback = None
    if arrives and rng.random() < profile.feedback:
        negative = rng.random() < (profile.negative_when_late if late and shipped_late else profile.negative_feedback)
        feedback = (arrives + timedelta(days=rng.uniform(1, 4)), rng.choice([1, 2]) if negative else rng.choice([4, 5]))
    returned = arrives is not None and rng.random() < profile.return_request
    return_at = arrives + timedelta(days=rng.uniform(2, 10)) if arrives and returned else None
    claim_at = shipped_at + timedelta(days=9) if lost and rng.random() < profile.claim_when_lost else None
    chargeback_at = arrives + timedelta(days=12) if arrives and rng.random() < profile.chargeback else None
    review = None
    if arrives and rng.random() < profile.review:
        review = (arrives + timedelta(days=rng.uniform(2, 8)), rng.choice([3, 4, 4, 5, 5]))
    return Journey(scans, arrives, message_at, feedback, return_at, claim_at, chargeback_at, review)


def reply_delay(seed: int, profile: Profile, message_id: str) -> timedelta:
    rng = rng_for(seed, "reply", message_id)
    return timedelta(hours=rng.uniform(26, 40) if rng.random() < profile.reply_late else rng.uniform(1, 18))


def return_answer_delay(seed: int, profile: Profile, return_id: str) -> timedelta:
    rng = rng_for(seed, "return", return_id)
    return timedelta(hours=rng.uniform(50, 80) if rng.random() < profile.return_late else rng.uniform(2, 30))
