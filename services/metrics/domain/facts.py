"""Per-item facts, folded from events: `apply(state, event) -> state`, pure.

An item is one order (with its shipments, feedback, claims, chargebacks and returns), one buyer
message, or one product review. Every fact keeps its own business time, so the fold is
commutative and idempotent: the events of one order may arrive across topics in any order, twice,
or split over batches, and the state is the same. Conflicts are settled by the facts' times, never
by arrival (the latest claim decision is the one with the latest `decided_at`).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from shared.events import Event, Payload
from shared.events.aftersales import (
    MessageReceived,
    MessageReplied,
    RefundIssued,
    ReturnAuthorized,
    ReturnRejected,
    ReturnRequested,
    ReviewReceived,
)
from shared.events.common import CancelledBy, RefundInitiator, ScanStatus
from shared.events.disputes import ChargebackDecided, ClaimDecided, ClaimFiled, FeedbackReceived, FeedbackRemoved
from shared.events.fulfillment import (
    FulfillmentOverdue,
    ShipmentConfirmed,
    ShipmentDelivered,
    ShipmentTrackingUpdated,
    ShipmentTrackingValidated,
)
from shared.events.order import OrderCancelled, OrderConfirmed, OrderFacts, OrderPlaced, OrderRejected

T = TypeVar("T")


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    return a if b is None or a <= b else b


@dataclass(frozen=True)
class Sale:
    currency: str
    total: Decimal
    units: int


@dataclass(frozen=True)
class Shipment:
    shipped_at: datetime | None = None  # confirmation
    first_scan_at: datetime | None = None  # earliest carrier scan (pre-transit label scans do not count)
    delivered_at: datetime | None = None
    ship_by: datetime | None = None
    deliver_by: datetime | None = None
    #: Tracking verdicts by time: `valid` is the latest one at or before a moment (an upgrade to valid wins a tie).
    verdicts: frozenset[tuple[datetime, bool]] = frozenset()

    def verdict_at(self, moment: datetime) -> bool | None:
        known = [v for v in self.verdicts if v[0] <= moment]
        return max(known)[1] if known else None


@dataclass(frozen=True)
class Return:
    requested_at: datetime | None = None
    answer_by: datetime | None = None
    answered_at: datetime | None = None  # first of authorized, rejected, refunded
    rejected_at: datetime | None = None
    claim_refund_at: datetime | None = None  # refunded by an A-to-z claim


@dataclass(frozen=True)
class Feedback:
    stars: int
    left_at: datetime
    removed_at: datetime | None = None


#: A decision (claim or chargeback): (decided_at, reverses an earlier one, counts against the seller).
#: The latest by that order wins; a reversing decision beats a plain one at the same moment.
Decision = tuple[datetime, bool, bool]


def counts_at(decisions: frozenset[Decision], moment: datetime) -> bool:
    known = [d for d in decisions if d[0] <= moment]
    return max(known)[2] if known else False


def counted_since(decisions: frozenset[Decision], moment: datetime) -> datetime | None:
    """When the decision that counts at `moment` was made (None when none counts)."""
    known = [d for d in decisions if d[0] <= moment]
    if not known or not max(known)[2]:
        return None
    return max(known)[0]


@dataclass(frozen=True)
class OrderState:
    order_id: str
    purchased_at: datetime
    channel: str
    placed: Sale | None = None
    confirmed: Sale | None = None
    rejected_at: datetime | None = None
    ship_by: datetime | None = None
    deliver_by: datetime | None = None
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None
    cancelled_before_shipment: bool = False
    shipments: Mapping[str, Shipment] = field(default_factory=dict)
    feedback: Mapping[str, Feedback] = field(default_factory=dict)
    claims: Mapping[str, frozenset[Decision]] = field(default_factory=dict)
    chargebacks: Mapping[str, frozenset[Decision]] = field(default_factory=dict)
    returns: Mapping[str, Return] = field(default_factory=dict)
    #: Refunds by a claim without a return named: (issued_at); they settle every return rejected before.
    claim_refunds: frozenset[datetime] = frozenset()
    #: Claims filed: claim id -> filed at. On an order the seller cancelled, one counts from its filing.
    claims_filed: Mapping[str, datetime] = field(default_factory=dict)
    #: Deadlines judged: deadline -> the first clock tick at or after it (domain.md section 6).
    judged: Mapping[datetime, datetime] = field(default_factory=dict)

    @property
    def sale(self) -> Sale | None:
        return self.placed or self.confirmed

    @property
    def seller_cancelled(self) -> bool:
        return self.cancelled_by in (CancelledBy.SELLER, CancelledBy.SYSTEM) and self.cancelled_before_shipment


@dataclass(frozen=True)
class MessageState:
    message_id: str
    received_at: datetime
    due_by: datetime | None = None  # None: no reply needed (or not known yet)
    replied_at: datetime | None = None
    minutes_to_reply: int | None = None
    no_reply_at: datetime | None = None  # the seller marked it no-reply-needed: it leaves the response metric
    order_id: str | None = None  # the order it is about, if any
    judged: Mapping[datetime, datetime] = field(default_factory=dict)  # deadline -> first tick at or after it


@dataclass(frozen=True)
class ReviewState:
    review_id: str
    posted_at: datetime
    stars: int


ItemState = OrderState | MessageState | ReviewState
ORDER, MESSAGE, REVIEW = "order", "message", "review"


def item_key(event: Event[Any]) -> tuple[str, str] | None:
    """(kind, item id) of the item an event adds a fact to; None for events that are not item facts."""
    data = event.data
    if isinstance(data, MessageReceived | MessageReplied):
        return MESSAGE, data.message_id
    if isinstance(data, ReviewReceived):
        return REVIEW, data.review_id
    if isinstance(data, OrderFacts) and type(data) in _ORDER_FOLDS:
        return ORDER, data.order_id
    return None


def new_item(kind: str, item_id: str, event: Event[Any]) -> ItemState:
    data = event.data
    if kind == ORDER:
        assert isinstance(data, OrderFacts)
        return OrderState(item_id, data.purchased_at, data.fulfillment_channel.value)
    if kind == MESSAGE:
        assert isinstance(data, MessageReceived | MessageReplied)
        return MessageState(item_id, data.received_at)
    assert isinstance(data, ReviewReceived)
    return ReviewState(item_id, data.posted_at, data.stars)


def apply(state: ItemState, event: Event[Any]) -> ItemState:
    """The item with one more fact. Pure; applying the same event twice changes nothing."""
    data = event.data
    if isinstance(state, OrderState):
        fold = _ORDER_FOLDS.get(type(data))
        if fold is None:
            return state
        if isinstance(data, OrderFacts) and data.purchased_at < state.purchased_at:
            state = replace(state, purchased_at=data.purchased_at)
        return fold(state, data, event.time)
    if isinstance(state, MessageState):
        state = replace(state, order_id=state.order_id or getattr(data, "order_id", None))
        if isinstance(data, MessageReceived):
            marked = data.marked_no_reply_needed_at
            return replace(state, due_by=state.due_by or data.due_by,
                           no_reply_at=_earliest(state.no_reply_at, marked))
        if isinstance(data, MessageReplied):
            if state.replied_at is not None and state.replied_at <= data.replied_at:
                return replace(state, due_by=state.due_by or data.due_by)
            return replace(state, due_by=state.due_by or data.due_by, replied_at=data.replied_at,
                           minutes_to_reply=data.minutes_to_reply)
    return state


# --- the order fold, one function per event type ---------------------------------------------------


def _sale(data: OrderPlaced | OrderConfirmed) -> Sale:
    return Sale(data.currency, data.total.amount, sum(line.quantity for line in data.lines))


def _placed(state: OrderState, data: OrderPlaced, at: datetime) -> OrderState:
    return replace(state, placed=_sale(data))


def _confirmed(state: OrderState, data: OrderConfirmed, at: datetime) -> OrderState:
    return replace(state, confirmed=_sale(data), ship_by=data.ship_by, deliver_by=data.deliver_by)


def _rejected(state: OrderState, data: OrderRejected, at: datetime) -> OrderState:
    return replace(state, rejected_at=_earliest(state.rejected_at, at))


def _cancelled(state: OrderState, data: OrderCancelled, at: datetime) -> OrderState:
    if state.cancelled_at is not None and state.cancelled_at <= data.cancelled_at:
        return state
    return replace(state, cancelled_at=data.cancelled_at, cancelled_by=data.by.value,
                   cancelled_before_shipment=data.before_shipment)


def _deadlines(state: OrderState, ship_by: datetime, deliver_by: datetime) -> OrderState:
    """Deadlines from a shipment or overdue event count only until the order's own confirmation names them."""
    if state.confirmed is not None or (state.ship_by is not None and state.deliver_by is not None):
        return state
    return replace(state, ship_by=ship_by, deliver_by=deliver_by)


