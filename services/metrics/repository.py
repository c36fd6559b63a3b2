"""SQL for the metrics schema. Set-based: a consumed batch costs one round trip per table (unnest upserts)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeAlias

import asyncpg

from services.metrics.domain.contributions import Deltas
from services.metrics.domain.enforcement import Level, SellerStanding
from services.metrics.domain.health import Violation
from services.metrics.domain.scorecard import Row
from services.metrics.policy import Policy, family
from shared.events.common import HealthBand, Severity

Db: TypeAlias = asyncpg.Connection | asyncpg.Pool
ItemKey = tuple[str, str, str]  # seller, kind, item id


@dataclass(frozen=True)
class ItemRow:
    key: ItemKey
    facts: dict[str, Any]
    applied: Deltas


async def advance_fold_clock(conn: asyncpg.Connection, moment: datetime) -> tuple[datetime | None, datetime]:
    """Move the fold's clock forward to `moment`; (before, after)."""
    before: datetime | None = await conn.fetchval("SELECT now FROM fold_clock FOR UPDATE")
    after = moment if before is None else max(before, moment)
    await conn.execute("INSERT INTO fold_clock (singleton, now) VALUES (true, $1)"
                       " ON CONFLICT (singleton) DO UPDATE SET now = EXCLUDED.now", after)
    return before, after


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def encode_deltas(deltas: Deltas) -> list[list[Any]]:
    return [[k, a.isoformat(), e.isoformat(), n, d] for (k, a, e), (n, d) in sorted(deltas.items())]


def decode_deltas(rows: Iterable[Sequence[Any]]) -> Deltas:
    return {(k, date.fromisoformat(a), date.fromisoformat(e)): (n, d) for k, a, e, n, d in rows}


def _item(record: asyncpg.Record) -> ItemRow:
    return ItemRow((record["seller_id"], record["kind"], record["item_id"]), record["facts"],
                   decode_deltas(record["applied"]))


async def lock_items(conn: asyncpg.Connection, keys: Sequence[ItemKey]) -> dict[ItemKey, ItemRow]:
    if not keys:
        return {}
    ordered = sorted(set(keys))  # one lock order for every replica: no deadlocks between batches
    records = await conn.fetch(
        "SELECT i.seller_id, i.kind, i.item_id, i.facts, i.applied FROM items i"
        " JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(seller_id, kind, item_id)"
        " USING (seller_id, kind, item_id) ORDER BY 1, 2, 3 FOR UPDATE OF i",
        [k[0] for k in ordered], [k[1] for k in ordered], [k[2] for k in ordered],
    )
    return {row.key: row for row in map(_item, records)}


async def record_ticks(conn: asyncpg.Connection, ticks: Sequence[datetime]) -> datetime | None:
    """Remember the batch's clock ticks; the latest tick seen (None before the first one).

    A tick older than one seen before (ticks delivered out of order) may be the first tick after a
    deadline that a later tick judged: those items are queued for re-evaluation at once.
    """
    before: datetime | None = await conn.fetchval("SELECT max(now) FROM clock_ticks")
    if ticks:
        await conn.execute("INSERT INTO clock_ticks (now) SELECT unnest($1::timestamptz[]) ON CONFLICT DO NOTHING",
                           list(ticks))
    late = sorted(t for t in ticks if before is not None and t < before)
    if late:
        await conn.execute(
            "UPDATE items SET next_at = LEAST(next_at, $1) WHERE facts ? 'judged' AND EXISTS ("
            " SELECT 1 FROM jsonb_array_elements(facts->'judged') j, unnest($2::timestamptz[]) t"
            " WHERE (j->>0)::timestamptz <= t AND (j->>1)::timestamptz > t)",
            late[0], late)
    latest: datetime | None = await conn.fetchval("SELECT max(now) FROM clock_ticks")
    return latest


async def forget_ticks_before(conn: asyncpg.Connection, cutoff: datetime) -> int:
    """Drop the ticks before `cutoff`, always keeping the latest: a deadline at or after the cutoff is
    judged by a tick at or after it, so none of these will judge anything again. How many went."""
    result: str = await conn.execute(
        "DELETE FROM clock_ticks WHERE now < $1 AND now < (SELECT max(now) FROM clock_ticks)", cutoff)
    return int(result.rsplit(" ", 1)[1])


