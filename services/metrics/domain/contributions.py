"""What one item adds to each metric, as of a moment: the one definition of every metric (domain.md section 6).

`contributions(item, at)` says, for the facts known at `at`, which metric numerators and denominators
the item is in and on which attribution day. Everything else follows from it mechanically:

- `timeline(item, until)`: the changes of those contributions at each moment one of them changes (a
  fact's time or a deadline passing), summed by (metric, attribution day, effective day). Stored in
  daily buckets, a window at day D is the sum of rows attributed inside the window and effective by
  D: the live scorecard (D = today) and any past day's (`?as_of=`) come from the same rows.
- `next_change(item, after)`: the next deadline the item waits for (a delivery promise, a reply or
  return deadline), when the service must re-evaluate it although no event came.

Deadlines are inclusive: a reply at `due_by` is on time. A deadline passes at the first clock tick at
or after it (`judged`), never between ticks (domain.md section 6): a live scorecard, an `as_of` read
and a replay then agree. Until a tick judges it, an item waits with the deadline as its next change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from services.metrics import policy as keys
from services.metrics.domain.facts import (
    ItemState,
    MessageState,
    OrderState,
    Return,
    ReviewState,
    Shipment,
    counts_at,
    deadlines,
)
from shared.events.common import DefectKind, FulfillmentChannel

#: (bucket key, attribution day) -> (numerator, denominator)
Contributions = dict[tuple[str, date], tuple[int, int]]
#: (bucket key, attribution day, effective day) -> (numerator, denominator): rows of the daily buckets
Deltas = dict[tuple[str, date, date], tuple[int, int]]


def _add(out: Contributions, key: str, day: date, num: int, den: int = 1) -> None:
    old = out.get((key, day), (0, 0))
    out[(key, day)] = (old[0] + num, old[1] + den)


def _known(moment: datetime | None, at: datetime) -> bool:
    return moment is not None and moment <= at


def passed(item: OrderState | MessageState, deadline: datetime | None, at: datetime) -> bool:
    """Whether a clock tick at or after `deadline` came by `at`: a deadline passes only at a tick."""
    return deadline is not None and _known(item.judged.get(deadline), at)


def contributions(item: ItemState, at: datetime) -> Contributions:
    out: Contributions = {}
    if isinstance(item, OrderState):
        _order(item, at, out)
    elif isinstance(item, MessageState):
        _message(item, at, out)
    elif _known(item.posted_at, at):
        _add(out, keys.REVIEWS, item.posted_at.date(), item.stars)
    return out


def _message(m: MessageState, at: datetime, out: Contributions) -> None:
    if not _known(m.received_at, at):
        return
    day = m.received_at.date()
    needs_reply = m.due_by is not None and not _known(m.no_reply_at, at)
    # Counted once replied (within 24 h or not), or once a tick ends its 24 h unanswered.
    if needs_reply and m.due_by is not None and (_known(m.replied_at, at) or passed(m, m.due_by, at)):
        _add(out, keys.RESPONSE, day, int(_known(m.replied_at, m.due_by)))
    if m.replied_at is not None and m.minutes_to_reply is not None and _known(m.replied_at, at):
        _add(out, keys.REPLY_MINUTES, day, m.minutes_to_reply)


def order_defects(o: OrderState, at: datetime) -> list[DefectKind]:
    """The defects of an order at `at` (domain.md section 6): it counts once however many it has."""
    kinds: list[DefectKind] = []
    if any(f.stars <= 2 and _known(f.left_at, at) and not _known(f.removed_at, at) for f in o.feedback.values()):
        kinds.append(DefectKind.NEGATIVE_FEEDBACK)
    if any(counts_at(d, at) for d in o.claims.values()) or _open_claim_on_cancelled(o, at):
        kinds.append(DefectKind.A_TO_Z_CLAIM)
    if any(counts_at(d, at) for d in o.chargebacks.values()):
        kinds.append(DefectKind.CHARGEBACK)
    return kinds


def _open_claim_on_cancelled(o: OrderState, at: datetime) -> bool:
    """A claim on an order the seller cancelled counts from its filing, decided or not, until a
    decision says it does not (a withdrawal, a reversal, marketplace funding)."""
    if not (o.seller_cancelled and _known(o.cancelled_at, at)):
        return False
    return any(_known(filed, at) and not any(d[0] <= at for d in o.claims.get(claim_id, ()))
               for claim_id, filed in o.claims_filed.items())


def order_exists(o: OrderState, at: datetime) -> bool:
    """An order counts from its purchase until a rejection: a rejected order never became one."""
    return _known(o.purchased_at, at) and not _known(o.rejected_at, at)


def shipment_late(s: Shipment, ship_by: datetime, at: datetime) -> bool:
    """Confirmed after ship-by, unless the carrier scanned it by ship-by (ours)."""
    assert s.shipped_at is not None
    return s.shipped_at > ship_by and not (_known(s.first_scan_at, at) and _known(s.first_scan_at, ship_by))


def _order(o: OrderState, at: datetime, out: Contributions) -> None:
    if not order_exists(o, at):
        return
    day = o.purchased_at.date()
    merchant = o.channel == FulfillmentChannel.MERCHANT
    sale = o.sale
    if sale is not None:
        _add(out, keys.sales_key(sale.currency), day, int(sale.total * 100))
        _add(out, keys.UNITS, day, sale.units)
    _add(out, keys.ODR_MERCHANT if merchant else keys.ODR_MARKETPLACE, day, int(bool(order_defects(o, at))))
    if merchant:  # denominator by order date, numerator by cancellation date (domain.md section 6)
        _add(out, keys.CANCEL, day, 0)
        if o.seller_cancelled and o.cancelled_at is not None and _known(o.cancelled_at, at):
            _add(out, keys.CANCEL, o.cancelled_at.date(), 1, 0)
    shipped = [s for s in o.shipments.values() if _known(s.shipped_at, at)]
    if shipped:
        first = min(s.shipped_at for s in shipped if s.shipped_at is not None)
        _add(out, keys.FULFILLED, first.date(), 1)
    if merchant:
        if shipped and o.ship_by is not None:
            ship_by = o.ship_by
            _add(out, keys.LATE_SHIPMENT, ship_by.date(), int(any(shipment_late(s, ship_by, at) for s in shipped)))
        for s in shipped:
            _tracking(s, o, at, out)
    for f in o.feedback.values():
        if _known(f.left_at, at) and not _known(f.removed_at, at):
            _add(out, keys.FEEDBACK, f.left_at.date(), int(f.stars >= 4))
    for r in o.returns.values():
        if r.requested_at is not None and _known(r.requested_at, at):
            _add(out, keys.RETURNS, r.requested_at.date(), int(return_dissatisfied(o, r, at)))


def _tracking(s: Shipment, o: OrderState, at: datetime, out: Contributions) -> None:
    assert s.shipped_at is not None
    valid = s.verdict_at(at)
    if valid is not None:  # pending tracking is left out
        _add(out, keys.VALID_TRACKING, s.shipped_at.date(), int(valid))
    deliver_by = s.deliver_by or o.deliver_by
    delivered = s.delivered_at if _known(s.delivered_at, at) else None
    # Only tracked shipments (valid tracking) count, once delivered or once a tick passes deliver-by.
    if valid is True and deliver_by is not None and (delivered is not None or passed(o, deliver_by, at)):
        _add(out, keys.ON_TIME_DELIVERY, deliver_by.date(), int(delivered is not None and delivered <= deliver_by))


def return_dissatisfied(o: OrderState, r: Return, at: datetime) -> bool:
    """Answered late, or not when a tick ends its 48 h, or rejected and then refunded by an A-to-z claim."""
    if r.answer_by is not None and not _known(r.answered_at, r.answer_by) \
            and (passed(o, r.answer_by, at) or _known(r.answered_at, at)):
        return True
    rejected_at = r.rejected_at
    if rejected_at is None or not _known(rejected_at, at):
        return False
    claim_refunds = [t for t in (r.claim_refund_at, *o.claim_refunds) if t is not None]
    return any(rejected_at <= t <= at for t in claim_refunds)


# --- change points and the timeline -----------------------------------------------------------------


def change_points(item: ItemState) -> set[datetime]:
    """Every moment the item's contributions may change: its facts' times and its deadlines."""
    if isinstance(item, ReviewState):
        return {item.posted_at}
    if isinstance(item, MessageState):
        moments = {item.received_at, item.replied_at, item.no_reply_at, *item.judged.values()}
        return {t for t in moments if t is not None} | _unjudged(item)
    o = item
    times: list[datetime | None] = [o.purchased_at, o.rejected_at, o.cancelled_at, *o.claim_refunds,
                                    *o.claims_filed.values(), *o.judged.values()]
    for s in o.shipments.values():
        times += [s.shipped_at, s.first_scan_at, s.delivered_at]
        times += [at for at, _ in s.verdicts]
    for f in o.feedback.values():
        times += [f.left_at, f.removed_at]
    for decisions in (*o.claims.values(), *o.chargebacks.values()):
        times += [d[0] for d in decisions]
    for r in o.returns.values():
        times += [r.requested_at, r.answered_at, r.rejected_at, r.claim_refund_at]
    return {t for t in times if t is not None} | _unjudged(o)


def _unjudged(item: OrderState | MessageState) -> set[datetime]:
    """Deadlines no tick has judged yet: the moments the item waits for (a tick at or after one judges it)."""
    return {d for d in deadlines(item) if d not in item.judged}


def timeline(item: ItemState, until: datetime) -> tuple[Deltas, datetime | None]:
    """The item's bucket rows for every change up to `until`, and the next change after it (or None)."""
    points = sorted(change_points(item))
    deltas: Deltas = {}
    previous: Contributions = {}
    waiting = [] if isinstance(item, ReviewState) else sorted(_unjudged(item))
    upcoming: datetime | None = waiting[0] if waiting else None  # due at the first tick at or after it
    for moment in points:
        if moment > until:
            upcoming = moment if upcoming is None else min(upcoming, moment)
            break
        current = contributions(item, moment)
        if current == previous:
            continue
        effective = moment.date()
        for key in previous.keys() | current.keys():
            new, old = current.get(key, (0, 0)), previous.get(key, (0, 0))
            if new != old:
                _merge(deltas, (key[0], key[1], effective), (new[0] - old[0], new[1] - old[1]))
        previous = current
    return {k: v for k, v in deltas.items() if v != (0, 0)}, upcoming


def _merge(deltas: Deltas, key: tuple[str, date, date], change: tuple[int, int]) -> None:
    old = deltas.get(key, (0, 0))
    deltas[key] = (old[0] + change[0], old[1] + change[1])


def difference(new: Deltas, old: Deltas) -> Deltas:
    """What to add to the buckets to replace an item's old rows by its new ones."""
    out: Deltas = {}
    for key in new.keys() | old.keys():
        a, b = new.get(key, (0, 0)), old.get(key, (0, 0))
        if a != b:
            out[key] = (a[0] - b[0], a[1] - b[1])
    return out


def total(rows: Iterable[Deltas]) -> Deltas:
    out: Deltas = {}
    for deltas in rows:
        for key, change in deltas.items():
            _merge(out, key, change)
    return {k: v for k, v in out.items() if v != (0, 0)}
