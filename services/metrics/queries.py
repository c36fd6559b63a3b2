"""Reads: a seller's scorecard and health at now or at the end of any past day, the drill-down behind a
metric, day-end trends, and the breach history the rating needs. Everything comes from the same daily
buckets and item facts the batches write; a past day is the same query with an earlier day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import asyncpg

from services.metrics import repository
from services.metrics.domain import codec
from services.metrics.domain.contributions import change_points, contributions, order_defects
from services.metrics.domain.facts import MESSAGE, ORDER, ItemState, MessageState, OrderState
from services.metrics.domain.health import Episode, Health, breach_days, episodes, health, with_today
from services.metrics.domain.scorecard import Scorecard, breach_test, day_series, scorecard, window
from services.metrics.policy import DEFAULT_POLICY, RESPONSE, Policy, RateRule
from services.metrics.repository import Db
from services.metrics.views import DefectItem
from shared import business_clock
from shared.events.common import DefectKind, FulfillmentChannel
from shared.events.metrics import MetricName, TargetKind

#: How far before a window's first day an item may be anchored (order date before ship-by, deliver-by
#: or a return request) and still be attributed inside it.
ANCHOR_SLACK = timedelta(days=120)

KIND_OF_METRIC = {
    MetricName.PRE_FULFILLMENT_CANCEL_RATE: DefectKind.SELLER_CANCELLATION,
    MetricName.LATE_SHIPMENT_RATE: DefectKind.LATE_SHIPMENT,
    MetricName.VALID_TRACKING_RATE: DefectKind.INVALID_TRACKING,
    MetricName.ON_TIME_DELIVERY_RATE: DefectKind.LATE_DELIVERY,
    MetricName.RESPONSE_WITHIN_24H: DefectKind.LATE_RESPONSE,
    MetricName.RETURN_DISSATISFACTION_RATE: DefectKind.RETURN_DISSATISFACTION,
}


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


async def moment(db: Db, as_of: datetime | None) -> datetime | None:
    """The scorecard's now: the business clock's, or the end of an earlier business day (`?as_of=`)."""
    now = await business_clock.current(db)
    if as_of is None:
        return now
    if now is not None and as_of.date() >= now.date():
        return now
    return end_of_day(as_of.date())


@dataclass(frozen=True)
class View:
    seller_id: str
    now: datetime
    card: Scorecard
    health: Health


async def view(db: Db, seller_id: str, now: datetime, policy: Policy = DEFAULT_POLICY, *, full: bool = False,
               live: bool | None = None) -> View:
    """Scorecard and health at `now`; `full` also reads every category's history (closed violations).
    `live`: `now` is the business clock's (the breach history cache holds its day), when the caller knows."""
    day = now.date()
    sums = (await repository.window_sums(db, [seller_id], day, policy))[seller_id]
    card = scorecard(day, sums, policy)
    flags = categories_of(card, policy)
    wanted = set(flags) if full else {c for c, breached in flags.items() if breached}
    if live is None:
        today = await business_clock.current(db)
        live = today is not None and today.date() == day  # the cache holds the day-ends before the clock's day
    history = (await histories(db, {seller_id: wanted}, day, policy, {(seller_id, c): f for c, f in flags.items()},
                               cache=live)).get(seller_id, {})
    found, resolved = await repository.violations(db, [seller_id], now - policy.violation_window - policy.repeat_window)
    return View(seller_id, now, card, health(card, found[seller_id], history, resolved[seller_id], now, policy))