async def first_ticks_at_or_after(conn: asyncpg.Connection, deadlines: Sequence[datetime]
                                  ) -> dict[datetime, datetime]:
    """Each deadline -> the first tick at or after it (deadlines no tick has reached yet are left out)."""
    if not deadlines:
        return {}
    rows = await conn.fetch(
        "SELECT d, (SELECT min(t.now) FROM clock_ticks t WHERE t.now >= d) AS tick"
        " FROM unnest($1::timestamptz[]) AS d", list(deadlines))
    return {r["d"]: r["tick"] for r in rows if r["tick"] is not None}


async def lock_due_items(conn: asyncpg.Connection, now: datetime, limit: int) -> list[ItemRow]:
    """Items whose next deadline has passed; another replica's are skipped (it handles them)."""
    records = await conn.fetch(
        "SELECT seller_id, kind, item_id, facts, applied FROM items WHERE next_at <= $1"
        " ORDER BY next_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        now, limit,
    )
    return [_item(r) for r in records]


async def save_items(conn: asyncpg.Connection,
                     rows: Sequence[tuple[ItemKey, date, dict[str, Any], Deltas, datetime | None]]) -> None:
    if not rows:
        return
    await conn.execute(
        "INSERT INTO items (seller_id, kind, item_id, anchor_day, facts, applied, next_at)"
        " SELECT s, k, i, d, f::jsonb, a::jsonb, n FROM unnest($1::text[], $2::text[], $3::text[], $4::date[],"
        " $5::text[], $6::text[], $7::timestamptz[]) AS x(s, k, i, d, f, a, n)"
        " ON CONFLICT (seller_id, kind, item_id) DO UPDATE SET anchor_day = EXCLUDED.anchor_day,"
        " facts = EXCLUDED.facts, applied = EXCLUDED.applied, next_at = EXCLUDED.next_at",
        [r[0][0] for r in rows], [r[0][1] for r in rows], [r[0][2] for r in rows], [r[1] for r in rows],
        [_json(r[2]) for r in rows], [_json(encode_deltas(r[3])) for r in rows], [r[4] for r in rows],
    )


async def add_to_buckets(conn: asyncpg.Connection, deltas: Mapping[tuple[str, str, date, date], tuple[int, int]]
                         ) -> None:
    """Add (seller, key, attribution day, effective day) -> (numerator, denominator) changes."""
    if not deltas:
        return
    keys = sorted(deltas)
    await conn.execute(
        "INSERT INTO buckets (seller_id, metric, attr_day, eff_day, num, den)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::date[], $5::bigint[], $6::bigint[])"
        " ON CONFLICT (seller_id, metric, attr_day, eff_day) DO UPDATE"
        " SET num = buckets.num + EXCLUDED.num, den = buckets.den + EXCLUDED.den",
        [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys], [k[3] for k in keys],
        [deltas[k][0] for k in keys], [deltas[k][1] for k in keys],
    )


@functools.lru_cache(maxsize=8)
def _window_sums_sql(windows: tuple[tuple[str, tuple[int, ...]], ...]) -> tuple[str, tuple[int, ...]]:
    """One pass over a seller's rows, a FILTER pair per window length: a plan that stays good when generic."""
    spans = tuple(sorted({d for _, days in windows for d in days}))
    if not all(re.fullmatch(r"[a-z_.]+", family) for family, _ in windows):
        raise ValueError("bucket families are plain names")
    sums = ", ".join(f"(sum(num) FILTER (WHERE attr_day > $2::date - {d}))::bigint,"
                     f" (sum(den) FILTER (WHERE attr_day > $2::date - {d}))::bigint" for d in spans)
    longest = " ".join(f"WHEN '{family}' THEN {max(days)}" for family, days in windows)
    return (f"SELECT seller_id, metric, {sums} FROM buckets"
            " WHERE seller_id = ANY($1::text[]) AND attr_day <= $2::date AND eff_day <= $2::date"
            " AND attr_day > $2::date - $3::int"
            f" AND attr_day > $2::date - CASE split_part(metric, ':', 1) {longest} ELSE 0 END"
            " GROUP BY seller_id, metric"), spans


async def window_sums(db: Db, sellers: Sequence[str], day: date, policy: Policy
                      ) -> dict[str, dict[tuple[str, int], tuple[int, int]]]:
    """Per seller, (bucket key, window) -> sums over the window ending `day`, of rows effective by `day`."""
    if not sellers:
        return {}
    windows = policy.windows_by_family()
    sql, spans = _window_sums_sql(tuple(windows.items()))
    records = await db.fetch(sql, list(sellers), day, policy.longest_window)
    out: dict[str, dict[tuple[str, int], tuple[int, int]]] = {s: {} for s in sellers}
    for r in records:
        metric = r["metric"]
        wanted = windows.get(family(metric), ())
        mine = out[r["seller_id"]]
        for i, span in enumerate(spans):
            if span in wanted:
                mine[(metric, span)] = (r[2 + 2 * i] or 0, r[3 + 2 * i] or 0)
    return out


