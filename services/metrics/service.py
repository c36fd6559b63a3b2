"""Metrics use cases, inside the consumed batch's transaction.

A batch:
1. moves the business clock to the latest tick or event time seen, never past the latest tick plus
   MAX_CLOCK_SKEW (design.md section 3: no single event moves a clock far);
2. folds each item's events into its facts, and re-evaluates the items whose deadline has passed;
   every changed item replaces its rows in the daily buckets (old rows out, new rows in): one
   upsert per table;
3. records policy violations, appeal decisions and account statuses;
4. refreshes the sellers it touched (and, when the day turns, those whose windows moved): scorecard,
   rating, band and enforcement, publishing `seller.scorecard_updated`, `seller.health_changed` and
   `seller.enforcement_decided` only when they change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
from opentelemetry import context as otel_context
from opentelemetry import trace

from services.metrics import queries, repository, views
from services.metrics.domain import codec, enforcement, facts
from services.metrics.domain.contributions import difference, timeline
from services.metrics.domain.health import Violation, health
from services.metrics.domain.scorecard import scorecard
from services.metrics.policy import DEFAULT_POLICY, Policy
from services.metrics.repository import ItemKey, Standing
from shared import business_clock, telemetry
from shared.events import Event, Payload, new_event
from shared.events.aftersales import MessageReceived, MessageReplied, ReviewReceived
from shared.events.clock import ClockTicked
from shared.events.metrics import SellerEnforcementDecided, SellerHealthChanged
from shared.events.policy import PolicyViolated
from shared.events.seller import SellerAppealDecided, SellerStatusChanged, StatusCause
from shared.messaging import outbox
from shared.messaging.consumer import Incoming, handling

SOURCE = "/sellerflow/metrics"
#: Items past a deadline re-evaluated per batch at most; the rest wait for the next batch.
DUE_PER_BATCH = 5000
#: Sellers whose windows moved at a day turn refreshed per batch at most; the rest wait for the next batches.
STALE_PER_BATCH = 2000
BucketChanges = dict[tuple[str, str, date, date], tuple[int, int]]
#: Bucket key -> the violation category its breach opens (the same for every policy: names, not figures).
CATEGORY_OF_KEY = {rule.key: rule.category for rule in DEFAULT_POLICY.rates}


#: Every payload the fold reads; the consumer skips (and does not record) the other types.
HANDLED: tuple[type[Payload], ...] = (*facts.ORDER_FACTS, MessageReceived, MessageReplied, ReviewReceived,
                                      PolicyViolated, SellerAppealDecided, SellerStatusChanged, ClockTicked)


class Fold:
    """The batch handler: `apply_batch`, with the event types it reads."""

    handled_types = frozenset(cls.EVENT_TYPE for cls in HANDLED)

    def __init__(self, policy: Policy = DEFAULT_POLICY) -> None:
        self.policy = policy

    async def __call__(self, conn: asyncpg.Connection, batch: Sequence[Incoming]) -> None:
        await apply_batch(conn, batch, policy=self.policy)


def moment_of(event: Event[Any]) -> datetime:
    data = event.data
    return data.now if isinstance(data, ClockTicked) else event.time


async def batch_moment(conn: asyncpg.Connection, batch: Sequence[Incoming],
                       max_clock_skew: timedelta | None) -> datetime:
    """The latest tick or event time of the batch, but no event time after the latest tick plus the skew.

    Live, the consumer has recorded the batch's ticks and its skew; a rebuild (no consumer) records them here.
    """
    ticks = [item.event.data.now for item in batch if isinstance(item.event.data, ClockTicked)]
    if ticks and max_clock_skew is not None:
        await business_clock.record_tick(conn, max(ticks), max_clock_skew)
    moment = max(moment_of(item.event) for item in batch)
    known = await business_clock.bound(conn)
    return moment if known is None else min(moment, known[0] + known[1])


async def apply_batch(conn: asyncpg.Connection, batch: Sequence[Incoming], *, policy: Policy = DEFAULT_POLICY,
                      publish: bool = True, max_clock_skew: timedelta | None = None) -> None:
    """Fold a batch; with `publish`, refresh the sellers it changed and stage what changed for them.
    A rebuild passes `max_clock_skew` (it records the ticks it folds); live, the consumer did."""
    before, now = await repository.advance_fold_clock(conn, await batch_moment(conn, batch, max_clock_skew))
    await business_clock.advance(conn, now)  # metrics' now: the latest tick or event time seen, bounded
    touched: set[str] = set()
    by_item: dict[ItemKey, list[Event[Any]]] = {}
    found: list[tuple[str, Violation, str, str]] = []
    resolutions: list[tuple[str, str, datetime, str]] = []
    appeals: list[tuple[str, datetime]] = []
    statuses: list[tuple[str, str, int | None]] = []
    traces: dict[str, otel_context.Context] = {}  # seller -> the first sampled trace that touched it
    for item in batch:
        event, data = item.event, item.event.data
        with handling(item):
            if isinstance(data, ClockTicked):
                continue
            seller = event.sellerid
            touched.add(seller)
            if seller not in traces and trace.get_current_span().get_span_context().trace_flags.sampled:
                traces[seller] = otel_context.get_current()
            key = facts.item_key(event)
            if key is not None:
                by_item.setdefault((seller, *key), []).append(event)
            elif isinstance(data, PolicyViolated):
                found.append((seller, Violation(data.violation_id, data.category.value, data.severity,
                                                data.detected_at, data.description, tuple(data.rules)),
                              data.subject_kind.value, data.subject_id))
            elif isinstance(data, SellerAppealDecided) and data.accepted:
                appeals.append((seller, max(event.time, now)))  # it answers decisions taken up to now
                resolutions += [(seller, v, event.time, data.appeal_id) for v in data.resolved_violation_ids]
            elif isinstance(data, SellerStatusChanged):
                by_operator = data.cause in (StatusCause.APPEAL, StatusCause.OPERATOR)
                level = enforcement.LEVEL_OF_STATUS.get(data.new_status) if by_operator else None
                statuses.append((seller, data.new_status.value, None if level is None else int(level)))
    ticks = [item.event.data.now for item in batch if isinstance(item.event.data, ClockTicked)]
    changed, _ = await fold_items(conn, by_item, now, ticks=ticks)
    await repository.save_violations(conn, found)
    await repository.resolve_violations(conn, resolutions)
    await repository.record_appeals(conn, appeals)
    await repository.record_statuses(conn, statuses)
    if not publish:
        return
    if before is not None and now.date() > before.date():
        await windows_moved(conn, before, now, policy)
        # Every deadline of an item some window still holds lies after its attribution day, so no older
        # tick can judge one: the ticks table stays one longest window long (a tick a minute: ~525k rows).
        await repository.forget_ticks_before(conn, now - timedelta(days=policy.longest_window + 1))
    sellers = touched | changed | await repository.take_stale(conn, STALE_PER_BATCH)
    if ticks:
        # Enforcement is decided on the business clock's ticks only, for every seller, at the tick's
        # time: what is decided then does not depend on how the events before it were batched.
        await refresh(conn, await repository.all_sellers(conn), max(now, max(ticks)), policy, decide=True,
                      traces=traces)
    else:
        await refresh(conn, sorted(sellers), now, policy, decide=False, traces=traces)


async def fold_items(conn: asyncpg.Connection, by_item: dict[ItemKey, list[Event[Any]]], now: datetime,
                     due_limit: int = DUE_PER_BATCH, ticks: Sequence[datetime] = ()) -> tuple[set[str], int]:
    """Apply each item's new facts, re-evaluate items whose deadline a clock tick reached.

    A deadline passes at the first tick at or after it (domain.md section 6), never between ticks:
    the batch's `ticks` are recorded, and every deadline a tick has reached is judged by its first one.
    Returns the sellers whose buckets changed, and how many items were due.
    """
    last_tick = await repository.record_ticks(conn, ticks)
    rows = await repository.lock_items(conn, list(by_item))
    due_rows = await repository.lock_due_items(conn, last_tick, due_limit) if last_tick is not None else []
    due = [row for row in due_rows if row.key not in by_item]
    states: list[tuple[ItemKey, facts.ItemState, Any]] = []
    for key, events in by_item.items():
        _, kind, item_id = key
        row = rows.get(key)
        state = codec.decode(kind, item_id, row.facts) if row else facts.new_item(kind, item_id, events[0])
        for event in sorted(events, key=lambda e: (e.time, e.type, str(e.id))):
            state = facts.apply(state, event)
        states.append((key, state, row.applied if row else {}))
    states += [(row.key, codec.decode(row.key[1], row.key[2], row.facts), row.applied) for row in due]
    judged = await _judged(conn, [state for _, state, _ in states], last_tick)
    saves: list[tuple[ItemKey, date, dict[str, Any], Any, datetime | None]] = []
    changes: BucketChanges = {}
    for key, state, applied in states:
        _evaluate(key, facts.with_judged(state, judged), applied, now, saves, changes)
    await repository.save_items(conn, saves)
    await repository.add_to_buckets(conn, changes)
    today = now.date()
    await repository.forget_histories(conn, [(seller, CATEGORY_OF_KEY[metric]) for seller, metric, _, eff in changes
                                             if eff < today and metric in CATEGORY_OF_KEY])
    return {key[0] for key in changes}, len(due_rows)


async def _judged(conn: asyncpg.Connection, states: Sequence[facts.ItemState], last_tick: datetime | None
                  ) -> dict[datetime, datetime]:
    """Every deadline of these items that a tick has reached -> the first tick at or after it (a tick delivered
    late may be an earlier first one than the tick that judged a deadline before)."""
    if last_tick is None:
        return {}
    waiting = {d for state in states if not isinstance(state, facts.ReviewState)
               for d in facts.deadlines(state) if d <= last_tick}
    return await repository.first_ticks_at_or_after(conn, sorted(waiting))


def _evaluate(key: ItemKey, state: facts.ItemState, applied: Any, now: datetime,
              saves: list[tuple[ItemKey, date, dict[str, Any], Any, datetime | None]], changes: BucketChanges) -> None:
    rows, upcoming = timeline(state, now)
    for (metric, attr, eff), change in difference(rows, applied).items():
        old = changes.get((key[0], metric, attr, eff), (0, 0))
        changes[(key[0], metric, attr, eff)] = (old[0] + change[0], old[1] + change[1])
    saves.append((key, anchor_day(state), codec.encode(state), rows, upcoming))


def anchor_day(state: facts.ItemState) -> date:
    if isinstance(state, facts.OrderState):
        return state.purchased_at.date()
    if isinstance(state, facts.MessageState):
        return state.received_at.date()
    return state.posted_at.date()


async def windows_moved(conn: asyncpg.Connection, before: datetime, now: datetime, policy: Policy) -> None:
    """The day turned: queue the sellers with rows on a day that entered or left a window, or a violation that
    closed. They are refreshed over the next batches (a tick comes every minute in production)."""
    old, new = before.date(), now.date()
    if (new - old).days > policy.longest_window:
        await repository.mark_all_stale(conn)
        return
    entered = {old + timedelta(days=i) for i in range(1, (new - old).days + 1)}
    spans = {span for spans in policy.windows_by_family().values() for span in spans}
    left = {d - timedelta(days=span) for d in entered for span in spans}  # a window's first day moved past these
    window = policy.violation_window
    await repository.mark_stale(conn, sorted(entered | left), before - window, now - window)


async def refresh(conn: asyncpg.Connection, sellers: Sequence[str], now: datetime, policy: Policy = DEFAULT_POLICY,
                  *, publish: bool = True, decide: bool = True,
                  traces: Mapping[str, otel_context.Context] | None = None) -> None:
    """Recompute the sellers' scorecards and health; stage what changed (with `publish`). A seller's events
    continue the sampled trace of an event that touched it (`traces`), so one order's trace reaches its
    seller's scorecard (design.md section 9)."""
    if not sellers:
        return
    day = now.date()
    sums = await repository.window_sums(conn, sellers, day, policy)
    standings = await repository.lock_standings(conn, sellers)
    cards = {s: scorecard(day, sums[s], policy) for s in sellers}
    flags = {(s, c): f for s, card in cards.items() for c, f in queries.categories_of(card, policy).items()}
    breached: dict[str, set[str]] = {s: set() for s in sellers}
    for (seller, category), flag in flags.items():
        if flag:
            breached[seller].add(category)
    histories = await queries.histories(conn, breached, day, policy, flags, store=conn)
    since = now - policy.violation_window - policy.repeat_window
    found, resolved = await repository.violations(conn, sellers, since)
    rows: list[outbox.OutboxRow] = []
    saves: list[tuple[Standing, datetime]] = []
    for seller in sellers:
        staged: list[Event[Any]] = []
        card, previous = cards[seller], standings[seller]
        rated = health(card, found[seller], histories.get(seller, {}), resolved[seller], now, policy)
        digest = views.digest(card, rated)
        decision = enforcement.decide(previous.standing, rated, now, policy) if publish and decide else None
        standing = enforcement.after(previous.standing, rated, decision, now, at_tick=decide)
        saves.append((Standing(seller, standing, digest, tuple(sorted(breached[seller]))), now))
        if not publish:
            continue
        if digest != previous.digest:
            staged.append(_event(views.scorecard_event(card, rated, now), seller, now))
        if rated.band is not previous.standing.band:
            staged.append(_event(SellerHealthChanged(as_of=now, old_band=previous.standing.band, new_band=rated.band,
                                                     old_rating=previous.standing.rating, new_rating=rated.rating),
                                 seller, now))
        if decision is not None:
            defects = await queries.defects_behind(conn, seller, rated, now, policy)
            staged.append(_event(SellerEnforcementDecided(
                as_of=now, action=decision.action, reasons=list(decision.reasons)[:20], rating=rated.rating,
                band=rated.band, metrics=[views.metric_value(r) for r in rated.breached][:50],
                defects=[d.ref() for d in defects][: policy.max_defects_listed],
                violation_ids=rated.open_violation_ids[:100]), seller, now))
        if staged:
            rows += _traced_rows(staged, seller, (traces or {}).get(seller))
    await repository.save_standings(conn, saves)
    await outbox.stage_rows(conn, rows)


