"""The transactional outbox: stage events with the state change, relay them to Kafka in order.

Ordering and replicas: every row carries a bucket (crc32 of its key, so of its seller, mod 64).
A relay pass takes transaction-scoped advisory locks on the buckets it can get, publishes their
unsent rows in id order, awaits every acknowledgement, then marks them sent and commits. Two
replicas never publish the same bucket at once, so one seller's events leave in the order their
transactions staged them; a crash between publish and commit republishes (consumers' inboxes
make that harmless).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from opentelemetry.trace import SpanKind

from shared import telemetry
from shared.db import TRANSIENT_DB_ERRORS
from shared.events import Event

log = logging.getLogger(__name__)

BUCKETS = 64
#: The event type as a Kafka header on every relayed record (CloudEvents Kafka binding: `ce_type`).
TYPE_HEADER = "ce_type"
_LOCK_NAMESPACE = "sellerflow.outbox."


def bucket_of(key: str) -> int:
    return zlib.crc32(key.encode()) % BUCKETS


@dataclass(frozen=True)
class OutboxRow:
    topic: str  # logical topic
    key: str
    value: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    event_id: Any = None
    event_type: str | None = None


def event_row(event: Event[Any], topic: str | None = None) -> OutboxRow:
    """An event as an outbox row; the trace context current now travels with it."""
    topics = event.data.TOPICS
    if topic is None:
        if len(topics) != 1:
            raise ValueError(f"{event.type} may go to {topics}: name the topic")
        topic = topics[0]
    elif topic not in topics:
        raise ValueError(f"{event.type} does not belong on {topic}")
    return OutboxRow(topic, event.sellerid, event.to_bytes(), telemetry.inject_context(), event.id, event.type)


async def stage(conn: asyncpg.Connection, events: Iterable[Event[Any]], topic: str | None = None) -> int:
    """Write events to the outbox inside the caller's transaction."""
    return await stage_rows(conn, [event_row(event, topic) for event in events])


#: Rows staged while a consumed batch is being applied: written in one round trip before it commits.
_batch_rows: contextvars.ContextVar[list[OutboxRow] | None] = contextvars.ContextVar("outbox_batch", default=None)


@contextlib.asynccontextmanager
async def batched(conn: asyncpg.Connection) -> AsyncIterator[None]:
    """Collect what `stage` is given inside the block and write it at the end, in the same transaction.

    A block that raises writes nothing; the caller's transaction (or savepoint) rolls back anyway.
    """
    rows: list[OutboxRow] = []
    token = _batch_rows.set(rows)
    try:
        yield
    finally:
        _batch_rows.reset(token)
    await _insert(conn, rows)


async def stage_rows(conn: asyncpg.Connection, rows: Iterable[OutboxRow]) -> int:
    """Write rows to the outbox inside the caller's transaction (or the batch being applied)."""
    rows = list(rows)
    pending = _batch_rows.get()
    if pending is not None:
        pending.extend(rows)
        return len(rows)
    return await _insert(conn, rows)


async def _insert(conn: asyncpg.Connection, rows: Iterable[OutboxRow]) -> int:
    records = [
        (r.topic, r.key, bucket_of(r.key), r.event_id, r.event_type, r.value, dict(r.headers)) for r in rows
    ]
    if records:
        await conn.executemany(
            "INSERT INTO outbox (topic, key, bucket, event_id, event_type, value, headers)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)",
            records,
        )
    return len(records)