async def bucket_rows(db: Db, pairs: Sequence[tuple[str, str]], first: date, day: date
                      ) -> dict[tuple[str, str], list[Row]]:
    """Rows of (seller, bucket key) attributed from `first` and effective by `day`: for day-end history."""
    if not pairs:
        return {}
    records = await db.fetch(
        "SELECT b.seller_id, b.metric, b.attr_day, b.eff_day, b.num, b.den FROM buckets b"
        " JOIN unnest($1::text[], $2::text[]) AS p(seller_id, metric) USING (seller_id, metric)"
        " WHERE b.attr_day >= $3 AND b.attr_day <= $4 AND b.eff_day <= $4",
        [p[0] for p in pairs], [p[1] for p in pairs], first, day,
    )
    out: dict[tuple[str, str], list[Row]] = {p: [] for p in pairs}
    for r in records:
        out[(r["seller_id"], r["metric"])].append((r["attr_day"], r["eff_day"], r["num"], r["den"]))
    return out


async def mark_stale(conn: asyncpg.Connection, days: Sequence[date], after: datetime, until: datetime) -> None:
    """Queue the sellers with rows attributed to any of `days` (their windows changed when the day turned) or a
    violation detected in (after, until] (closing now), set-based: nothing comes back to Python."""
    await conn.execute(
        "INSERT INTO stale_sellers (seller_id) SELECT DISTINCT seller_id FROM buckets WHERE attr_day = ANY($1::date[])"
        " UNION SELECT seller_id FROM violations WHERE detected_at > $2 AND detected_at <= $3"
        " ON CONFLICT DO NOTHING", list(days), after, until)


async def mark_all_stale(conn: asyncpg.Connection) -> None:
    await conn.execute("INSERT INTO stale_sellers (seller_id) SELECT seller_id FROM sellers ON CONFLICT DO NOTHING")


async def take_stale(conn: asyncpg.Connection, limit: int) -> set[str]:
    """Up to `limit` queued sellers, taken off the queue (another replica skips those this one holds)."""
    records = await conn.fetch(
        "DELETE FROM stale_sellers WHERE seller_id IN (SELECT seller_id FROM stale_sellers ORDER BY seller_id"
        " LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING seller_id", limit)
    return {r["seller_id"] for r in records}


async def known_seller(db: Db, seller_id: str) -> bool:
    """Whether any event consumed so far named the seller."""
    known: bool = await db.fetchval(
        "SELECT EXISTS (SELECT 1 FROM sellers WHERE seller_id = $1)"
        " OR EXISTS (SELECT 1 FROM items WHERE seller_id = $1)", seller_id)
    return known


async def all_sellers(db: Db) -> list[str]:
    records = await db.fetch(
        "SELECT seller_id FROM sellers UNION SELECT DISTINCT seller_id FROM items"
        " UNION SELECT DISTINCT seller_id FROM violations ORDER BY 1")
    return [r["seller_id"] for r in records]


# --- breach history cache ---------------------------------------------------------------------------


async def cached_histories(db: Db, pairs: Sequence[tuple[str, str]], through: date
                           ) -> dict[tuple[str, str], tuple[date, list[tuple[date, date | None]]]]:
    """(seller, category) -> (the day they go to, episodes), for pairs cached up to `through` or less."""
    if not pairs:
        return {}
    records = await db.fetch(
        "SELECT h.seller_id, h.category, h.through, h.episodes FROM breach_history h"
        " JOIN unnest($1::text[], $2::text[]) AS p(seller_id, category) USING (seller_id, category)"
        " WHERE h.through <= $3",
        [p[0] for p in pairs], [p[1] for p in pairs], through)
    return {(r["seller_id"], r["category"]): (r["through"], [
        (date.fromisoformat(a), None if b is None else date.fromisoformat(b)) for a, b in r["episodes"]])
        for r in records}