def _with_shipment(state: OrderState, shipment_id: str, change: Callable[[Shipment], Shipment],
                   data: ShipmentConfirmed | ShipmentTrackingUpdated | ShipmentTrackingValidated | ShipmentDelivered,
                   ) -> OrderState:
    state = _deadlines(state, data.ship_by, data.deliver_by)
    current = state.shipments.get(shipment_id) or Shipment()
    current = replace(current, shipped_at=_earliest(current.shipped_at, data.shipped_at),
                      ship_by=current.ship_by or data.ship_by, deliver_by=current.deliver_by or data.deliver_by)
    return replace(state, shipments={**state.shipments, shipment_id: change(current)})


def _shipment_confirmed(state: OrderState, data: ShipmentConfirmed, at: datetime) -> OrderState:
    return _with_shipment(state, data.shipment_id, lambda s: s, data)


def _tracking_updated(state: OrderState, data: ShipmentTrackingUpdated, at: datetime) -> OrderState:
    def change(s: Shipment) -> Shipment:
        if data.status is ScanStatus.PRE_TRANSIT:
            return s
        s = replace(s, first_scan_at=_earliest(s.first_scan_at, data.scanned_at))
        if data.status is ScanStatus.DELIVERED:
            s = replace(s, delivered_at=_earliest(s.delivered_at, data.scanned_at))
        return s

    return _with_shipment(state, data.shipment_id, change, data)


