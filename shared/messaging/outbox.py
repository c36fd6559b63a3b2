"""The transactional outbox: stage events with the state change, relay them to Kafka in order.

Ordering and replicas: every row carries a bucket (crc32 of its key, so of its seller, mod 64).
A relay pass takes transaction-scoped advisory locks on the buckets it can get, publishes their
unsent rows in id order, awaits every acknowledgement, then marks them sent and commits. Two
replicas never publish the same bucket at once, so one seller's events leave in the order their
transactions staged them; a crash between publish and commit republishes (consumers' inboxes
make that harmless).

No row can stop the relay (design.md section 6). Each row's outcome is handled on its own:
- acknowledged: marked sent, never sent again;
- refused for good (over `max_message_bytes`, an illegal topic name, or a broker error that no
  retry can cure, see `is_permanent`): set aside with its reason (`set_aside_at`,
  `set_aside_reason`), counted in `sellerflow_outbox_set_aside_rows_total`, listed by
  `sellerflow outbox list` and `GET /v1/ops/outbox/set-aside`; the pass goes on with later rows,
  of the same seller too;
- failed for now (the broker away, a timeout): left unsent and retried with backoff; a row that
  cannot even be handed over stops its bucket for this pass, so later rows of that seller do not
  overtake it. (An acknowledgement that fails after later rows of the same partition were
  acknowledged cannot be taken back without an idempotent producer, which Tansu lacks: those stay
  sent, the failed row follows them.)
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import re
import uuid
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
from aiokafka import errors as kafka_errors
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from opentelemetry.trace import SpanKind
from pydantic import BaseModel, Field

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


#: Kafka's legal topic names: anything else is refused for good.
_LEGAL_TOPIC = re.compile(r"[a-zA-Z0-9._-]{1,249}")

#: Broker refusals that no retry cures: the row is set aside. Anything else is treated as transient.
_PERMANENT_ERRORS: tuple[type[BaseException], ...] = (
    kafka_errors.MessageSizeTooLargeError,
    kafka_errors.RecordTooLargeError,
    kafka_errors.RecordListTooLargeError,
    kafka_errors.InvalidTopicError,
    kafka_errors.CorruptRecordException,
    kafka_errors.InvalidTimestampError,
    kafka_errors.UnsupportedForMessageFormatError,
    UnicodeError,  # a header that cannot be encoded: that row's data, not the broker's state
)


def is_permanent(error: BaseException) -> bool:
    """True when the broker will never take this record, however often it is sent."""
    return isinstance(error, _PERMANENT_ERRORS)


def record_size(key: bytes | None, value: bytes, headers: Mapping[str, str]) -> int:
    """The record's size as the producer measures it against its max_request_size."""
    encoded = [(k, v.encode()) for k, v in headers.items()]
    size: int = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, encoded)
    return size


@functools.lru_cache(maxsize=1024)
def _legal_topic(topic: str) -> bool:
    return _LEGAL_TOPIC.fullmatch(topic) is not None


def refusal(topic: str, key: bytes | None, value: bytes, headers: Mapping[str, str], limit: int) -> str | None:
    """Why the broker would refuse this record for good, known before it is handed over; None if not.

    A record whose key and value take under half the limit is not measured (its headers are the
    relay's own, or a dead letter's, bounded): the producer measures every record anyway, and its
    refusal sets the row aside just the same. This keeps the common case cheap.
    """
    if not _legal_topic(topic):
        return "InvalidTopicError: not a legal Kafka topic name"
    if len(value) + (len(key) if key else 0) < limit // 2:
        return None
    try:
        size = record_size(key, value, headers)
    except UnicodeError:
        return "UnicodeEncodeError: a header value is not encodable as UTF-8"
    if size > limit:
        return f"MessageSizeTooLargeError: {size} bytes, over the {limit}-byte limit"
    return None


