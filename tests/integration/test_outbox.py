"""The outbox relay: every row exactly once, in order per seller, with two relays racing."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict

import asyncpg
import pytest

from shared import db
from shared.messaging.broker import create_topics, make_broker, relay_publisher
from shared.messaging.outbox import OutboxRelay, OutboxRow, stage_rows
from shared.settings import Settings
from tests.support.kafka import read_topic

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
    assert settings.kafka_bootstrap_servers and settings.database_url
    dsn = settings.database_url.get_secret_value()
    schema = settings.schema_for("purgetest")
    await db.migrate(dsn, schema, [db.MESSAGING_MIGRATIONS])
    await create_topics(settings, settings.kafka_bootstrap_servers, [TOPIC])
    pool = await db.create_pool(dsn, schema, size=2)
    broker = make_broker(settings, settings.kafka_bootstrap_servers, client_id="purge")
    await broker.connect()
    relay = OutboxRelay(pool, relay_publisher(broker), dsn=dsn, schema=schema, service="purgetest",
                        physical_topic=settings.topic, poll_interval=0.05, retention_seconds=0.2)
    try:
        async with pool.acquire() as conn, conn.transaction():
            await stage_rows(conn, [OutboxRow(TOPIC, "S-1", b"{}")])
        task = asyncio.create_task(relay.run())
        await asyncio.sleep(0.1)
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL") == 1  # sent, kept
        await asyncio.sleep(0.5)
        async with pool.acquire() as conn, conn.transaction():  # new work wakes the relay; purging is due
            await stage_rows(conn, [OutboxRow(TOPIC, "S-1", b"{}")])
        await asyncio.sleep(0.3)
        first_gone = await pool.fetchval("SELECT count(*) FROM outbox")
        relay.stop()
        await task
        assert first_gone <= 1, "the row sent long ago was deleted"
    finally:
        await broker.stop()
        await pool.close()
        await db.drop_schema(dsn, schema)