def _tracking_validated(state: OrderState, data: ShipmentTrackingValidated, at: datetime) -> OrderState:
    def change(s: Shipment) -> Shipment:
        return replace(s, first_scan_at=_earliest(s.first_scan_at, data.first_scan_at),
                       verdicts=s.verdicts | {(at, data.valid)})

    return _with_shipment(state, data.shipment_id, change, data)


def _delivered(state: OrderState, data: ShipmentDelivered, at: datetime) -> OrderState:
    return _with_shipment(state, data.shipment_id,
                          lambda s: replace(s, delivered_at=_earliest(s.delivered_at, data.delivered_at)), data)


def _overdue(state: OrderState, data: FulfillmentOverdue, at: datetime) -> OrderState:
    return _deadlines(state, data.ship_by, data.deliver_by)


def _feedback(state: OrderState, data: FeedbackReceived | FeedbackRemoved, at: datetime) -> OrderState:
    current = state.feedback.get(data.feedback_id)
    removed = data.removed_at if isinstance(data, FeedbackRemoved) else None
    if current is not None:
        removed = _earliest(current.removed_at, removed)
    return replace(state, feedback={**state.feedback, data.feedback_id: Feedback(data.stars, data.left_at, removed)})


def _claim(state: OrderState, data: ClaimDecided, at: datetime) -> OrderState:
    decision = (data.decided_at, data.reverses_earlier_decision, data.counts_against_seller)
    decisions = state.claims.get(data.claim_id, frozenset()) | {decision}
    return replace(state, claims={**state.claims, data.claim_id: decisions})


def _claim_filed(state: OrderState, data: ClaimFiled, at: datetime) -> OrderState:
    filed = _earliest(state.claims_filed.get(data.claim_id), data.filed_at)
    assert filed is not None
    return replace(state, claims_filed={**state.claims_filed, data.claim_id: filed})


def _chargeback(state: OrderState, data: ChargebackDecided, at: datetime) -> OrderState:
    decision = (data.decided_at, False, data.counts_against_seller)
    decisions = state.chargebacks.get(data.chargeback_id, frozenset()) | {decision}
    return replace(state, chargebacks={**state.chargebacks, data.chargeback_id: decisions})


def _with_return(state: OrderState, return_id: str, change: Callable[[Return], Return]) -> OrderState:
    current = state.returns.get(return_id) or Return()
    return replace(state, returns={**state.returns, return_id: change(current)})


def _return_facts(r: Return, data: ReturnRequested | ReturnAuthorized | ReturnRejected) -> Return:
    return replace(r, requested_at=_earliest(r.requested_at, data.requested_at),
                   answer_by=r.answer_by or data.answer_by)