@dataclass
class PassOutcome:
    """What one relay pass did with each row it read."""

    sent: list[asyncpg.Record] = field(default_factory=list)
    set_aside: list[tuple[asyncpg.Record, str]] = field(default_factory=list)
    transient: Exception | None = None  # the last failure worth retrying; its rows stay unsent

    @property
    def settled(self) -> int:
        return len(self.sent) + len(self.set_aside)


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
        max_message_bytes: int = 1_048_576,
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
        self.max_message_bytes = max_message_bytes
        self.published: dict[str, int] = {}  # logical topic -> records relayed (acknowledged and marked sent)
        #: A pass is running: rows it marks sent may be committed before they are counted in `published`.
        self.passing = False
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._lock_base = zlib.crc32((_LOCK_NAMESPACE + schema).encode()) & 0x7FFF_FFFF

    async def relay_once(self) -> PassOutcome:
        """One pass: relay every unsent row of the buckets this replica can lock, and commit what it settled
        (rows acknowledged marked sent, rows refused for good set aside); a transient failure is in the
        outcome, for the caller to back off and retry the rest."""
        try:
            return await self._pass()
        finally:
            self.passing = False

    async def _pass(self) -> PassOutcome:
        async with self.pool.acquire() as conn, conn.transaction():
            buckets = await conn.fetch(
                "SELECT b.bucket FROM (SELECT DISTINCT bucket FROM outbox"
                " WHERE sent_at IS NULL AND set_aside_at IS NULL) b"
                " WHERE pg_try_advisory_xact_lock($1, b.bucket)",
                self._lock_base,
            )
            if not buckets:
                return PassOutcome()
            rows = await conn.fetch(
                "SELECT id, topic, key, bucket, value, headers, event_type FROM outbox"
                " WHERE sent_at IS NULL AND set_aside_at IS NULL AND bucket = ANY($1::smallint[])"
                " ORDER BY id LIMIT $2",
                [b["bucket"] for b in buckets],
                self.batch_size,
            )
            self.passing = bool(rows)  # from here until counted; a pass that found nothing changes nothing
            outcome = await self.hand_over(rows)
            if outcome.sent:
                await conn.execute(
                    "UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])", [r["id"] for r in outcome.sent]
                )
            if outcome.set_aside:
                await conn.executemany(
                    "UPDATE outbox SET set_aside_at = now(), set_aside_reason = $2 WHERE id = $1",
                    [(row["id"], reason) for row, reason in outcome.set_aside],
                )
        # Counted right after the commit, with no await in between. Another connection may see the commit
        # before this coroutine resumes: /ops/progress reports the pass (`passing`) until it is counted.
        for row in outcome.sent:
            self.published[row["topic"]] = self.published.get(row["topic"], 0) + 1
        telemetry.OUTBOX_PUBLISHED.labels(self.service).inc(len(outcome.sent))
        for row, reason in outcome.set_aside:
            telemetry.OUTBOX_SET_ASIDE.labels(self.service, row["topic"]).inc()
            log.error("outbox row set aside: the broker refuses it for good",
                      extra={"outbox_id": row["id"], "topic": row["topic"], "reason": reason})
        return outcome

    async def hand_over(self, rows: Sequence[asyncpg.Record]) -> PassOutcome:
        """Send every row, then await each acknowledgement and sort each row by its own outcome."""
        outcome = PassOutcome()
        stalled: set[int] = set()  # buckets whose pass stopped at a transient failure
        in_flight: list[tuple[asyncpg.Record, Awaitable[Any]]] = []
        for row in rows:
            if row["bucket"] in stalled:
                continue
            headers = self._headers(row)
            key = row["key"].encode() if row["key"] else None
            topic = self.physical_topic(row["topic"])
            reason = refusal(topic, key, row["value"], headers, self.max_message_bytes)
            if reason is not None:
                outcome.set_aside.append((row, reason))
                continue
            try:
                in_flight.append((row, await self._send(row, topic, key, headers)))
            except Exception as error:
                if is_permanent(error):
                    outcome.set_aside.append((row, _describe(error)))
                else:
                    stalled.add(row["bucket"])
                    outcome.transient = error
        results = await asyncio.gather(*(ack for _, ack in in_flight), return_exceptions=True)
        for (row, _), result in zip(in_flight, results, strict=True):
            if not isinstance(result, BaseException):
                outcome.sent.append(row)
            elif is_permanent(result):
                outcome.set_aside.append((row, _describe(result)))
            else:  # a cancelled acknowledgement too: the row stays unsent, the relay goes on
                outcome.transient = result if isinstance(result, Exception) else RuntimeError(_describe(result))
        return outcome

    @staticmethod
    def _headers(row: asyncpg.Record) -> dict[str, str]:
        headers: dict[str, str] = row["headers"]
        if row["event_type"]:
            # The CloudEvents Kafka binding's type header: a consumer skips types it does not
            # handle without parsing the body (the body stays the whole structured event).
            headers = {**headers, TYPE_HEADER: row["event_type"]}
        return headers

    async def _send(self, row: asyncpg.Record, topic: str, key: bytes | None, headers: dict[str, str]
                    ) -> Awaitable[Any]:
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
                    while True:
                        outcome = await self.relay_once()
                        if outcome.transient is not None:
                            raise outcome.transient  # what it settled is committed; back off for the rest
                        if outcome.settled < self.batch_size:
                            break
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
        telemetry.OUTBOX_LAG.labels(self.service).set(await unsent_count(self.pool))

    async def purge_sent(self, older_than_seconds: float) -> int:
        """Delete rows relayed long ago: the outbox is a queue, not an archive."""
        result: str = await self.pool.execute(
            "DELETE FROM outbox WHERE sent_at < now() - make_interval(secs => $1)", older_than_seconds
        )
        return int(result.split()[-1])


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:1000]


async def unsent_count(pool: asyncpg.Pool) -> int:
    """Rows still to relay; set-aside rows are not among them (they wait for an operator, not the relay)."""
    count: int = await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND set_aside_at IS NULL")
    return count


class SetAsideRow(BaseModel):
    """An outbox row the broker refused for good (its content stays in the database)."""

    id: int
    topic: str = Field(description="Logical topic it was bound for")
    key: str
    event_id: uuid.UUID | None
    event_type: str | None
    size_bytes: int
    created_at: datetime
    set_aside_at: datetime
    set_aside_reason: str


async def set_aside_rows(pool: asyncpg.Pool, *, limit: int = 100) -> list[SetAsideRow]:
    """The rows set aside, newest first."""
    rows = await pool.fetch(
        "SELECT id, topic, key, event_id, event_type, octet_length(value) AS size_bytes, created_at,"
        " set_aside_at, set_aside_reason FROM outbox WHERE set_aside_at IS NOT NULL"
        " ORDER BY set_aside_at DESC, id DESC LIMIT $1",
        limit,
    )
    return [SetAsideRow.model_validate(dict(row)) for row in rows]