async def save_histories(conn: asyncpg.Connection, rows: Mapping[tuple[str, str], list[tuple[date, date | None]]],
                         through: date) -> None:
    if not rows:
        return
    keys = sorted(rows)
    await conn.execute(
        "INSERT INTO breach_history (seller_id, category, through, episodes)"
        " SELECT s, c, $3, e::jsonb FROM unnest($1::text[], $2::text[], $4::text[]) AS x(s, c, e)"
        " ON CONFLICT (seller_id, category) DO UPDATE SET through = EXCLUDED.through, episodes = EXCLUDED.episodes",
        [k[0] for k in keys], [k[1] for k in keys], through,
        [_json([[a.isoformat(), None if b is None else b.isoformat()] for a, b in rows[k]]) for k in keys])


async def forget_histories(conn: asyncpg.Connection, pairs: Iterable[tuple[str, str]]) -> None:
    """Rows effective before today changed: those day-end histories must be computed again."""
    keys = sorted(set(pairs))
    if keys:
        await conn.execute(
            "DELETE FROM breach_history h USING unnest($1::text[], $2::text[]) AS p(seller_id, category)"
            " WHERE h.seller_id = p.seller_id AND h.category = p.category",
            [k[0] for k in keys], [k[1] for k in keys])


# --- violations ------------------------------------------------------------------------------------


async def save_violations(conn: asyncpg.Connection, rows: Sequence[tuple[str, Violation, str, str]]) -> None:
    """(seller, violation, subject kind, subject id): a violation seen again changes nothing."""
    if not rows:
        return
    await conn.execute(
        "INSERT INTO violations (seller_id, violation_id, category, severity, rules, detected_at, description)"
        " SELECT s, v, c, sev, string_to_array(r, ','), d, t FROM unnest($1::text[], $2::text[], $3::text[],"
        " $4::text[], $5::text[], $6::timestamptz[], $7::text[]) AS x(s, v, c, sev, r, d, t)"
        " ON CONFLICT (seller_id, violation_id) DO UPDATE SET category = EXCLUDED.category,"
        " severity = EXCLUDED.severity, rules = EXCLUDED.rules, detected_at = EXCLUDED.detected_at,"
        " description = EXCLUDED.description",
        [r[0] for r in rows], [r[1].violation_id for r in rows], [r[1].category for r in rows],
        [r[1].severity.value for r in rows], [",".join(r[1].rules) for r in rows],
        [r[1].detected_at for r in rows], [r[1].description for r in rows],
    )


async def resolve_violations(conn: asyncpg.Connection, rows: Sequence[tuple[str, str, datetime, str]]) -> None:
    """(seller, violation id, when, appeal id): the earliest accepted appeal resolves it."""
    if not rows:
        return
    await conn.execute(
        "INSERT INTO violations (seller_id, violation_id, resolved_at, resolved_by)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[])"
        " ON CONFLICT (seller_id, violation_id) DO UPDATE SET"
        " resolved_by = CASE WHEN violations.resolved_at IS NULL OR EXCLUDED.resolved_at < violations.resolved_at"
        " THEN EXCLUDED.resolved_by ELSE violations.resolved_by END,"
        " resolved_at = LEAST(violations.resolved_at, EXCLUDED.resolved_at)",
        [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows],
    )


async def violations(db: Db, sellers: Sequence[str], since: datetime
                     ) -> tuple[dict[str, list[Violation]], dict[str, dict[str, datetime]]]:
    """Per seller: policy violations detected since `since`, and every resolution (violation id -> when)."""
    found: dict[str, list[Violation]] = {s: [] for s in sellers}
    resolved: dict[str, dict[str, datetime]] = {s: {} for s in sellers}
    if not sellers:
        return found, resolved
    records = await db.fetch(
        "SELECT seller_id, violation_id, category, severity, rules, detected_at, description, resolved_at,"
        " resolved_by FROM violations WHERE seller_id = ANY($1::text[])"
        " AND (resolved_at IS NOT NULL OR detected_at >= $2)",
        list(sellers), since,
    )
    for r in records:
        if r["resolved_at"] is not None:
            resolved[r["seller_id"]][r["violation_id"]] = r["resolved_at"]
        if r["category"] is not None and r["detected_at"] >= since:
            found[r["seller_id"]].append(Violation(
                r["violation_id"], r["category"], Severity(r["severity"]), r["detected_at"], r["description"] or "",
                tuple(r["rules"] or ()), r["resolved_at"], r["resolved_by"]))
    return found, resolved


# --- seller standing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    seller_id: str
    standing: SellerStanding
    digest: str | None
    breaches: tuple[str, ...] = ()


