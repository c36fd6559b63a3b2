"""The outbox relay: every row exactly once, in order per seller, with two relays racing."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict

import asyncpg
import pytest
from faststream.kafka import KafkaBroker
from prometheus_client import REGISTRY

from shared import db
from shared.messaging.broker import create_topics, make_broker, relay_publisher
from shared.messaging.outbox import OutboxRelay, OutboxRow, set_aside_rows, stage_rows
from shared.settings import Settings
from tests.support.kafka import eventually, read_topic

pytestmark = pytest.mark.integration

TOPIC = "order.events"
SELLERS = [f"S-{i:02d}" for i in range(20)]


async def test_two_relays_racing_publish_every_row_exactly_once_in_order_per_seller(settings: Settings) -> None:
    assert settings.kafka_bootstrap_servers and settings.database_url
    dsn = settings.database_url.get_secret_value()
    schema = settings.schema_for("relaytest")
    await db.migrate(dsn, schema, [db.MESSAGING_MIGRATIONS])
    await create_topics(settings, settings.kafka_bootstrap_servers, [TOPIC])
    pools = [await db.create_pool(dsn, schema, size=4) for _ in range(2)]
    brokers = [make_broker(settings, settings.kafka_bootstrap_servers, client_id=f"relay-{i}") for i in range(2)]
    for broker in brokers:
        await broker.connect()
    relays = [
        OutboxRelay(pool, relay_publisher(broker), dsn=dsn, schema=schema, service="relaytest",
                    physical_topic=settings.topic, batch_size=50, poll_interval=0.05)
        for pool, broker in zip(pools, brokers, strict=True)
    ]
    tasks = [asyncio.create_task(relay.run()) for relay in relays]
    try:
        # 2,000 rows in 200 transactions, staged while both relays run.
        sequence: dict[str, int] = defaultdict(int)
        for batch in range(200):
            rows = []
            for i in range(10):
                seller = SELLERS[(batch * 10 + i) % len(SELLERS)]
                sequence[seller] += 1
                value = json.dumps({"seller": seller, "n": sequence[seller]}).encode()
                rows.append(OutboxRow(TOPIC, seller, value))
            async with pools[batch % 2].acquire() as conn, conn.transaction():
                await stage_rows(conn, rows)
        records = await read_topic(settings, TOPIC, expect=2000, timeout=60)
    finally:
        for relay in relays:
            relay.stop()
        await asyncio.gather(*tasks)
        for broker in brokers:
            await broker.stop()
    received: dict[str, list[int]] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        body = json.loads(record.value)
        assert record.key == body["seller"].encode()
        received[body["seller"]].append(body["n"])
    assert len(records) == 2000, "every row exactly once"
    for seller in SELLERS:
        assert received[seller] == list(range(1, sequence[seller] + 1)), f"{seller} out of order or duplicated"
    unsent = await pools[0].fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
    assert unsent == 0
    for pool in pools:
        await pool.close()
    await db.drop_schema(dsn, schema)


async def test_migrations_applied_by_replicas_starting_together_apply_once(settings: Settings) -> None:
    assert settings.database_url
    dsn = settings.database_url.get_secret_value()
    schema = settings.schema_for("migratetest")
    results = await asyncio.gather(*(db.migrate(dsn, schema, [db.MESSAGING_MIGRATIONS]) for _ in range(4)))
    expected = [name for name, _ in db.migration_files([db.MESSAGING_MIGRATIONS])]
    assert len(expected) >= 2
    assert sorted(len(r) for r in results) == [0, 0, 0, len(expected)], "one replica applies all, the rest none"
    conn = await asyncpg.connect(dsn)
    try:
        names = await conn.fetch(f'SELECT name FROM "{schema}".schema_migrations')
        assert sorted(r["name"] for r in names) == expected
    finally:
        await conn.close()
    await db.drop_schema(dsn, schema)


async def test_the_relay_deletes_rows_once_they_are_older_than_the_retention(settings: Settings) -> None:
    dsn, schema, pool, broker = await relay_parts(settings, "purgetest")
    relay = OutboxRelay(pool, relay_publisher(broker), dsn=dsn, schema=schema, service="purgetest",
                        physical_topic=settings.topic, poll_interval=0.05, retention_seconds=0.2)
    try:
        async with pool.acquire() as conn, conn.transaction():
            await stage_rows(conn, [OutboxRow(TOPIC, "S-1", b"{}")])
        task = asyncio.create_task(relay.run())
        await eventually(lambda: _count(pool, "sent_at IS NOT NULL", 1), what="the first row sent")
        await asyncio.sleep(0.3)  # older than the retention now
        async with pool.acquire() as conn, conn.transaction():  # new work wakes the relay; purging is due
            await stage_rows(conn, [OutboxRow(TOPIC, "S-1", b"{}")])
        await eventually(lambda: _count(pool, "true", 1), what="the row sent long ago deleted, the new one kept")
        relay.stop()
        await task
    finally:
        await broker.stop()
        await pool.close()
        await db.drop_schema(dsn, schema)


async def relay_parts(settings: Settings, name: str) -> tuple[str, str, asyncpg.Pool, KafkaBroker]:
    """A migrated schema of its own, the topic, a pool on the schema and a connected broker."""
    assert settings.kafka_bootstrap_servers and settings.database_url
    dsn = settings.database_url.get_secret_value()
    schema = settings.schema_for(name)
    await db.migrate(dsn, schema, [db.MESSAGING_MIGRATIONS])
    await create_topics(settings, settings.kafka_bootstrap_servers, [TOPIC])
    pool = await db.create_pool(dsn, schema, size=2)
    broker = make_broker(settings, settings.kafka_bootstrap_servers, client_id=name)
    await broker.connect()
    return dsn, schema, pool, broker


async def _count(pool: asyncpg.Pool, where: str, expected: int) -> bool:
    count: int = await pool.fetchval(f"SELECT count(*) FROM outbox WHERE {where}")
    return count == expected


async def test_rows_the_broker_refuses_for_good_are_set_aside_and_every_other_row_is_published_once(
    settings: Settings,
) -> None:
    dsn, schema, pool, broker = await relay_parts(settings, "asidetest")  # producer limit: 1 MiB
    # The relay's own check lets 4 MiB through: the 2 MiB row reaches the producer, which refuses it.
    relay = OutboxRelay(pool, relay_publisher(broker), dsn=dsn, schema=schema, service="asidetest",
                        physical_topic=settings.topic, poll_interval=0.05, max_message_bytes=4 * 1_048_576)
    seller = "S-aside"
    rows = [OutboxRow(TOPIC, seller, b'{"n": 1}'),
            OutboxRow(TOPIC, seller, b"x" * (2 * 1_048_576)),  # too large for the producer
            OutboxRow(TOPIC, seller, b'{"n": 2}'),
            OutboxRow("no such topic!", seller, b'{"n": -1}'),  # a name the broker refuses
            OutboxRow(TOPIC, seller, b'{"n": 3}')]
    before = _set_aside_total("asidetest")
    task = asyncio.create_task(relay.run())
    try:
        async with pool.acquire() as conn, conn.transaction():
            await stage_rows(conn, rows)
        await eventually(lambda: _count(pool, "sent_at IS NULL AND set_aside_at IS NULL", 0), what="all settled")
        async with pool.acquire() as conn, conn.transaction():  # later work still flows
            await stage_rows(conn, [OutboxRow(TOPIC, seller, b'{"n": 4}')])
        records = await read_topic(settings, TOPIC, expect=4)
        await asyncio.sleep(1.0)  # several relay passes: nothing is sent again
        records = await read_topic(settings, TOPIC, expect=4)
    finally:
        relay.stop()
        await task
        await broker.stop()
    assert [json.loads(r.value or b"")["n"] for r in sorted(records, key=lambda r: r.offset)] == [1, 2, 3, 4]
    aside = {row.topic: row for row in await set_aside_rows(pool)}
    assert set(aside) == {TOPIC, "no such topic!"}
    assert aside[TOPIC].set_aside_reason.startswith("MessageSizeTooLargeError")
    assert aside[TOPIC].size_bytes == 2 * 1_048_576
    assert aside["no such topic!"].set_aside_reason.startswith("InvalidTopicError")
    assert _set_aside_total("asidetest") - before == 2
    await pool.close()
    await db.drop_schema(dsn, schema)


def _set_aside_total(service: str) -> float:
    total = 0.0
    for metric in REGISTRY.collect():
        for sample in metric.samples:
            if sample.name == "sellerflow_outbox_set_aside_rows_total" and sample.labels["service"] == service:
                total += sample.value
    return total
