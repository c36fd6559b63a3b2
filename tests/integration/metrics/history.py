"""A generated history of several sellers, as the listing, order, fulfillment and aftersales services would
publish it, and a small reference implementation of domain.md section 6 that computes the expected metrics
from those raw events alone (it shares no code with the metrics service).

Every event's `time` is the time of its fact, so "known at t" is simply "event time <= t". A deadline
passes at the first clock tick at or after it that is known at t (domain.md section 6, judged at ticks).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from shared.events import Event, Payload, new_event, topics
from shared.events.aftersales import (
    MessageReceived,
    MessageReplied,
    RefundIssued,
    ReturnAuthorized,
    ReturnRejected,
    ReturnRequested,
    ReviewReceived,
)
from shared.events.clock import ClockTicked
from shared.events.disputes import ChargebackDecided, ClaimDecided, ClaimFiled, FeedbackReceived, FeedbackRemoved
from shared.events.fulfillment import (
    ShipmentConfirmed,
    ShipmentDelivered,
    ShipmentTrackingUpdated,
    ShipmentTrackingValidated,
)
from shared.events.order import OrderCancelled, OrderConfirmed, OrderPlaced, OrderRejected
from shared.events.policy import PolicyViolated
from shared.events.seller import SellerAppealDecided

H, DAY = timedelta(hours=1), timedelta(days=1)


@dataclass
class History:
    end: datetime
    events: list[tuple[str, Event[Any]]] = field(default_factory=list)  # (topic, event)

    def add(self, topic: str, data: Payload, time: datetime, seller: str, subject: str) -> None:
        if time <= self.end:  # nothing from the future
            self.events.append((topic, new_event(data, seller_id=seller, subject=subject, time=time,
                                                 source="/test/history")))


def generate(sellers: list[str], end: datetime, *, seed: int, days: int = 45, orders: int = 60) -> History:
    rng = random.Random(seed)
    history = History(end)
    start = end - days * DAY
    for n, seller in enumerate(sellers):
        # Each seller has a temper: some ship late, some collect defects (enough orders to be judged).
        late_share, defect_share = (0.5, 0.05) if n % 3 == 1 else (0.05, 0.12 if n % 3 == 2 else 0.02)
        for i in range(orders + rng.randrange(0, 20)):
            purchased = start + timedelta(minutes=rng.randrange(0, days * 24 * 60))
            _order(history, rng, seller, f"{seller}-O{i}", purchased, late_share, defect_share)
        for i in range(25):
            _message(history, rng, seller, f"{seller}-M{i}", start + timedelta(minutes=rng.randrange(0, days * 1440)))
        for i in range(6):
            stars = rng.randint(1, 5)
            posted = start + timedelta(minutes=rng.randrange(0, days * 1440))
            history.add(topics.AFTERSALES_EVENTS, ReviewReceived(review_id=f"{seller}-RV{i}", listing_id="L-1",
                                                                  stars=stars, posted_at=posted),
                        posted, seller, f"{seller}-RV{i}")
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day <= end:
        history.add(topics.CLOCK_EVENTS, ClockTicked(now=day), day, "clock", "clock")
        day += DAY
    history.add(topics.CLOCK_EVENTS, ClockTicked(now=end), end, "clock", "clock")
    return history


def violation(history: History, seller: str, violation_id: str, category: str, severity: str, when: datetime) -> None:
    topic = topics.LISTING_EVENTS if category == "listing" else topics.AFTERSALES_EVENTS
    history.add(topic, PolicyViolated.model_validate({
        "violation_id": violation_id, "category": category, "severity": severity, "rules": ["L3"],
        "subject_kind": "listing", "subject_id": "L-1", "detected_at": when, "description": "a rule was broken"}),
        when, seller, violation_id)


def appeal(history: History, seller: str, appeal_id: str, resolved: list[str], when: datetime) -> None:
    history.add(topics.SELLER_EVENTS, SellerAppealDecided(appeal_id=appeal_id, accepted=True, operator_id="OP-1",
                                                          resolved_violation_ids=resolved), when, seller, seller)


def _order(h: History, rng: random.Random, seller: str, order_id: str, purchased: datetime, late_share: float,
           defect_share: float) -> None:
    channel = "marketplace" if rng.random() < 0.12 else "merchant"
    quantity, unit = rng.randint(1, 3), Decimal(rng.randint(500, 5000)) / 100
    total = unit * quantity
    base = {"order_id": order_id, "purchased_at": purchased, "fulfillment_channel": channel}
    line = {"listing_id": "L-1", "sku": "SKU-1", "quantity": quantity, "unit_price": {"amount": unit,
                                                                                        "currency": "USD"}}
    money = {"amount": total, "currency": "USD"}

    def add(topic: str, data: Payload, time: datetime) -> None:
        h.add(topic, data, time, seller, order_id)

    add(topics.ORDER_EVENTS, OrderPlaced.model_validate({
        **base, "buyer_id": "B-1", "lines": [line], "currency": "USD", "total": money, "shipping_speed": "standard",
        "ship_to_country": "US"}), purchased)
    if rng.random() < 0.03:
        add(topics.ORDER_EVENTS, OrderRejected.model_validate({**base, "reason": "out_of_stock"}), purchased + H)
        return
    ship_by, deliver_by = purchased + 2 * DAY, purchased + 7 * DAY
    add(topics.ORDER_EVENTS, OrderConfirmed.model_validate({
        **base, "shipping_speed": "standard", "lines": [line], "currency": "USD", "total": money,
        "ship_by": ship_by, "deliver_by": deliver_by}), purchased + 0.1 * H)
    if rng.random() < 0.07:
        by = rng.choice(["seller", "system", "buyer"])
        when = purchased + rng.randrange(1, 40) * H
        add(topics.ORDER_EVENTS, OrderCancelled.model_validate({**base, "by": by, "reason": "r",
                                                                "before_shipment": True, "cancelled_at": when}), when)
        if rng.random() < 0.5:  # the buyer files a claim on the cancelled order: undecided
            filed = when + rng.randrange(1, 48) * H
            h.add(topics.AFTERSALES_EVENTS, ClaimFiled.model_validate({
                **base, "claim_id": f"{order_id}-C", "reason": "not_received", "amount": money, "filed_at": filed}),
                filed, seller, order_id)
        return
    late = rng.random() < late_share
    shipped = ship_by + rng.randrange(1, 30) * H if late else purchased + rng.randrange(2, 40) * H
    ship = {**base, "shipment_id": f"{order_id}-S", "shipped_at": shipped, "ship_by": ship_by,
            "deliver_by": deliver_by}
    add(topics.FULFILLMENT_EVENTS, ShipmentConfirmed.model_validate({
        **ship, "carrier": "ups", "tracking_number": "1Z999AA10123456784", "tracking_format_valid": True,
        "lines": [{"listing_id": "L-1", "sku": "SKU-1", "quantity": quantity}]}), shipped)
    scan = shipped + rng.randrange(1, 20) * H
    if late and rng.random() < 0.3:
        scan = ship_by - H  # the carrier had it by ship-by: on time after all
    tracking = rng.random()
    if tracking < 0.85:
        add(topics.FULFILLMENT_EVENTS, ShipmentTrackingUpdated.model_validate({
            **ship, "carrier": "ups", "tracking_number": "1Z999AA10123456784", "status": "in_transit",
            "scanned_at": scan}), scan)
        verdict_at = max(scan, shipped)
        add(topics.FULFILLMENT_EVENTS, ShipmentTrackingValidated.model_validate({
            **ship, "valid": True, "reason": "first_scan", "first_scan_at": scan}), verdict_at)
        delivered = deliver_by + rng.choice([-3 * DAY, -DAY, -H, 5 * H, 2 * DAY])
        if delivered > verdict_at and rng.random() < 0.9:
            add(topics.FULFILLMENT_EVENTS, ShipmentDelivered.model_validate({**ship, "delivered_at": delivered}),
                delivered)
    elif tracking < 0.93:
        add(topics.FULFILLMENT_EVENTS, ShipmentTrackingValidated.model_validate({
            **ship, "valid": False, "reason": "no_scan"}), shipped + 5 * DAY)
    # else: tracking pending
    _after_sales(h, rng, seller, order_id, base, money, purchased, defect_share)


def _after_sales(h: History, rng: random.Random, seller: str, order_id: str, base: dict[str, Any],
                 money: dict[str, Any], purchased: datetime, defect_share: float) -> None:
    def add(data: Payload, time: datetime) -> None:
        h.add(topics.AFTERSALES_EVENTS, data, time, seller, order_id)

    if rng.random() < 0.35:
        stars = 1 if rng.random() < defect_share * 2 else rng.randint(2, 5)
        left = purchased + rng.randrange(3, 12) * DAY
        add(FeedbackReceived.model_validate({**base, "feedback_id": f"{order_id}-F", "stars": stars,
                                             "left_at": left}), left)
        if stars <= 2 and rng.random() < 0.3:
            add(FeedbackRemoved.model_validate({**base, "feedback_id": f"{order_id}-F", "stars": stars,
                                                "left_at": left, "removed_at": left + DAY}), left + DAY)
    if rng.random() < defect_share:
        decided = purchased + rng.randrange(5, 20) * DAY
        add(ClaimDecided.model_validate({**base, "claim_id": f"{order_id}-C", "outcome": "granted_seller_funded",
                                         "counts_against_seller": True, "decided_at": decided}), decided)
        if rng.random() < 0.25:
            add(ClaimDecided.model_validate({**base, "claim_id": f"{order_id}-C", "outcome": "denied",
                                             "counts_against_seller": False, "reverses_earlier_decision": True,
                                             "decided_at": decided + 2 * DAY}), decided + 2 * DAY)
    if rng.random() < defect_share / 2:
        reason = rng.choice(["not_received", "fraud"])
        decided = purchased + rng.randrange(10, 30) * DAY
        add(ChargebackDecided.model_validate({**base, "chargeback_id": f"{order_id}-CB", "reason": reason,
                                              "outcome": "seller_lost", "counts_against_seller": reason != "fraud",
                                              "decided_at": decided}), decided)
    if rng.random() < 0.12:
        asked = purchased + rng.randrange(6, 15) * DAY
        answer_by = asked + 48 * H
        ret = {**base, "return_id": f"{order_id}-R", "requested_at": asked, "answer_by": answer_by}
        add(ReturnRequested.model_validate({**ret, "reason": "defective"}), asked)
        choice = rng.random()
        if choice < 0.5:
            when = asked + rng.choice([H, 30 * H, 50 * H])
            add(ReturnAuthorized.model_validate({**ret, "answered_at": when}), when)
        elif choice < 0.8:
            when = asked + 5 * H
            add(ReturnRejected.model_validate({**ret, "answered_at": when, "reason": "used"}), when)
            if rng.random() < 0.5:
                refunded = asked + 6 * DAY
                add(RefundIssued.model_validate({
                    **base, "refund_id": f"{order_id}-RF", "amount": money, "order_total": money, "reason": "claim",
                    "initiated_by": "claim", "issued_at": refunded, "return_id": f"{order_id}-R"}), refunded)
        # else: never answered


def _message(h: History, rng: random.Random, seller: str, message_id: str, received: datetime) -> None:
    needs = rng.random() < 0.85
    due = received + 24 * H if needs else None
    h.add(topics.AFTERSALES_EVENTS, MessageReceived(message_id=message_id, received_at=received, needs_reply=needs,
                                                    due_by=due), received, seller, message_id)
    if rng.random() < 0.85:
        replied = received + timedelta(minutes=rng.choice([20, 300, 1200, 1500, 3000]))
        h.add(topics.AFTERSALES_EVENTS, MessageReplied(
            message_id=message_id, reply_id=f"{message_id}-r", received_at=received, replied_at=replied, due_by=due,
            minutes_to_reply=int((replied - received).total_seconds() // 60)), replied, seller, message_id)


# --- the reference: domain.md section 6, literally, from the raw events ------------------------------------

Key = tuple[str, str | None, int]  # metric name, channel, window days


def reference(events: list[Event[Any]], seller: str, at: datetime) -> dict[Key, tuple[int, int]]:
    """Every rate (numerator, denominator) of `seller` at `at`, windows ending with `at`'s day."""
    known = [e for e in events if e.sellerid == seller and e.time <= at]
    ticks = sorted(e.data.now for e in events if isinstance(e.data, ClockTicked) and e.time <= at)
    by_order: dict[str, list[Any]] = defaultdict(list)
    messages: dict[str, list[Any]] = defaultdict(list)
    for e in known:
        if isinstance(e.data, MessageReceived | MessageReplied):
            messages[e.data.message_id].append(e.data)
        elif hasattr(e.data, "order_id") and hasattr(e.data, "purchased_at"):
            by_order[e.data.order_id].append(e.data)
    today = at.date()

    def inside(day: date, days: int) -> bool:
        return today - timedelta(days=days) < day <= today

    def passed(deadline: datetime) -> bool:
        """A tick at or after the deadline came by `at`."""
        return any(t >= deadline for t in ticks)

    out: dict[Key, tuple[int, int]] = defaultdict(lambda: (0, 0))

    def count(key: Key, bad: bool, *, numerator: bool = True, denominator: bool = True) -> None:
        num, den = out[key]
        out[key] = (num + int(bad and numerator), den + int(denominator))

    for facts in by_order.values():
        first = facts[0]
        if any(isinstance(f, OrderRejected) for f in facts):
            continue
        merchant = first.fulfillment_channel.value == "merchant"
        order_day = first.purchased_at.date()
        if inside(order_day, 60):
            count(("order_defect_rate", "merchant" if merchant else "marketplace", 60), _defective(facts))
        if not merchant:
            continue
        # Cancellations by their cancellation date, orders by their order date.
        cancel_key: Key = ("pre_fulfillment_cancel_rate", "merchant", 7)
        if inside(order_day, 7):
            count(cancel_key, False)
        for c in (f for f in facts if isinstance(f, OrderCancelled)):
            if c.by.value in ("seller", "system") and c.before_shipment and inside(c.cancelled_at.date(), 7):
                count(cancel_key, True, denominator=False)
        confirmed = [f for f in facts if isinstance(f, OrderConfirmed)]
        shipped = [f for f in facts if isinstance(f, ShipmentConfirmed)]
        if confirmed and shipped:
            ship_by = confirmed[0].ship_by
            scans = [f.scanned_at for f in facts if isinstance(f, ShipmentTrackingUpdated)]
            scans += [f.first_scan_at for f in facts if isinstance(f, ShipmentTrackingValidated) and f.first_scan_at]
            late = any(s.shipped_at > ship_by for s in shipped) and not any(t <= ship_by for t in scans)
            for days in (10, 30):
                if inside(ship_by.date(), days):
                    count(("late_shipment_rate", "merchant", days), late)
        if shipped:
            verdicts = [f.valid for f in facts if isinstance(f, ShipmentTrackingValidated)]  # one per shipment here
            delivered = [f.delivered_at for f in facts if isinstance(f, ShipmentDelivered)]
            if verdicts and inside(shipped[0].shipped_at.date(), 30):
                count(("valid_tracking_rate", "merchant", 30), not verdicts[0])
            tracked = bool(verdicts) and verdicts[0]  # only shipments with valid tracking
            deliver_by = shipped[0].deliver_by
            if tracked and (delivered or passed(deliver_by)) and inside(deliver_by.date(), 14):
                count(("on_time_delivery_rate", "merchant", 14), not (delivered and delivered[0] <= deliver_by))
    for facts in by_order.values():
        for request in [f for f in facts if isinstance(f, ReturnRequested)]:
            if not inside(request.requested_at.date(), 30):
                continue
            answers = [f.answered_at for f in facts if isinstance(f, ReturnAuthorized | ReturnRejected)]
            in_time = any(a <= request.answer_by for a in answers)
            late = not in_time and (passed(request.answer_by) or bool(answers))
            rejected = [f.answered_at for f in facts if isinstance(f, ReturnRejected)]
            claim_refund = [f.issued_at for f in facts
                            if isinstance(f, RefundIssued) and f.initiated_by.value == "claim"]
            refunded = any(r <= c for r in rejected for c in claim_refund)
            count(("return_dissatisfaction_rate", None, 30), late or refunded)
    for parts in messages.values():
        received = parts[0].received_at
        due = next((p.due_by for p in parts if p.due_by is not None), None)
        replies = [p.replied_at for p in parts if isinstance(p, MessageReplied)]
        if due is None or not (replies or passed(due)) or not inside(received.date(), 30):
            continue
        count(("response_within_24h", None, 30), not any(r <= due for r in replies))
    # at-least metrics count the good ones: flip what was counted as bad
    for key in list(out):
        if key[0] in ("valid_tracking_rate", "on_time_delivery_rate", "response_within_24h"):
            bad, den = out[key]
            out[key] = (den - bad, den)
    return {key: value for key, value in out.items() if value[1]}