def _standing(r: asyncpg.Record) -> Standing:
    return Standing(r["seller_id"], SellerStanding(HealthBand(r["band"]), r["rating"], Level(r["level"]),
                                                   r["decided_at"], r["appeal_accepted_at"],
                                                   HealthBand(r["judged_band"])),
                    r["scorecard_digest"], tuple(r["breaches"]))


async def lock_standings(conn: asyncpg.Connection, sellers: Sequence[str]) -> dict[str, Standing]:
    """Each seller's standing (a default one for a seller never seen), locked for this batch."""
    ordered = sorted(set(sellers))
    await conn.execute("INSERT INTO sellers (seller_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING", ordered)
    records = await conn.fetch("SELECT * FROM sellers WHERE seller_id = ANY($1::text[]) ORDER BY seller_id FOR UPDATE",
                               ordered)
    return {r["seller_id"]: _standing(r) for r in records}


async def standing(db: Db, seller_id: str) -> Standing | None:
    record = await db.fetchrow("SELECT * FROM sellers WHERE seller_id = $1", seller_id)
    return None if record is None else _standing(record)


async def save_standings(conn: asyncpg.Connection, rows: Sequence[tuple[Standing, datetime]]) -> None:
    if not rows:
        return
    await conn.execute(
        "UPDATE sellers s SET rating = x.rating, band = x.band, level = x.level, decided_at = x.decided_at,"
        " scorecard_digest = x.digest, computed_at = x.computed_at, breaches = string_to_array(x.breaches, ','),"
        " judged_band = x.judged_band"
        " FROM unnest($1::text[], $2::int[], $3::text[], $4::smallint[], $5::timestamptz[], $6::text[],"
        " $7::timestamptz[], $8::text[], $9::text[]) AS x(seller_id, rating, band, level, decided_at, digest,"
        " computed_at, breaches, judged_band) WHERE s.seller_id = x.seller_id",
        [r[0].seller_id for r in rows], [r[0].standing.rating for r in rows],
        [r[0].standing.band.value for r in rows], [int(r[0].standing.level) for r in rows],
        [r[0].standing.decided_at for r in rows], [r[0].digest for r in rows], [r[1] for r in rows],
        [",".join(r[0].breaches) for r in rows], [r[0].standing.judged_band.value for r in rows],
    )


async def record_appeals(conn: asyncpg.Connection, rows: Sequence[tuple[str, datetime]]) -> None:
    if not rows:
        return
    await conn.execute(
        "INSERT INTO sellers (seller_id, appeal_accepted_at) SELECT * FROM unnest($1::text[], $2::timestamptz[])"
        " ON CONFLICT (seller_id) DO UPDATE"
        " SET appeal_accepted_at = GREATEST(sellers.appeal_accepted_at, EXCLUDED.appeal_accepted_at)",
        [r[0] for r in rows], [r[1] for r in rows],
    )


async def record_statuses(conn: asyncpg.Connection, rows: Sequence[tuple[str, str, int | None]]) -> None:
    """(seller, account status, level an operator set or None): the listing service's account status."""
    for seller_id, status, level in rows:  # few: account status changes are rare
        await conn.execute(
            "INSERT INTO sellers (seller_id, account_status, level) VALUES ($1, $2, coalesce($3, 0))"
            " ON CONFLICT (seller_id) DO UPDATE SET account_status = EXCLUDED.account_status,"
            " level = coalesce($3, sellers.level)",
            seller_id, status, level,
        )


async def at_risk(db: Db, limit: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await db.fetch(
        "SELECT seller_id, rating, band, breaches, level, account_status, computed_at FROM sellers"
        " WHERE band <> 'healthy' ORDER BY rating, seller_id LIMIT $1", limit)
    return rows


async def seller_ids(db: Db, limit: int) -> list[str]:
    """Sellers this service knows, lowest rating first: whose claims the operator's console asks for."""
    rows = await db.fetch("SELECT seller_id FROM sellers ORDER BY rating NULLS LAST, seller_id LIMIT $1", limit)
    return [r["seller_id"] for r in rows]


# --- drill-down --------------------------------------------------------------------------------------


async def items_from(db: Db, seller_id: str, kind: str, first: date) -> list[tuple[str, dict[str, Any]]]:
    records = await db.fetch(
        "SELECT item_id, facts FROM items WHERE seller_id = $1 AND kind = $2 AND anchor_day >= $3 ORDER BY item_id",
        seller_id, kind, first)
    return [(r["item_id"], r["facts"]) for r in records]

