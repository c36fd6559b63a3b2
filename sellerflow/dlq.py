"""`sellerflow dlq` and `sellerflow outbox`: every service's dead-letter ledger and set-aside outbox rows.

The ledger lives in each consuming service's schema (`dead_letters`); these commands reach it through
DATABASE_URL, so they work whether or not the services run (a replay waits in the service's outbox
until its relay sends it). A letter is named `<service>/<id>`, as `dlq list` prints it and as the
`dlq.ref` header of its `.dlq` record names it (the schema is the service name plus DB_SCHEMA_PREFIX).
`read_dead_letters` reads the `.dlq` topics themselves, for a look at what the broker holds.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared import db
from shared.events import topics
from shared.messaging import dead_letters as dl
from shared.messaging import ledger, outbox
from shared.settings import SERVICE_NAMES, Settings

_IDLE_SECONDS = 1.5  # no record for this long: the end of the topic (end_offsets are unreliable on Tansu)


class LedgerUnavailable(RuntimeError):
    pass


def parse_ref(text: str) -> tuple[str, int]:
    """`order/17` -> ("order", 17)."""
    service, _, number = text.partition("/")
    if not service or not number.isdigit():
        raise ValueError(f"name a letter as <service>/<id> (e.g. order/17), not {text!r}")
    return service, int(number)


@contextlib.asynccontextmanager
async def service_ledger(settings: Settings, service: str) -> AsyncIterator[asyncpg.Connection | None]:
    """A connection to one service's schema; None when that service has never run (no ledger yet)."""
    if settings.database_url is None:
        raise LedgerUnavailable("set DATABASE_URL (`sellerflow infra` prints it for the embedded one)")
    schema = settings.schema_for(service)
    pool = await db.create_pool(settings.database_url.get_secret_value(), schema, size=1)
    try:
        async with pool.acquire() as conn:
            exists = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f'"{schema}".dead_letters')
            yield conn if exists else None
    finally:
        await pool.close()


async def _ledgers(settings: Settings, services: Sequence[str]) -> AsyncIterator[tuple[str, asyncpg.Connection]]:
    """Each named service that keeps a ledger, with a connection to its schema."""
    for service in services:
        async with service_ledger(settings, service) as conn:
            if conn is not None:
                yield service, conn


@dataclass(frozen=True)
class Listed:
    service: str
    entry: ledger.LetterEntry

    def summary(self) -> str:
        e = self.entry
        where = f"{e.topic}[{e.kafka_partition}]@{e.kafka_offset}"
        handled = f"  {e.status} by {e.handled_by} at {e.handled_at:%Y-%m-%d %H:%M:%S}" if e.handled_at else ""
        note = f" ({e.note})" if e.note else ""
        size = f"  {e.size_bytes} B" + (" (truncated on .dlq)" if e.truncated else "")
        return (f"{self.service}/{e.id}  {e.status:<11} from {where}  group={e.group_id}{size}  "
                f"{e.error_type}: {e.reason}{handled}{note}")


async def list_letters(
    settings: Settings, services: Sequence[str] = SERVICE_NAMES, *, status: ledger.Status | None = "outstanding",
    topic: str | None = None,
) -> list[Listed]:
    listed: list[Listed] = []
    async for service, conn in _ledgers(settings, services):
        listed += [Listed(service, e) for e in await ledger.list_letters(conn, status=status, topic=topic)]
    return listed


async def replay_one(settings: Settings, ref: str, *, by: str, note: str | None = None,
                     body: bytes | None = None) -> Listed:
    service, letter_id = parse_ref(ref)
    async with service_ledger(settings, service) as conn:
        if conn is None:
            raise ledger.LetterNotFound(f"{service} keeps no dead-letter ledger yet")
        return Listed(service, await ledger.replay(conn, letter_id, by=by, note=note, body=body,
                                                   max_message_bytes=settings.kafka_max_message_bytes))


async def replay_outstanding(
    settings: Settings, services: Sequence[str] = SERVICE_NAMES, *, by: str, note: str | None = None,
    topic: str | None = None,
) -> tuple[list[Listed], list[str]]:
    """Every outstanding letter of the services, each once; returns them, and the ones too large to send."""
    replayed: list[Listed] = []
    too_large: list[str] = []
    async for service, conn in _ledgers(settings, services):
        done = await ledger.replay_outstanding(conn, by=by, note=note, topic=topic,
                                               max_message_bytes=settings.kafka_max_message_bytes)
        replayed += [Listed(service, e) for e in done.replayed]
        too_large += [f"{service}/{letter_id}" for letter_id in done.too_large]
    return replayed, too_large


async def resolve_one(settings: Settings, ref: str, *, by: str, note: str) -> Listed:
    service, letter_id = parse_ref(ref)
    async with service_ledger(settings, service) as conn:
        if conn is None:
            raise ledger.LetterNotFound(f"{service} keeps no dead-letter ledger yet")
        return Listed(service, await ledger.resolve(conn, letter_id, by=by, note=note))


async def set_aside_rows(settings: Settings, services: Sequence[str] = SERVICE_NAMES
                         ) -> list[tuple[str, outbox.SetAsideRow]]:
    found: list[tuple[str, outbox.SetAsideRow]] = []
    async for service, conn in _ledgers(settings, services):
        found += [(service, row) for row in await outbox.set_aside_rows(conn, limit=10_000)]
    return found


@dataclass(frozen=True)
class DeadLetterView:
    """A record as the `.dlq` topic holds it."""

    dlq_topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def original_topic(self) -> str:
        return self.headers.get(dl.H_TOPIC, "")


async def read_dead_letters(settings: Settings, bootstrap: str, logical_topics: Sequence[str]) -> list[DeadLetterView]:
    """Every record of the topics' `.dlq` topics, from the beginning."""
    names = [settings.topic(topics.dlq_topic(t)) for t in logical_topics]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(n, p) for n in names for p in (consumer.partitions_for_topic(n) or ())]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        letters: list[DeadLetterView] = []
        while True:
            batch = await consumer.getmany(timeout_ms=int(_IDLE_SECONDS * 1000), max_records=1000)
            if not batch:
                break
            for records in batch.values():
                letters += [
                    DeadLetterView(r.topic, r.partition, r.offset, r.key, r.value or b"",
                                   {k: v.decode("utf-8", "replace") for k, v in r.headers})
                    for r in records
                ]
        return sorted(letters, key=lambda d: (d.dlq_topic, d.partition, d.offset))
    finally:
        await consumer.stop()