def _defective(facts: list[Any]) -> bool:
    feedback = {f.feedback_id: f.stars for f in facts if isinstance(f, FeedbackReceived)}
    removed = {f.feedback_id for f in facts if isinstance(f, FeedbackRemoved)}
    negative = any(stars <= 2 and fid not in removed for fid, stars in feedback.items())
    claims: dict[str, list[Any]] = defaultdict(list)
    for f in facts:
        if isinstance(f, ClaimDecided):
            claims[f.claim_id].append(f)
    claim = any(max(ds, key=lambda d: (d.decided_at, d.reverses_earlier_decision)).counts_against_seller
                for ds in claims.values())
    # An undecided claim on an order the seller (or the system) cancelled counts from its filing.
    cancelled = any(isinstance(f, OrderCancelled) and f.by.value in ("seller", "system") and f.before_shipment
                    for f in facts)
    open_claim = cancelled and any(isinstance(f, ClaimFiled) and f.claim_id not in claims for f in facts)
    chargeback = any(f.counts_against_seller for f in facts if isinstance(f, ChargebackDecided))
    return negative or claim or open_claim or chargeback


def reference_sales(events: list[Event[Any]], seller: str, at: datetime, days: int) -> tuple[int, Decimal]:
    today = at.date()
    rejected = {e.data.order_id for e in events if isinstance(e.data, OrderRejected) and e.time <= at}
    placed = {e.data.order_id: e.data.total.amount for e in events
              if e.sellerid == seller and isinstance(e.data, OrderPlaced) and e.time <= at
              and today - timedelta(days=days) < e.data.purchased_at.date() <= today}
    kept = [amount for order_id, amount in placed.items() if order_id not in rejected]
    return len(kept), sum(kept, Decimal(0))