async def histories(db: Db, wanted: Mapping[str, set[str]], day: date, policy: Policy,
                    breached_today: Mapping[tuple[str, str], bool], *, cache: bool = True,
                    store: asyncpg.Connection | None = None) -> dict[str, dict[str, list[Episode]]]:
    """Per seller, the breach episodes of each wanted category: every day-end before `day`, then `day` itself
    as the scorecard says now (`breached_today`).

    The day-ends come from the cache when it holds them (`cache`): extended by the days since it was
    written, or computed from all the seller's rows when a late row made it stale. `store` keeps them.
    """
    pairs = sorted((s, c) for s, categories in wanted.items() for c in categories)
    yesterday = day - timedelta(days=1)
    cached = await repository.cached_histories(db, pairs, yesterday) if cache else {}
    stale = {p: v for p, v in cached.items() if v[0] < yesterday}
    fresh = {p: v[1] for p, v in cached.items() if v[0] == yesterday}
    extended = await _extend(db, stale, yesterday, policy)
    computed = await _day_end_episodes(db, [p for p in pairs if p not in cached], yesterday, policy)
    if store is not None:
        await repository.save_histories(store, extended | computed, yesterday)
    known = fresh | extended | computed
    out: dict[str, dict[str, list[Episode]]] = {}
    for seller, category in pairs:
        runs = [Episode(category, a, b) for a, b in known[(seller, category)]]
        out.setdefault(seller, {})[category] = with_today(runs, category, day, breached_today[(seller, category)])
    return out


Runs = list[tuple[date, date | None]]


async def _day_flags(db: Db, pairs: Sequence[tuple[str, str]], first: date, last: date, policy: Policy
                     ) -> dict[tuple[str, str], list[tuple[date, bool]]]:
    """Per (seller, category), whether it was in breach at the end of each day from `first` to `last`."""
    longest = max(max(rule.windows) for rule in policy.rates)
    keyed = sorted({(s, rule.key) for s, category in pairs for rule in policy.rates if rule.category == category})
    rows = await repository.bucket_rows(db, keyed, first - timedelta(days=longest), last)
    out: dict[tuple[str, str], list[tuple[date, bool]]] = {}
    for seller, category in pairs:
        rules = [rule for rule in policy.rates if rule.category == category]
        mine = {rule.key: rows[(seller, rule.key)] for rule in rules}
        start = min((r[1] for found in mine.values() for r in found), default=last + timedelta(days=1))
        start = max(start, first)  # before its first row a seller breaches nothing: skip those days
        series = [(breach_test(rule.target, rule.kind, policy), day_series(mine[rule.key], days, start, last))
                  for rule in rules for days in rule.windows]
        out[(seller, category)] = breach_days(series, start) if start <= last else []
    return out


async def _day_end_episodes(db: Db, pairs: Sequence[tuple[str, str]], last: date, policy: Policy
                            ) -> dict[tuple[str, str], Runs]:
    """Episodes of each (seller, category) from the day-end values of all its days up to `last`."""
    if not pairs:
        return {}
    flags = await _day_flags(db, pairs, date(1970, 1, 1), last, policy)
    return {p: [(e.opened_on, e.closed_on) for e in episodes(p[1], flags[p])] for p in pairs}


async def _extend(db: Db, stale: Mapping[tuple[str, str], tuple[date, Runs]], last: date, policy: Policy
                  ) -> dict[tuple[str, str], Runs]:
    """Cached episodes carried on over the day-ends since they were written."""
    out: dict[tuple[str, str], Runs] = {}
    by_through: dict[date, list[tuple[str, str]]] = {}
    for pair, (through, _) in stale.items():
        by_through.setdefault(through, []).append(pair)
    for through, pairs in by_through.items():
        flags = await _day_flags(db, pairs, through + timedelta(days=1), last, policy)
        for pair in pairs:
            runs = [Episode(pair[1], a, b) for a, b in stale[pair][1]]
            for day, breached in flags[pair]:
                runs = with_today(runs, pair[1], day, breached)
            out[pair] = [(e.opened_on, e.closed_on) for e in runs]
    return out


def categories_of(view_card: Scorecard, policy: Policy = DEFAULT_POLICY) -> dict[str, bool]:
    """Each rate category (one per metric: the two ODR channels are two) and whether it is in breach."""
    out: dict[str, bool] = {}
    for rate in view_card.rates:
        category = policy.category_of(rate.key)
        out[category] = out.get(category, False) or rate.breach
    return out