def _return_requested(state: OrderState, data: ReturnRequested, at: datetime) -> OrderState:
    return _with_return(state, data.return_id, lambda r: _return_facts(r, data))


def _return_answered(state: OrderState, data: ReturnAuthorized | ReturnRejected, at: datetime) -> OrderState:
    def change(r: Return) -> Return:
        r = replace(_return_facts(r, data), answered_at=_earliest(r.answered_at, data.answered_at))
        if isinstance(data, ReturnRejected):
            r = replace(r, rejected_at=_earliest(r.rejected_at, data.answered_at))
        return r

    return _with_return(state, data.return_id, change)


def _refund(state: OrderState, data: RefundIssued, at: datetime) -> OrderState:
    if data.claim_id is not None and data.claim_counts_against_seller is not None:
        # The seller refunding after a claim was filed makes the claim count: the latest of a claim's
        # decisions and refunds says whether it counts.
        decision = (data.issued_at, False, data.claim_counts_against_seller)
        state = replace(state, claims={**state.claims,
                                       data.claim_id: state.claims.get(data.claim_id, frozenset()) | {decision}})
    by_claim = data.initiated_by is RefundInitiator.CLAIM
    if data.return_id is None:
        if not by_claim:
            return state
        return replace(state, claim_refunds=state.claim_refunds | {data.issued_at})

    def change(r: Return) -> Return:
        r = replace(r, requested_at=_earliest(r.requested_at, data.return_requested_at))
        if by_claim:
            return replace(r, claim_refund_at=_earliest(r.claim_refund_at, data.issued_at))
        return replace(r, answered_at=_earliest(r.answered_at, data.issued_at))

    return _with_return(state, data.return_id, change)


_ORDER_FOLDS: dict[type[Payload], Callable[[OrderState, Any, datetime], OrderState]] = {
    OrderPlaced: _placed,
    OrderConfirmed: _confirmed,
    OrderRejected: _rejected,
    OrderCancelled: _cancelled,
    ShipmentConfirmed: _shipment_confirmed,
    ShipmentTrackingUpdated: _tracking_updated,
    ShipmentTrackingValidated: _tracking_validated,
    ShipmentDelivered: _delivered,
    FulfillmentOverdue: _overdue,
    FeedbackReceived: _feedback,
    FeedbackRemoved: _feedback,
    ClaimFiled: _claim_filed,
    ClaimDecided: _claim,
    ChargebackDecided: _chargeback,
    ReturnRequested: _return_requested,
    ReturnAuthorized: _return_answered,
    ReturnRejected: _return_answered,
    RefundIssued: _refund,
}

#: Every payload folded into an order.
ORDER_FACTS: tuple[type[Payload], ...] = tuple(_ORDER_FOLDS)


def deadlines(item: ItemState) -> set[datetime]:
    """Every deadline of an item that is judged at a clock tick: a message's 24 h, a return's 48 h, a
    shipment's deliver-by (the tracking window is judged by the fulfillment service)."""
    if isinstance(item, ReviewState):
        return set()
    if isinstance(item, MessageState):
        return {item.due_by} if item.due_by is not None else set()
    found = {r.answer_by for r in item.returns.values() if r.answer_by is not None}
    found |= {d for s in item.shipments.values() if (d := s.deliver_by or item.deliver_by) is not None}
    return found


def judge_at_ticks(item: ItemState, ticks: Sequence[datetime]) -> ItemState:
    """The item with each of its deadlines judged by the first of `ticks` (sorted) at or after it."""
    found: dict[datetime, datetime] = {}
    if isinstance(item, ReviewState):
        return item
    for deadline in deadlines(item):
        i = bisect.bisect_left(ticks, deadline)
        if i < len(ticks):
            found[deadline] = ticks[i]
    return with_judged(item, found)


def with_judged(item: ItemState, judged: Mapping[datetime, datetime]) -> ItemState:
    """The item with the first ticks at or after its deadlines (of `judged`, only its own deadlines)."""
    if isinstance(item, ReviewState) or not judged:
        return item
    new = {d: judged[d] for d in deadlines(item) if d in judged and item.judged.get(d) != judged[d]}
    return replace(item, judged={**item.judged, **new}) if new else item
