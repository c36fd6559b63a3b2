"""Metrics service benchmark: how fast it applies events, and how fast a scorecard reads with 100,000 sellers.

    .venv/bin/python bench/metrics_bench.py                  # embedded broker and database
    KAFKA_BOOTSTRAP_SERVERS=... DATABASE_URL=... .venv/bin/python bench/metrics_bench.py

1. apply, end to end: the events of every producing service (orders with their whole life: confirmed,
   shipped, scanned, tracked, delivered, feedback, claims, returns; buyer messages and replies; daily
   ticks) are published on their topics first; then the metrics service starts and the clock runs from
   its partition assignment until its inbox holds every event: events/s through broker, fold, buckets,
   scorecards and outbox.
2. apply, fold only: the same events, pre-parsed, through `apply_batch` in transactions of 500 (no broker).
3. read: 100,000 sellers' daily buckets seeded directly (99% small sellers active on 8 of the last 90
   days, 1% large sellers active every day for 180 days), then random scorecard reads through the query
   behind GET /v1/sellers/{id}/scorecard, and through HTTP (FastAPI, in process). The same reads with
   only the first 1,000 sellers seeded give the ratio that shows a read does not grow with the table.

Each figure is the median of `--runs` runs. Not a test: it prints a table for bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from services.metrics import queries, service
from services.metrics.app import SPEC
from shared import business_clock, db
from shared.auth import operator_token
from shared.embedded import Infrastructure, embedded_infrastructure
from shared.events import Event, Payload, new_event, topics
from shared.events.aftersales import MessageReceived, MessageReplied, ReturnAuthorized, ReturnRequested
from shared.events.clock import ClockTicked
from shared.events.disputes import ClaimDecided, FeedbackReceived
from shared.events.fulfillment import (
    ShipmentConfirmed,
    ShipmentDelivered,
    ShipmentTrackingUpdated,
    ShipmentTrackingValidated,
)
from shared.events.order import OrderConfirmed, OrderPlaced
from shared.messaging.consumer import Incoming, Record
from shared.runtime import ServiceRuntime, create_http_app
from shared.settings import Settings

END = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)
H, DAY = timedelta(hours=1), timedelta(days=1)


# --- a history of every producing service's events ------------------------------------------------------


def history(sellers: int, orders_per_seller: int, seed: int) -> list[tuple[str, Event[Any]]]:
    rng = random.Random(seed)
    out: list[tuple[str, Event[Any]]] = []

    def add(topic: str, data: Payload, at: datetime, seller: str, subject: str) -> None:
        if at <= END:
            out.append((topic, new_event(data, seller_id=seller, subject=subject, time=at, source="/bench")))

    for s in range(sellers):
        seller = f"B{seed}-{s:05d}"
        for i in range(orders_per_seller):
            oid = f"{seller}-{i}"
            bought = END - timedelta(minutes=rng.randrange(0, 30 * 1440))
            base = {"order_id": oid, "purchased_at": bought, "fulfillment_channel": "merchant"}
            line = {"listing_id": "L-1", "sku": "SKU-1", "quantity": 1,
                    "unit_price": {"amount": Decimal("19.90"), "currency": "USD"}}
            money = {"amount": Decimal("19.90"), "currency": "USD"}
            ship_by, deliver_by = bought + 2 * DAY, bought + 7 * DAY
            add(topics.ORDER_EVENTS, OrderPlaced.model_validate({
                **base, "buyer_id": "B", "lines": [line], "currency": "USD", "total": money,
                "shipping_speed": "standard", "ship_to_country": "US"}), bought, seller, oid)
            add(topics.ORDER_EVENTS, OrderConfirmed.model_validate({
                **base, "shipping_speed": "standard", "lines": [line], "currency": "USD", "total": money,
                "ship_by": ship_by, "deliver_by": deliver_by}), bought + 0.1 * H, seller, oid)
            shipped = bought + rng.randrange(3, 60) * H
            ship = {**base, "shipment_id": f"{oid}-S", "shipped_at": shipped, "ship_by": ship_by,
                    "deliver_by": deliver_by}
            add(topics.FULFILLMENT_EVENTS, ShipmentConfirmed.model_validate({
                **ship, "carrier": "ups", "tracking_number": "1Z999AA10123456784", "tracking_format_valid": True,
                "lines": [{"listing_id": "L-1", "sku": "SKU-1", "quantity": 1}]}), shipped, seller, oid)
            scan = shipped + 5 * H
            add(topics.FULFILLMENT_EVENTS, ShipmentTrackingUpdated.model_validate({
                **ship, "carrier": "ups", "tracking_number": "1Z999AA10123456784", "status": "in_transit",
                "scanned_at": scan}), scan, seller, oid)
            add(topics.FULFILLMENT_EVENTS, ShipmentTrackingValidated.model_validate({
                **ship, "valid": True, "reason": "first_scan", "first_scan_at": scan}), scan, seller, oid)
            delivered = deliver_by + rng.choice([-2 * DAY, -H, 3 * H])
            add(topics.FULFILLMENT_EVENTS, ShipmentDelivered.model_validate({**ship, "delivered_at": delivered}),
                delivered, seller, oid)
            if rng.random() < 0.3:
                left = delivered + DAY
                add(topics.AFTERSALES_EVENTS, FeedbackReceived.model_validate({
                    **base, "feedback_id": f"{oid}-F", "stars": rng.randint(1, 5), "left_at": left}), left, seller, oid)
            if rng.random() < 0.03:
                add(topics.AFTERSALES_EVENTS, ClaimDecided.model_validate({
                    **base, "claim_id": f"{oid}-C", "outcome": "granted_seller_funded", "counts_against_seller": True,
                    "decided_at": delivered + 3 * DAY}), delivered + 3 * DAY, seller, oid)
            if rng.random() < 0.08:
                asked = delivered + 2 * DAY
                ret = {**base, "return_id": f"{oid}-R", "requested_at": asked, "answer_by": asked + 48 * H}
                add(topics.AFTERSALES_EVENTS, ReturnRequested.model_validate({**ret, "reason": "defective"}), asked,
                    seller, oid)
                add(topics.AFTERSALES_EVENTS, ReturnAuthorized.model_validate({**ret, "answered_at": asked + 20 * H}),
                    asked + 20 * H, seller, oid)
            if rng.random() < 0.4:
                mid = f"{oid}-M"
                received = bought + DAY
                add(topics.AFTERSALES_EVENTS, MessageReceived(message_id=mid, order_id=oid, received_at=received,
                                                              needs_reply=True, due_by=received + 24 * H),
                    received, seller, mid)
                replied = received + rng.randrange(1, 30) * H
                add(topics.AFTERSALES_EVENTS, MessageReplied(
                    message_id=mid, reply_id=f"{mid}-r", order_id=oid, received_at=received, replied_at=replied,
                    due_by=received + 24 * H, minutes_to_reply=int((replied - received).total_seconds() // 60)),
                    replied, seller, mid)
    tick = END - 31 * DAY
    while tick <= END:
        add(topics.CLOCK_EVENTS, ClockTicked(now=tick), tick, "clock", "clock")
        tick += 6 * H
    return out


# --- 1. apply, end to end ------------------------------------------------------------------------------------


def settings_for(infra: Infrastructure) -> Settings:
    run = uuid.uuid4().hex[:8]
    return Settings(kafka_bootstrap_servers=infra.bootstrap_servers, database_url=infra.database_url,
                    topic_prefix=f"b{run}.", db_schema_prefix=f"b{run}_", topic_partitions=12,
                    otel_trace_sample_ratio=0.0, log_level="WARNING")


async def publish(settings: Settings, events: list[tuple[str, Event[Any]]]) -> None:
    from aiokafka import AIOKafkaProducer

    from shared.messaging.broker import create_topics

    await create_topics(settings, settings.kafka_bootstrap_servers or "", topics.ALL_TOPICS)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", linger_ms=20,
                                max_batch_size=512 * 1024)
    await producer.start()
    try:
        acks = [await producer.send(settings.topic(topic), e.to_bytes(), key=e.key) for topic, e in events]
        await asyncio.gather(*acks)
    finally:
        await producer.stop()


async def apply_end_to_end(infra: Infrastructure, events: list[tuple[str, Event[Any]]]) -> float:
    settings = settings_for(infra)
    await publish(settings, events)
    runtime = ServiceRuntime(SPEC, settings, bootstrap_servers=infra.bootstrap_servers, dsn=infra.database_url)
    await runtime.start()  # returns once the consumer group assigned its partitions
    started = time.perf_counter()
    try:
        while True:
            if await runtime.context.pool.fetchval("SELECT count(*) FROM inbox") >= len(events):
                return len(events) / (time.perf_counter() - started)
            await asyncio.sleep(0.05)
    finally:
        await runtime.stop()
        await db.drop_schema(infra.database_url, runtime.schema)


# --- 2. apply, fold only -------------------------------------------------------------------------------------


async def apply_fold_only(infra: Infrastructure, events: list[tuple[str, Event[Any]]]) -> float:
    schema = f"b{uuid.uuid4().hex[:8]}_metrics"
    await db.migrate(infra.database_url, schema, [db.MESSAGING_MIGRATIONS, SPEC.migrations])
    pool = await db.create_pool(infra.database_url, schema, size=2)
    items = [Incoming(e, Record(topic, 0, i, e.key, b""), topic) for i, (topic, e) in enumerate(events)]
    try:
        started = time.perf_counter()
        for start in range(0, len(items), 500):
            async with pool.acquire() as conn, conn.transaction():
                await service.apply_batch(conn, items[start:start + 500])
        return len(items) / (time.perf_counter() - started)
    finally:
        await pool.close()
        await db.drop_schema(infra.database_url, schema)


# --- 3. read -------------------------------------------------------------------------------------------------

SMALL_KEYS = ["odr.merchant", "cancel", "late_shipment", "valid_tracking", "on_time_delivery", "fulfilled", "units",
              "sales:USD"]
#: Keys whose numerator counts the good items (or sums): seeded full; the others (defects) rarely.
GOOD_KEYS = ["valid_tracking", "on_time_delivery", "response", "fulfilled", "units", "sales:USD", "feedback"]
LARGE_KEYS = [*SMALL_KEYS, "response", "reply_minutes", "feedback", "return_dissatisfaction"]


async def seed(conn: asyncpg.Connection, first: int, last: int, today: datetime) -> None:
    """Sellers first..last-1: every 100th a large seller (180 days, 12 keys), the others 8 days of 90, 8 keys."""
    day = today.date()
    await conn.execute(
        "INSERT INTO buckets (seller_id, metric, attr_day, eff_day, num, den)"
        " SELECT 'R' || lpad(s::text, 6, '0'), k, $1::date - d, $1::date - d + (d % 3),"
        "  CASE WHEN k = ANY($5::text[]) THEN 1 + (hashtext(k || d::text || s::text) & 3)"
        "       ELSE (abs(hashtext(s::text || k || d::text)) % 40 = 0)::int END,"
        "  1 + (hashtext(k || d::text || s::text) & 3)"
        " FROM generate_series($2::int, $3::int - 1) s CROSS JOIN unnest($4::text[]) k"
        " CROSS JOIN LATERAL (SELECT (s * 7 + j * 11) % 90 AS d FROM generate_series(1, 8) j) small"
        " WHERE s % 100 <> 0 ON CONFLICT DO NOTHING",
        day, first, last, SMALL_KEYS, GOOD_KEYS)
    await conn.execute(
        "INSERT INTO buckets (seller_id, metric, attr_day, eff_day, num, den)"
        " SELECT 'R' || lpad(s::text, 6, '0'), k, $1::date - d, $1::date - d,"
        "  CASE WHEN k = ANY($5::text[]) THEN 3 + (hashtext(k || d::text || s::text) & 7)"
        "       ELSE (abs(hashtext(s::text || k || d::text)) % 40 = 0)::int END,"
        "  3 + (hashtext(k || d::text || s::text) & 7)"
        " FROM generate_series($2::int, $3::int - 1) s CROSS JOIN unnest($4::text[]) k"
        " CROSS JOIN generate_series(0, 179) d WHERE s % 100 = 0 ON CONFLICT DO NOTHING",
        day, first, last, LARGE_KEYS, GOOD_KEYS)
    await conn.execute(
        "INSERT INTO sellers (seller_id) SELECT 'R' || lpad(s::text, 6, '0')"
        " FROM generate_series($1::int, $2::int - 1) s ON CONFLICT DO NOTHING", first, last)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def read_latencies(pool: asyncpg.Pool, sellers: list[str], now: datetime) -> list[float]:
    out = []
    for seller in sellers:
        started = time.perf_counter()
        await queries.view(pool, seller, now)
        out.append((time.perf_counter() - started) * 1000)
    return out


async def http_latencies(runtime: ServiceRuntime, sellers: list[str]) -> list[float]:
    app = create_http_app(runtime, manage_lifecycle=False)
    token = operator_token(runtime.settings.auth_secret.get_secret_value())
    out = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://metrics",
                                 headers={"Authorization": f"Bearer {token}"}) as http:
        for seller in sellers:
            started = time.perf_counter()
            response = await http.get(f"/v1/sellers/{seller}/scorecard")
            out.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    return out


class _Ctx:
    """Just enough of a ServiceRuntime for the HTTP app: a context with the pool."""

    def __init__(self, settings: Settings, pool: asyncpg.Pool, schema: str) -> None:
        from shared.runtime import ServiceContext

        self.spec = SPEC
        self.settings = settings
        self.context = ServiceContext("metrics", settings, pool, schema, None)  # type: ignore[arg-type]


async def read_benchmark(infra: Infrastructure, sellers: int, reads: int, rng: random.Random) -> dict[str, Any]:
    settings = settings_for(infra)
    schema = settings.schema_for("metrics")
    await db.migrate(infra.database_url, schema, [db.MESSAGING_MIGRATIONS, SPEC.migrations])
    pool = await db.create_pool(infra.database_url, schema, size=4)
    results: dict[str, Any] = {}
    try:
        async with pool.acquire() as conn:
            await business_clock.advance(conn, END)
            started = time.perf_counter()
            await seed(conn, 0, min(1000, sellers), END)
            small = [f"R{s:06d}" for s in range(0, min(1000, sellers)) if s % 100]
            await conn.execute("ANALYZE buckets")
            await read_latencies(pool, rng.choices(small, k=200), END)  # warm up
            results["1k small"] = await read_latencies(pool, rng.choices(small, k=reads), END)
            for chunk in range(1000, sellers, 5000):  # statements under the pool's command timeout
                await seed(conn, chunk, min(chunk + 5000, sellers), END)
            await conn.execute("ANALYZE buckets")
            results["seed_seconds"] = time.perf_counter() - started
            results["rows"] = await conn.fetchval("SELECT count(*) FROM buckets")
        everyone = [f"R{s:06d}" for s in range(sellers)]
        small_all = [s for s in everyone if int(s[1:]) % 100]
        large_all = [s for s in everyone if int(s[1:]) % 100 == 0]
        await read_latencies(pool, rng.choices(small_all, k=200), END)  # warm the cache a little
        results["100k small"] = await read_latencies(pool, rng.choices(small_all, k=reads), END)
        results["100k large"] = await read_latencies(pool, rng.choices(large_all, k=reads // 4), END)
        runtime = _Ctx(settings, pool, schema)
        results["100k http"] = await http_latencies(runtime, rng.choices(small_all, k=reads // 2))  # type: ignore[arg-type]
    finally:
        await pool.close()
        await db.drop_schema(infra.database_url, schema)
    return results


# --- main ---------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def infrastructure() -> Iterator[Infrastructure]:
    bootstrap, dsn = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("DATABASE_URL")
    if bootstrap and dsn:
        yield Infrastructure(bootstrap, dsn, Path(tempfile.gettempdir()))
        return
    with tempfile.TemporaryDirectory(prefix="sellerflow-bench-") as folder, \
            embedded_infrastructure(Path(folder)) as embedded:
        yield embedded


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} ms, p95 {percentile(values, 0.95):.2f}, " \
           f"p99 {percentile(values, 0.99):.2f}"


async def main(args: argparse.Namespace) -> None:
    events = history(args.sellers, args.orders, seed=1)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"history: {len(events)} events, {args.sellers} sellers x {args.orders} orders, 30 days")
    with infrastructure() as infra:
        fold, e2e = [], []
        for run in range(args.runs):
            fold.append(await apply_fold_only(infra, events))
            e2e.append(await apply_end_to_end(infra, events))
            print(f"  run {run + 1}: fold only {fold[-1]:,.0f} events/s, end to end {e2e[-1]:,.0f} events/s",
                  flush=True)
        print(f"apply, end to end (broker + fold + outbox): median {statistics.median(e2e):,.0f} events/s")
        print(f"apply, fold only (apply_batch, 500 a batch): median {statistics.median(fold):,.0f} events/s")
        print(f"ratio end to end / fold only: {statistics.median(e2e) / statistics.median(fold):.2f}")
        rng = random.Random(7)
        reads = await read_benchmark(infra, args.read_sellers, args.reads, rng)
        print(f"read: {args.read_sellers:,} sellers, {reads['rows']:,} bucket rows seeded in "
              f"{reads['seed_seconds']:.0f} s")
        print(f"  scorecard query, 1,000 sellers seeded, small seller:   {ms(reads['1k small'])}")
        print(f"  scorecard query, {args.read_sellers:,} sellers seeded, small seller: {ms(reads['100k small'])}")
        print(f"  scorecard query, {args.read_sellers:,} sellers seeded, large seller: {ms(reads['100k large'])}")
        print(f"  GET /v1/sellers/{{id}}/scorecard over HTTP (in process):       {ms(reads['100k http'])}")
        ratio = statistics.median(reads["100k small"]) / statistics.median(reads["1k small"])
        print(f"  ratio 100k / 1k sellers (small seller median): {ratio:.2f}")
        ratio = statistics.median(reads["100k large"]) / statistics.median(reads["100k small"])
        print(f"  ratio large / small seller (median): {ratio:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sellers", type=int, default=200, help="sellers in the apply history")
    parser.add_argument("--orders", type=int, default=15, help="orders per seller in the apply history")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--read-sellers", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=2000)
    asyncio.run(main(parser.parse_args()))