async def trend(db: Db, seller_id: str, day: date, days: int, policy: Policy = DEFAULT_POLICY
                ) -> dict[tuple[str, int], list[tuple[date, int, int]]]:
    """Each rate (bucket key, window) at the end of each of the last `days` days: the dashboard's charts."""
    first = day - timedelta(days=days - 1)
    keys = sorted({rule.key for rule in policy.rates})
    longest = max(max(rule.windows) for rule in policy.rates)
    rows = await repository.bucket_rows(db, [(seller_id, k) for k in keys], first - timedelta(days=longest), day)
    out: dict[tuple[str, int], list[tuple[date, int, int]]] = {}
    for rule in policy.rates:
        for span in rule.windows:
            values = day_series(rows[(seller_id, rule.key)], span, first, day)
            out[(rule.key, span)] = [(first + timedelta(days=i), n, d) for i, (n, d) in enumerate(values)]
    return out


def rules_for(metric: MetricName, channel: FulfillmentChannel | None, policy: Policy) -> list[RateRule]:
    return [r for r in policy.rates if r.name is metric and (channel is None or r.channel in (None, channel))]


async def drilldown(db: Db, seller_id: str, rule: RateRule, span: int, at: datetime) -> list[DefectItem]:
    """Every item counted against the target in one window at `at`: its order, kind, attribution date, and
    the date it leaves the window."""
    return (await drilldowns(db, seller_id, [(rule, span)], at))[(rule.key, span)]


async def drilldowns(db: Db, seller_id: str, wanted: Sequence[tuple[RateRule, int]], at: datetime
                     ) -> dict[tuple[str, int], list[DefectItem]]:
    """The drill-down of several (rate, window)s, reading and evaluating each item once."""
    out: dict[tuple[str, int], list[DefectItem]] = {(rule.key, span): [] for rule, span in wanted}
    for kind in sorted({MESSAGE if rule.key == RESPONSE else ORDER for rule, _ in wanted}):
        mine = [(rule, span, *window(at.date(), span)) for rule, span in wanted
                if (MESSAGE if rule.key == RESPONSE else ORDER) == kind]
        first = min(m[2] for m in mine)
        for item_id, data in await repository.items_from(db, seller_id, kind, first - ANCHOR_SLACK):
            state = codec.decode(kind, item_id, data)
            counted = contributions(state, at)
            order_id = state.order_id if isinstance(state, OrderState | MessageState) else None
            for rule, span, start, last in mine:
                for (key, attributed), (num, den) in sorted(counted.items()):
                    bad = num if rule.kind is TargetKind.AT_MOST else den - num
                    if key != rule.key or bad <= 0 or not start <= attributed <= last:
                        continue
                    out[(rule.key, span)].append(DefectItem(rule.key, item_id, order_id, _kinds(rule, state, at),
                                                            attributed, span, _since(state, rule, at)))
    return {k: sorted(v, key=lambda d: (d.attributed_on, d.item_id)) for k, v in out.items()}


def _kinds(rule: RateRule, state: ItemState, at: datetime) -> tuple[DefectKind, ...]:
    if rule.name is MetricName.ORDER_DEFECT_RATE and isinstance(state, OrderState):
        return tuple(order_defects(state, at)) or (DefectKind.NEGATIVE_FEEDBACK,)
    return (KIND_OF_METRIC[rule.name],)


def _since(state: ItemState, rule: RateRule, at: datetime) -> datetime | None:
    """When the item last turned bad for this metric."""
    since: datetime | None = None
    was_bad = False
    for point in sorted(p for p in change_points(state) if p <= at):
        bad = any((num if rule.kind is TargetKind.AT_MOST else den - num) > 0
                  for (key, _), (num, den) in contributions(state, point).items() if key == rule.key)
        if bad and not was_bad:
            since = point
        was_bad = bad
    return since


async def defects_behind(db: Db, seller_id: str, rated: Health, at: datetime, policy: Policy) -> list[DefectItem]:
    """The drill-down of every breached rate: what an enforcement decision carries."""
    wanted = [(next(r for r in policy.rates if r.key == rate.key), rate.window_days) for rate in rated.breached]
    found = await drilldowns(db, seller_id, wanted, at)
    unique = {(d.item_id, d.kinds[0]): d for items in found.values() for d in items}
    return sorted(unique.values(), key=lambda d: (d.attributed_on, d.item_id))
