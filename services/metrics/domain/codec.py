"""Item facts as JSON (the `items.facts` column) and back: times as RFC 3339 strings, amounts as strings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.metrics.domain.facts import (
    MESSAGE,
    ORDER,
    REVIEW,
    Decision,
    Feedback,
    ItemState,
    MessageState,
    OrderState,
    Return,
    ReviewState,
    Sale,
    Shipment,
)

Json = dict[str, Any]


def _t(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _d(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _req(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _compact(data: Json) -> Json:
    return {k: v for k, v in data.items() if v is not None and v != {} and v != [] and v is not False}


def kind_of(state: ItemState) -> str:
    if isinstance(state, OrderState):
        return ORDER
    return MESSAGE if isinstance(state, MessageState) else REVIEW


def encode(state: ItemState) -> Json:
    if isinstance(state, MessageState):
        return _compact({"received_at": _t(state.received_at), "due_by": _t(state.due_by),
                         "replied_at": _t(state.replied_at), "minutes_to_reply": state.minutes_to_reply,
                         "no_reply_at": _t(state.no_reply_at), "order_id": state.order_id,
                         "judged": _judged(state.judged)})
    if isinstance(state, ReviewState):
        return {"posted_at": _t(state.posted_at), "stars": state.stars}
    return _compact({
        "purchased_at": _t(state.purchased_at),
        "channel": state.channel,
        "placed": _sale(state.placed),
        "confirmed": _sale(state.confirmed),
        "rejected_at": _t(state.rejected_at),
        "ship_by": _t(state.ship_by),
        "deliver_by": _t(state.deliver_by),
        "cancelled_at": _t(state.cancelled_at),
        "cancelled_by": state.cancelled_by,
        "cancelled_before_shipment": state.cancelled_before_shipment,
        "shipments": {k: _shipment(v) for k, v in sorted(state.shipments.items())},
        "feedback": {k: [v.stars, _t(v.left_at), _t(v.removed_at)] for k, v in sorted(state.feedback.items())},
        "claims": {k: _decisions(v) for k, v in sorted(state.claims.items())},
        "chargebacks": {k: _decisions(v) for k, v in sorted(state.chargebacks.items())},
        "returns": {k: _return(v) for k, v in sorted(state.returns.items())},
        "claim_refunds": sorted(_t(t) for t in state.claim_refunds),
        "claims_filed": {k: _t(v) for k, v in sorted(state.claims_filed.items())},
        "judged": _judged(state.judged),
    })


def decode(kind: str, item_id: str, data: Json) -> ItemState:
    if kind == MESSAGE:
        return MessageState(item_id, _req(data["received_at"]), _d(data.get("due_by")), _d(data.get("replied_at")),
                            data.get("minutes_to_reply"), _d(data.get("no_reply_at")), data.get("order_id"),
                            _unjudged(data.get("judged", [])))
    if kind == REVIEW:
        return ReviewState(item_id, _req(data["posted_at"]), data["stars"])
    return OrderState(
        order_id=item_id,
        purchased_at=_req(data["purchased_at"]),
        channel=data["channel"],
        placed=_unsale(data.get("placed")),
        confirmed=_unsale(data.get("confirmed")),
        rejected_at=_d(data.get("rejected_at")),
        ship_by=_d(data.get("ship_by")),
        deliver_by=_d(data.get("deliver_by")),
        cancelled_at=_d(data.get("cancelled_at")),
        cancelled_by=data.get("cancelled_by"),
        cancelled_before_shipment=data.get("cancelled_before_shipment", False),
        shipments={k: _unshipment(v) for k, v in data.get("shipments", {}).items()},
        feedback={k: Feedback(v[0], _req(v[1]), _d(v[2])) for k, v in data.get("feedback", {}).items()},
        claims={k: _undecisions(v) for k, v in data.get("claims", {}).items()},
        chargebacks={k: _undecisions(v) for k, v in data.get("chargebacks", {}).items()},
        returns={k: _unreturn(v) for k, v in data.get("returns", {}).items()},
        claim_refunds=frozenset(_req(t) for t in data.get("claim_refunds", [])),
        claims_filed={k: _req(v) for k, v in data.get("claims_filed", {}).items()},
        judged=_unjudged(data.get("judged", [])),
    )


def _sale(sale: Sale | None) -> list[Any] | None:
    return None if sale is None else [sale.currency, str(sale.total), sale.units]


def _unsale(data: list[Any] | None) -> Sale | None:
    return None if data is None else Sale(data[0], Decimal(data[1]), data[2])


def _shipment(s: Shipment) -> Json:
    return _compact({"shipped_at": _t(s.shipped_at), "first_scan_at": _t(s.first_scan_at),
                     "delivered_at": _t(s.delivered_at), "ship_by": _t(s.ship_by), "deliver_by": _t(s.deliver_by),
                     "verdicts": sorted([_t(at), valid] for at, valid in s.verdicts)})


def _unshipment(data: Json) -> Shipment:
    return Shipment(_d(data.get("shipped_at")), _d(data.get("first_scan_at")), _d(data.get("delivered_at")),
                    _d(data.get("ship_by")), _d(data.get("deliver_by")),
                    frozenset((_req(at), valid) for at, valid in data.get("verdicts", [])))


def _decisions(decisions: frozenset[Decision]) -> list[list[Any]]:
    return sorted([_t(at), reverses, counts] for at, reverses, counts in decisions)


def _undecisions(data: list[list[Any]]) -> frozenset[Decision]:
    return frozenset((_req(at), reverses, counts) for at, reverses, counts in data)


def _return(r: Return) -> Json:
    return _compact({"requested_at": _t(r.requested_at), "answer_by": _t(r.answer_by),
                     "answered_at": _t(r.answered_at), "rejected_at": _t(r.rejected_at),
                     "claim_refund_at": _t(r.claim_refund_at)})


def _unreturn(data: Json) -> Return:
    return Return(_d(data.get("requested_at")), _d(data.get("answer_by")), _d(data.get("answered_at")),
                  _d(data.get("rejected_at")), _d(data.get("claim_refund_at")))


def _judged(judged: Mapping[datetime, datetime]) -> list[list[str | None]]:
    return sorted([_t(deadline), _t(tick)] for deadline, tick in judged.items())


def _unjudged(data: list[list[str]]) -> dict[datetime, datetime]:
    return {_req(deadline): _req(tick) for deadline, tick in data}
