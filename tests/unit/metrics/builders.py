"""Events as the order, fulfillment, aftersales and listing services emit them, and an in-memory fold of the
metrics domain (no database): events -> item facts -> daily bucket rows -> scorecard at a day."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from services.metrics.domain import facts
from services.metrics.domain.contributions import Deltas, timeline, total
from services.metrics.domain.scorecard import Scorecard, scorecard
from services.metrics.policy import DEFAULT_POLICY, Policy
from shared.events import Event, Payload, new_event
from shared.events.aftersales import (
    MessageReceived,
    MessageReplied,
    RefundIssued,
    ReturnAuthorized,
    ReturnRejected,
    ReturnRequested,
    ReviewReceived,
)
from shared.events.disputes import ChargebackDecided, ClaimDecided, ClaimFiled, FeedbackReceived, FeedbackRemoved
from shared.events.fulfillment import (
    ShipmentConfirmed,
    ShipmentDelivered,
    ShipmentTrackingUpdated,
    ShipmentTrackingValidated,
)
from shared.events.order import OrderCancelled, OrderConfirmed, OrderPlaced, OrderRejected

#: Day 0 of the tests: a Monday, noon UTC.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
H = timedelta(hours=1)
SELLER = "S-1"


def at(day: int, hour: int = 12) -> datetime:
    """`day` days after (negative: before) day 0, at `hour` UTC."""
    return datetime.combine(NOW.date() + timedelta(days=day), datetime.min.time(), tzinfo=UTC) + timedelta(hours=hour)


def ev(data: Payload, time: datetime, subject: str = "x", seller: str = SELLER) -> Event[Any]:
    return new_event(data, seller_id=seller, subject=subject, time=time, source="/test")


def oid() -> str:
    return f"O-{uuid.uuid4().hex[:8]}"


@dataclass
class Order:
    """An order and the events of its life, each built with the order's own facts."""

    order_id: str = field(default_factory=oid)
    purchased_at: datetime = field(default_factory=lambda: at(-1))
    channel: str = "merchant"
    total: str = "20.00"
    quantity: int = 2
    currency: str = "USD"
    handling: timedelta = timedelta(days=2)
    transit: timedelta = timedelta(days=5)
    seller: str = SELLER

    @property
    def ship_by(self) -> datetime:
        return self.purchased_at + self.handling

    @property
    def deliver_by(self) -> datetime:
        return self.ship_by + self.transit

    def _facts(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "purchased_at": self.purchased_at, "fulfillment_channel": self.channel}

    def _ev(self, data: Payload, time: datetime) -> Event[Any]:
        return ev(data, time, self.order_id, self.seller)

    def _lines(self) -> list[dict[str, Any]]:
        unit = Decimal(self.total) / self.quantity
        return [{"listing_id": "L-1", "sku": "SKU-1", "quantity": self.quantity,
                 "unit_price": {"amount": unit.quantize(Decimal("0.01")), "currency": self.currency}}]

    def placed(self) -> Event[Any]:
        return self._ev(OrderPlaced.model_validate({
            **self._facts(), "buyer_id": "B-1", "lines": self._lines(), "currency": self.currency,
            "total": {"amount": self.total, "currency": self.currency}, "shipping_speed": "standard",
            "ship_to_country": "US"}), self.purchased_at)

    def confirmed(self) -> Event[Any]:
        return self._ev(OrderConfirmed.model_validate({
            **self._facts(), "shipping_speed": "standard", "lines": self._lines(), "currency": self.currency,
            "total": {"amount": self.total, "currency": self.currency}, "ship_by": self.ship_by,
            "deliver_by": self.deliver_by}), self.purchased_at + timedelta(minutes=1))

    def rejected(self) -> Event[Any]:
        return self._ev(OrderRejected.model_validate({**self._facts(), "reason": "out_of_stock"}),
                        self.purchased_at + timedelta(minutes=1))

    def cancelled(self, by: str, when: datetime | None = None, before_shipment: bool = True) -> Event[Any]:
        when = when or self.purchased_at + H
        return self._ev(OrderCancelled.model_validate({**self._facts(), "by": by, "reason": "r",
                                                       "before_shipment": before_shipment, "cancelled_at": when}),
                        when)

    def _shipment(self, shipped_at: datetime, shipment_id: str) -> dict[str, Any]:
        return {**self._facts(), "shipment_id": shipment_id, "shipped_at": shipped_at, "ship_by": self.ship_by,
                "deliver_by": self.deliver_by}

    def shipped(self, when: datetime | None = None, shipment_id: str = "SH-1") -> Event[Any]:
        when = when or self.purchased_at + DAY
        return self._ev(ShipmentConfirmed.model_validate({
            **self._shipment(when, shipment_id), "carrier": "ups", "tracking_number": "1Z999AA10123456784",
            "tracking_format_valid": True, "lines": [{"listing_id": "L-1", "sku": "SKU-1", "quantity": 1}]}), when)

    def scanned(self, when: datetime, shipped_at: datetime, status: str = "in_transit",
                shipment_id: str = "SH-1") -> Event[Any]:
        return self._ev(ShipmentTrackingUpdated.model_validate({
            **self._shipment(shipped_at, shipment_id), "carrier": "ups", "tracking_number": "1Z999AA10123456784",
            "status": status, "scanned_at": when}), when)

    def tracking(self, valid: bool, when: datetime, shipped_at: datetime, first_scan: datetime | None = None,
                 shipment_id: str = "SH-1") -> Event[Any]:
        return self._ev(ShipmentTrackingValidated.model_validate({
            **self._shipment(shipped_at, shipment_id), "valid": valid,
            "reason": "first_scan" if valid else "no_scan", "first_scan_at": first_scan or (when if valid else None)}),
            when)

    def delivered(self, when: datetime, shipped_at: datetime, shipment_id: str = "SH-1") -> Event[Any]:
        return self._ev(ShipmentDelivered.model_validate({**self._shipment(shipped_at, shipment_id),
                                                          "delivered_at": when}), when)

    def feedback(self, stars: int, when: datetime, feedback_id: str = "F-1") -> Event[Any]:
        return self._ev(FeedbackReceived.model_validate({**self._facts(), "feedback_id": feedback_id, "stars": stars,
                                                         "left_at": when}), when)

    def feedback_removed(self, stars: int, left: datetime, when: datetime, feedback_id: str = "F-1") -> Event[Any]:
        return self._ev(FeedbackRemoved.model_validate({**self._facts(), "feedback_id": feedback_id, "stars": stars,
                                                        "left_at": left, "removed_at": when}), when)

    def claim_filed(self, when: datetime, claim_id: str = "C-1") -> Event[Any]:
        return self._ev(ClaimFiled.model_validate({
            **self._facts(), "claim_id": claim_id, "reason": "not_received", "filed_at": when,
            "amount": {"amount": "10.00", "currency": "USD"}}), when)

    def claim(self, counts: bool, when: datetime, claim_id: str = "C-1", reverses: bool = False) -> Event[Any]:
        outcome = "granted_seller_funded" if counts else "denied"
        return self._ev(ClaimDecided.model_validate({
            **self._facts(), "claim_id": claim_id, "outcome": outcome, "counts_against_seller": counts,
            "reverses_earlier_decision": reverses, "decided_at": when}), when)

    def chargeback(self, lost: bool, when: datetime, reason: str = "not_received") -> Event[Any]:
        counts = lost and reason != "fraud"
        return self._ev(ChargebackDecided.model_validate({
            **self._facts(), "chargeback_id": "CB-1", "reason": reason,
            "outcome": "seller_lost" if lost else "seller_won", "counts_against_seller": counts,
            "decided_at": when}), when)

    def return_requested(self, when: datetime, return_id: str = "R-1") -> Event[Any]:
        return self._ev(ReturnRequested.model_validate({**self._facts(), "return_id": return_id, "requested_at": when,
                                                        "answer_by": when + 48 * H, "reason": "defective"}), when)

    def return_answered(self, requested: datetime, when: datetime, reject: bool = False,
                        return_id: str = "R-1") -> Event[Any]:
        body = {**self._facts(), "return_id": return_id, "requested_at": requested, "answer_by": requested + 48 * H,
                "answered_at": when}
        if reject:
            return self._ev(ReturnRejected.model_validate({**body, "reason": "used"}), when)
        return self._ev(ReturnAuthorized.model_validate(body), when)

    def refund(self, when: datetime, by: str, return_id: str | None = "R-1") -> Event[Any]:
        money = {"amount": self.total, "currency": self.currency}
        return self._ev(RefundIssued.model_validate({
            **self._facts(), "refund_id": f"RF-{uuid.uuid4().hex[:6]}", "amount": money, "order_total": money,
            "reason": "r", "initiated_by": by, "issued_at": when, "return_id": return_id}), when)

    def life(self, *, delivered_late: bool = False) -> list[Event[Any]]:
        """Placed, confirmed, shipped the next day, scanned, valid, delivered (on time unless told)."""
        shipped = self.purchased_at + DAY
        delivered = self.deliver_by + (DAY if delivered_late else -DAY)
        return [self.placed(), self.confirmed(), self.shipped(shipped),
                self.tracking(True, shipped + 2 * H, shipped, shipped + H), self.delivered(delivered, shipped)]