def _traced_rows(events: Sequence[Event[Any]], seller: str, parent: otel_context.Context | None
                 ) -> list[outbox.OutboxRow]:
    """The seller's new events as outbox rows, in the trace that touched the seller (or none)."""
    if parent is None:
        return [outbox.event_row(e) for e in events]
    with telemetry.tracer().start_as_current_span("refresh scorecard", context=parent) as span:
        span.set_attribute(telemetry.SERVICE_ATTRIBUTE, "metrics")
        span.set_attribute("sellerflow.seller_id", seller)
        span.set_attribute("sellerflow.event_types", [e.type for e in events])
        return [outbox.event_row(e) for e in events]


def _event(payload: Any, seller: str, now: datetime) -> Event[Any]:
    return new_event(payload, seller_id=seller, subject=seller, time=now, source=SOURCE)


async def settle(conn: asyncpg.Connection, policy: Policy = DEFAULT_POLICY) -> int:
    """After a replay: every deadline up to now evaluated, every seller's standing recomputed, nothing published.

    The enforcement level follows the account status the listing service last applied.
    """
    now = await business_clock.current(conn)
    if now is None:
        return 0
    await repository.advance_fold_clock(conn, now)
    while (await fold_items(conn, {}, now))[1] == DUE_PER_BATCH:
        pass
    sellers = await repository.all_sellers(conn)
    await conn.execute("DELETE FROM stale_sellers")
    for start in range(0, len(sellers), 1000):
        await refresh(conn, sellers[start:start + 1000], now, policy, publish=False)
    await conn.execute(
        "UPDATE sellers SET level = CASE account_status WHEN 'warned' THEN 1 WHEN 'restricted' THEN 2"
        " WHEN 'suspended' THEN 3 ELSE 0 END WHERE account_status IS NOT NULL")
    return len(sellers)

