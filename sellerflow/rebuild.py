"""`sellerflow metrics rebuild`: drop the metrics state and rebuild it from every topic, from the beginning.

Stop the metrics service first. The rebuild drops the metrics schema (its dead-letter ledger is kept:
what an operator replayed or resolved stays so), applies its migrations again,
then reads every input topic with an explicit assignment of all partitions (no consumer group, so
the service's committed offsets stay where they are) from the earliest offset, applying batches with
the same fold the service runs, without publishing anything. Tansu's end offsets are unreliable after
batched produce, so "the end" is each partition's position reaching the highwater of its latest fetch,
with nothing fetched for `idle_seconds`. Finally every deadline up to the business clock is evaluated
and every seller's standing recomputed, again without publishing: the scorecards equal the live ones.

When the service starts again its consumer group resumes at its committed offsets; the inbox, rebuilt
with every event id applied, makes the redelivered events no-ops.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from services.metrics import service
from services.metrics.app import SPEC
from services.metrics.policy import DEFAULT_POLICY, Policy
from shared import db
from shared.events import InvalidEvent, parse_event
from shared.messaging import inbox, ledger
from shared.messaging.broker import _admin_security_kwargs
from shared.messaging.consumer import Incoming, Record
from shared.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class RebuildReport:
    schema: str
    records: int = 0
    applied: int = 0
    duplicates: int = 0
    invalid: int = 0
    sellers: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"rebuilt {self.schema}: {self.records} records read, {self.applied} events applied, "
                f"{self.duplicates} duplicates and {self.invalid} invalid skipped, {self.sellers} sellers, "
                f"{self.seconds:.1f} s")


async def rebuild(settings: Settings, *, bootstrap_servers: str, dsn: str, idle_seconds: float = 2.0,
                  batch_size: int = 2000, policy: Policy = DEFAULT_POLICY,
                  progress: Callable[[RebuildReport], None] | None = None) -> RebuildReport:
    started = time.monotonic()
    schema = settings.schema_for(SPEC.name)
    report = RebuildReport(schema)
    async with ledger.kept_through(dsn, schema):  # the dead-letter ledger is not rebuilt from the topics
        await db.drop_schema(dsn, schema)
        await db.migrate(dsn, schema, [db.MESSAGING_MIGRATIONS, SPEC.migrations])
    pool = await db.create_pool(dsn, schema, size=2)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False, group_id=None,
                                fetch_max_wait_ms=50, max_partition_fetch_bytes=4 * 1024 * 1024,
                                **_admin_security_kwargs(settings))
    await consumer.start()
    try:
        partitions = await _partitions(consumer, [settings.topic(t) for t in SPEC.inputs])
        if partitions:  # no topic yet: nothing to replay
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
        idle_since = time.monotonic()
        while partitions:
            fetched = await consumer.getmany(timeout_ms=200, max_records=batch_size)
            records = [r for part in fetched.values() for r in part]
            if records:
                idle_since = time.monotonic()
                await _apply(pool, settings, records, report, policy)
                if progress is not None:
                    progress(report)
                continue
            if time.monotonic() - idle_since >= idle_seconds and await _caught_up(consumer, partitions):
                break
        async with pool.acquire() as conn, conn.transaction():
            report.sellers = await service.settle(conn, policy)
    finally:
        await consumer.stop()
        await pool.close()
    report.seconds = time.monotonic() - started
    log.info("metrics rebuilt", extra={"report": report.summary()})
    return report


async def _partitions(consumer: AIOKafkaConsumer, names: Sequence[str]) -> list[TopicPartition]:
    found: list[TopicPartition] = []
    for name in names:
        ids = consumer.partitions_for_topic(name)
        for _ in range(10):
            if ids:
                break
            await consumer._client.force_metadata_update()  # a topic is known only after a metadata refresh
            ids = consumer.partitions_for_topic(name)
            await asyncio.sleep(0.1)
        found += [TopicPartition(name, p) for p in sorted(ids or ())]
    return found


async def _caught_up(consumer: AIOKafkaConsumer, partitions: Sequence[TopicPartition]) -> bool:
    """Every partition's position at the highwater its latest fetch reported (never `end_offsets`)."""
    for tp in partitions:
        highwater = consumer.highwater(tp)
        if highwater is not None and await consumer.position(tp) < highwater:
            return False
    return True


async def _apply(pool: asyncpg.Pool, settings: Settings, records: Sequence[ConsumerRecord[bytes, bytes]],
                 report: RebuildReport,
                 policy: Policy) -> None:
    items: list[Incoming] = []
    for raw in records:
        record = Record(raw.topic, raw.partition, raw.offset, raw.key, raw.value or b"", tuple(raw.headers or ()))
        topic = settings.logical_topic(record.topic)
        report.records += 1
        try:
            items.append(Incoming(parse_event(record.value, topic=topic), record, topic))
        except InvalidEvent:
            report.invalid += 1  # the live consumer dead-lettered it too
    async with pool.acquire() as conn, conn.transaction():
        unique = list({item.event.id: item for item in items}.values())
        fresh_ids = await inbox.claim(conn, [i.event.id for i in unique], [i.topic for i in unique])
        fresh = [item for item in unique if item.event.id in fresh_ids]
        report.duplicates += len(items) - len(fresh)
        if fresh:
            await service.apply_batch(conn, fresh, policy=policy, publish=False,
                                      max_clock_skew=settings.max_clock_skew)
            report.applied += len(fresh)


def run(settings: Settings, *, bootstrap_servers: str, dsn: str, idle_seconds: float = 2.0) -> RebuildReport:
    """The CLI's entry point: rebuild, printing progress every 50,000 records."""
    shown = [0]

    def progress(report: RebuildReport) -> None:
        if report.records - shown[0] >= 50_000:
            shown[0] = report.records
            print(f"  {report.records} records read, {report.applied} applied", flush=True)

    return asyncio.run(rebuild(settings, bootstrap_servers=bootstrap_servers, dsn=dsn, idle_seconds=idle_seconds,
                               progress=progress))