def message(received: datetime, *, reply_after: timedelta | None = None, needs_reply: bool = True,
            message_id: str | None = None, seller: str = SELLER) -> list[Event[Any]]:
    message_id = message_id or f"M-{uuid.uuid4().hex[:8]}"
    due = received + 24 * H if needs_reply else None
    out = [ev(MessageReceived(message_id=message_id, received_at=received, needs_reply=needs_reply, due_by=due),
              received, message_id, seller)]
    if reply_after is not None:
        replied = received + reply_after
        out.append(ev(MessageReplied(message_id=message_id, reply_id=f"R{message_id}", received_at=received,
                                     replied_at=replied, due_by=due,
                                     minutes_to_reply=int(reply_after.total_seconds() // 60)),
                      replied, message_id, seller))
    return out


def review(stars: int, when: datetime, seller: str = SELLER) -> Event[Any]:
    review_id = f"RV-{uuid.uuid4().hex[:8]}"
    return ev(ReviewReceived(review_id=review_id, listing_id="L-1", stars=stars, posted_at=when), when, review_id,
              seller)


def fold(events: Iterable[Event[Any]]) -> dict[tuple[str, str, str], facts.ItemState]:
    """The metrics fold without a database: every event into its item."""
    items: dict[tuple[str, str, str], facts.ItemState] = {}
    for event in events:
        key = facts.item_key(event)
        if key is None:
            continue
        full = (event.sellerid, *key)
        state = items.get(full) or facts.new_item(key[0], key[1], event)
        items[full] = facts.apply(state, event)
    return items


def hourly_ticks(until: datetime, days: int = 400) -> list[datetime]:
    """A clock that ticks every hour on the hour, up to `until`: deadlines are judged at ticks."""
    last = until.replace(minute=0, second=0, microsecond=0)
    return [last - timedelta(hours=h) for h in range(days * 24, -1, -1)]


def rows(events: Iterable[Event[Any]], until: datetime, seller: str = SELLER,
         ticks: Sequence[datetime] | None = None) -> Deltas:
    """The daily bucket rows of one seller's items, with every change up to `until` (hourly ticks unless given)."""
    ticks = hourly_ticks(until) if ticks is None else ticks
    return total(timeline(facts.judge_at_ticks(state, ticks), until)[0]
                 for key, state in fold(events).items() if key[0] == seller)


def sums(bucket_rows: Deltas, day: date, policy: Policy = DEFAULT_POLICY) -> dict[tuple[str, int], tuple[int, int]]:
    """Window sums at the end of `day`: what repository.window_sums computes in SQL."""
    out: dict[tuple[str, int], tuple[int, int]] = {}
    windows = policy.windows_by_family()
    for (key, attr, eff), (num, den) in bucket_rows.items():
        for span in windows[key.split(":", 1)[0]]:
            if eff <= day and day - timedelta(days=span) < attr <= day:
                old = out.get((key, span), (0, 0))
                out[(key, span)] = (old[0] + num, old[1] + den)
    return out


def card(events: Iterable[Event[Any]], now: datetime = NOW, policy: Policy = DEFAULT_POLICY,
         ticks: Sequence[datetime] | None = None) -> Scorecard:
    """The scorecard at `now` from events alone (the clock ticking hourly unless `ticks` are given)."""
    return scorecard(now.date(), sums(rows(list(events), now, ticks=ticks), now.date(), policy), policy)


def rate(scorecard_: Scorecard, key: str, days: int) -> tuple[int, int]:
    found = next(r for r in scorecard_.rates if r.key == key and r.window_days == days)
    return found.numerator, found.denominator