#: publish(physical topic, key, value, headers) -> an awaitable acknowledgement
Publish = Callable[[str, bytes | None, bytes, dict[str, str]], Awaitable[Awaitable[Any]]]


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        publish: Publish,
        *,
        dsn: str,
        schema: str,
        service: str,
        physical_topic: Callable[[str], str],
        batch_size: int = 1000,
        poll_interval: float = 1.0,
        retention_seconds: float = 600.0,
    ) -> None:
        self.pool = pool
        self.dsn = dsn
        self.publish = publish
        self.schema = schema
        self.service = service
        self.physical_topic = physical_topic
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        #: Sent rows are deleted this long after sending: the outbox is a queue, and its rows may hold
        #: buyer data (a dead-lettered ingress order) that must not outlive its purpose.
        self.retention_seconds = retention_seconds
        self.published: dict[str, int] = {}  # logical topic -> records relayed (acknowledged and marked sent)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._lock_base = zlib.crc32((_LOCK_NAMESPACE + schema).encode()) & 0x7FFF_FFFF

    async def publish_pending(self) -> int:
        """One pass: relay every unsent row of the buckets this replica can lock. Returns rows sent."""
        async with self.pool.acquire() as conn, conn.transaction():
            buckets = await conn.fetch(
                "SELECT b.bucket FROM (SELECT DISTINCT bucket FROM outbox WHERE sent_at IS NULL) b"
                " WHERE pg_try_advisory_xact_lock($1, b.bucket)",
                self._lock_base,
            )
            if not buckets:
                return 0
            rows = await conn.fetch(
                "SELECT id, topic, key, value, headers, event_type FROM outbox"
                " WHERE sent_at IS NULL AND bucket = ANY($1::smallint[]) ORDER BY id LIMIT $2",
                [b["bucket"] for b in buckets],
                self.batch_size,
            )
            acks = [await self._send(row) for row in rows]
            await asyncio.gather(*acks)
            await conn.execute(
                "UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])", [row["id"] for row in rows]
            )
        # Counted right after the commit, with no await in between: /ops/progress never sees a row
        # both sent and uncounted.
        for row in rows:
            self.published[row["topic"]] = self.published.get(row["topic"], 0) + 1
        telemetry.OUTBOX_PUBLISHED.labels(self.service).inc(len(rows))
        return len(rows)

    async def _send(self, row: asyncpg.Record) -> Awaitable[Any]:
        headers: dict[str, str] = row["headers"]
        if row["event_type"]:
            # The CloudEvents Kafka binding's type header: a consumer skips types it does not
            # handle without parsing the body (the body stays the whole structured event).
            headers = {**headers, TYPE_HEADER: row["event_type"]}
        key = row["key"].encode() if row["key"] else None
        topic = self.physical_topic(row["topic"])
        if "traceparent" in headers and not telemetry.is_sampled(headers):
            # An unsampled trace: its context travels on in the headers, without a span per record.
            return await self.publish(topic, key, row["value"], headers)
        parent = telemetry.extract_context(headers)
        # A publish span, child of the span that staged the row: the trace survives the outbox.
        with telemetry.tracer().start_as_current_span(
            f"publish {row['topic']}", context=parent, kind=SpanKind.PRODUCER
        ) as span:
            if span.is_recording():
                span.set_attribute("messaging.destination.name", row["topic"])
                span.set_attribute(telemetry.SERVICE_ATTRIBUTE, self.service)
                headers = {**headers, **telemetry.inject_context()}
            return await self.publish(topic, key, row["value"], headers)

    async def run(self) -> None:
        """Relay until stopped: woken by NOTIFY on commit, polling as a fallback."""
        telemetry.SERVICE.set(self.service)
        listener = await self._listen()
        backoff = 0.1
        loop = asyncio.get_running_loop()
        next_purge = loop.time()
        try:
            while not self._stopping.is_set():
                try:
                    while await self.publish_pending() >= self.batch_size:
                        pass
                    await self._update_lag()
                    if loop.time() >= next_purge:
                        await self.purge_sent(self.retention_seconds)
                        next_purge = loop.time() + min(self.retention_seconds, 60.0)
                    backoff = 0.1
                except Exception as error:  # the broker or the database away: wait and try again
                    kind = "transient" if isinstance(error, TRANSIENT_DB_ERRORS) else type(error).__name__
                    log.warning("outbox relay pass failed; retrying", extra={"error": repr(error), "kind": kind})
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)
                self._wake.clear()
        finally:
            if listener is not None:
                with contextlib.suppress(Exception):
                    await listener.close()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def _listen(self) -> asyncpg.Connection | None:
        """A connection of its own for LISTEN; without it the relay still polls."""
        try:
            listener: asyncpg.Connection = await asyncpg.connect(self.dsn)
            await listener.add_listener(f"{self.schema}_outbox", lambda *_: self._wake.set())
        except Exception as error:
            log.warning("outbox LISTEN unavailable; polling only", extra={"error": repr(error)})
            return None
        return listener

    async def _update_lag(self) -> None:
        unsent = await self.pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        telemetry.OUTBOX_LAG.labels(self.service).set(unsent)

    async def purge_sent(self, older_than_seconds: float) -> int:
        """Delete rows relayed long ago: the outbox is a queue, not an archive."""
        result: str = await self.pool.execute(
            "DELETE FROM outbox WHERE sent_at < now() - make_interval(secs => $1)", older_than_seconds
        )
        return int(result.split()[-1])
