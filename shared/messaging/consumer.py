"""Batch consumption: parse, de-duplicate, apply in one transaction, dead-letter what cannot be applied.

The contract (design.md sections 6 and 7):
- a batch is applied in ONE transaction together with its inbox claims and any dead letters;
- a body that does not parse, or an event the handler refuses (any error that is not transient),
  is dead-lettered with its reason; the rest of the batch still applies;
- a transient failure (the database away) is retried with backoff and never dead-lettered; if it
  lasts, the batch is handed back unacknowledged and fetched again;
- offsets are committed by the caller only after this returns.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import asyncpg
from opentelemetry import context as otel_context
from opentelemetry.trace import SpanKind

from shared import business_clock, telemetry
from shared.db import TRANSIENT_DB_ERRORS
from shared.events import Event, InvalidEvent, topics
from shared.events.attributes import trace_context
from shared.events.binding import parse_record
from shared.events.clock import ClockTicked
from shared.events.time_range import time_ahead
from shared.messaging import dead_letters, inbox, outbox

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Record:
    """A consumed Kafka record, independent of the client library."""

    topic: str  # physical topic name
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()

    def text_headers(self) -> dict[str, str]:
        return {k: v.decode("utf-8", "replace") for k, v in self.headers if v is not None}


@dataclass(frozen=True)
class Incoming:
    """A record that parsed into a typed event."""

    event: Event[Any]
    record: Record
    topic: str  # logical topic name

    @property
    def trace_headers(self) -> dict[str, str]:
        """The W3C trace context: the record's own headers, else the event's CloudEvents attributes
        (`traceparent` in a structured event, a `ce_traceparent` header in binary mode)."""
        headers = {k: v for k, v in self.record.text_headers().items() if k in ("traceparent", "tracestate")}
        return headers if "traceparent" in headers else trace_context(self.event.model_extra)


def parse(record: Record, topic: str) -> Event[Any]:
    """A record's event on its logical topic, read as the CloudEvents Kafka binding says (InvalidEvent if not)."""
    return parse_record(record.value, topic=topic, key=record.key, headers=record.headers)


class Unprocessable(Exception):
    """A handler's verdict that an event can never be applied: it is dead-lettered with this reason."""


#: Topics written only by sellerflow's outbox relays (design.md section 2: one owner writes a topic).
_RELAYED_TOPICS = frozenset(t for t in topics.INTERNAL_TOPICS if t != topics.CLOCK_EVENTS)

BatchHandler = Callable[[asyncpg.Connection, Sequence[Incoming]], Awaitable[None]]


@contextmanager
def handling(item: Incoming) -> Iterator[None]:
    """The trace and log context of one event: outgoing events continue the incoming trace.

    A span per message only when the producer sampled it (or, for a message from outside with no
    trace context, when the sampler picks it): per-message spans are expensive.
    """
    headers = item.trace_headers
    event = item.event
    with telemetry.log_context(event_id=str(event.id), seller_id=event.sellerid, event_type=event.type):
        if "traceparent" in headers and not telemetry.is_sampled(headers):
            token = otel_context.attach(telemetry.extract_context(headers))
            try:
                yield
            finally:
                otel_context.detach(token)
            return
        with telemetry.tracer().start_as_current_span(
            f"handle {event.type}", context=telemetry.extract_context(headers),
            kind=SpanKind.CONSUMER,
        ) as span:
            if span.is_recording():
                span.set_attribute("messaging.source.name", item.topic)
                span.set_attribute("sellerflow.event_id", str(event.id))
                span.set_attribute("sellerflow.seller_id", event.sellerid)
            yield


class BatchProcessor:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        handler: BatchHandler,
        service: str,
        group: str,
        logical_topic: Callable[[str], str],
        max_transient_wait: float = 60.0,
        max_clock_skew: timedelta = timedelta(days=2),
        max_message_bytes: int = dead_letters.DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        self.pool = pool
        self.handler = handler
        self.service = service
        self.group = group
        self.logical_topic = logical_topic
        self.max_transient_wait = max_transient_wait
        self.max_clock_skew = max_clock_skew
        self.max_message_bytes = max_message_bytes  # a dead letter's `.dlq` record stays within it
        self.in_flight = 0  # batches being applied now: a fetched batch is past the consumer's position
        self.batches = 0
        self.records = 0
        self.consumed: dict[str, int] = {}  # logical topic -> records consumed (applied, skipped or dead)

    async def process(self, records: Sequence[Record]) -> None:
        self.in_flight += 1
        try:
            await self._process(records)
            self.batches += 1
            self.records += len(records)
            for record in records:
                topic = self.logical_topic(record.topic)
                self.consumed[topic] = self.consumed.get(topic, 0) + 1
        finally:
            self.in_flight -= 1

    async def _process(self, records: Sequence[Record]) -> None:
        started = time.perf_counter()
        telemetry.BATCH_SIZE.labels(self.service).observe(len(records))
        items, poison = self._parse(records)
        items = await self._refuse_times_ahead(items, poison)
        with telemetry.tracer().start_as_current_span(f"{self.service} batch") as span:
            if span.is_recording():
                span.set_attribute("messaging.batch.message_count", len(records))
            await self._retrying_transient(lambda: self._apply(items, poison))
        telemetry.HANDLER_SECONDS.labels(self.service).observe(time.perf_counter() - started)

    def _parse(self, records: Sequence[Record]) -> tuple[list[Incoming], list[dead_letters.DeadLetter]]:
        items: list[Incoming] = []
        poison: list[dead_letters.DeadLetter] = []
        seen: set[uuid.UUID] = set()
        wanted: frozenset[str] | None = getattr(self.handler, "handled_types", None)
        for record in records:
            topic = self.logical_topic(record.topic)
            if wanted is not None and self._unwanted(record, topic, wanted):
                continue
            try:
                event = parse(record, topic)
            except InvalidEvent as error:
                poison.append(self._dead_letter(record, topic, error, error.reason))
                continue
            if event.id not in seen:  # the same event twice in one batch: apply it once
                seen.add(event.id)
                items.append(Incoming(event, record, topic))
        return items, poison

    @staticmethod
    def _unwanted(record: Record, topic: str, wanted: frozenset[str]) -> bool:
        """A record of a type this service does not handle, known from the type header our own
        relays set: skipped unparsed. Only on topics sellerflow writes (other systems' headers are
        not trusted: what they send is parsed, and dead-lettered if it is bad); ticks always count."""
        if topic not in _RELAYED_TOPICS:
            return False
        event_type = next((v for k, v in record.headers if k == outbox.TYPE_HEADER), None)
        return event_type is not None and event_type.decode("utf-8", "replace") not in wanted

    async def _refuse_times_ahead(
        self, items: list[Incoming], poison: list[dead_letters.DeadLetter]
    ) -> list[Incoming]:
        """Dead-letter ingress events with a business time after the latest tick (stored, or in this
        batch) plus MAX_CLOCK_SKEW (design.md section 3); before the first tick only the static range holds."""
        if not any(topics.is_ingress(item.topic) for item in items):
            return items
        stored = await self._retrying_transient(lambda: business_clock.latest_tick(self.pool))
        ticks = [item.event.data.now for item in items if isinstance(item.event.data, ClockTicked)]
        latest = max([tick for tick in (stored, *ticks) if tick is not None], default=None)
        if latest is None:
            return items
        kept: list[Incoming] = []
        for item in items:
            reason = time_ahead(item.event, latest, self.max_clock_skew) if topics.is_ingress(item.topic) else None
            if reason is None:
                kept.append(item)
            else:
                poison.append(self._dead_letter(item.record, item.topic, InvalidEvent(reason), reason))
        return kept

    def _dead_letter(
        self, record: Record, topic: str, error: BaseException, reason: str
    ) -> dead_letters.DeadLetter:
        return dead_letters.DeadLetter(record=record, logical_topic=topic, group=self.group,
                                       error_type=type(error).__name__, reason=reason)

    async def _apply(self, items: list[Incoming], poison: list[dead_letters.DeadLetter]) -> None:
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                await self._stage_dead_letters(conn, poison)
                await self._handle(conn, items)
        except TRANSIENT_DB_ERRORS:
            raise
        except Exception as error:
            # Someone in the batch is poison: apply each event alone to find it; the rest still apply.
            log.warning("batch failed; isolating events", extra={"error": repr(error), "size": len(items)})
            await self._apply_one_by_one(items, poison)

    async def _apply_one_by_one(self, items: list[Incoming], poison: list[dead_letters.DeadLetter]) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await self._stage_dead_letters(conn, poison)
            for item in items:
                try:
                    async with conn.transaction():  # a savepoint per event
                        await self._handle(conn, [item])
                except TRANSIENT_DB_ERRORS:
                    raise
                except Exception as error:
                    reason = str(error) if isinstance(error, Unprocessable) else f"{type(error).__name__}: {error}"
                    log.error("event dead-lettered", extra={"event_id": str(item.event.id), "reason": reason})
                    letter = self._dead_letter(item.record, item.topic, error, reason)
                    await self._stage_dead_letters(conn, [letter])

    async def _handle(self, conn: asyncpg.Connection, items: Sequence[Incoming]) -> None:
        # Every tick moves this service's business clock (idempotent: it only moves forward).
        ticks = [item.event.data.now for item in items if isinstance(item.event.data, ClockTicked)]
        if ticks:
            await business_clock.record_tick(conn, max(ticks), self.max_clock_skew)
        # Events of a type the handler ignores change nothing: no inbox row, no work (a service reads
        # whole topics and usually needs a few of their types).
        wanted: frozenset[str] | None = getattr(self.handler, "handled_types", None)
        if wanted is not None:
            items = [i for i in items if i.event.type in wanted]
        fresh_ids = await inbox.claim(conn, [i.event.id for i in items], [i.topic for i in items])
        fresh = [item for item in items if item.event.id in fresh_ids]
        for item in items:
            if item.event.id not in fresh_ids:
                telemetry.MESSAGES_SKIPPED.labels(self.service, item.topic).inc()
        if fresh:
            async with outbox.batched(conn):  # every event the batch stages: one INSERT round trip
                await self.handler(conn, fresh)
            for item in fresh:
                telemetry.MESSAGES_HANDLED.labels(self.service, item.topic).inc()

    async def _stage_dead_letters(self, conn: asyncpg.Connection, letters: list[dead_letters.DeadLetter]) -> None:
        await dead_letters.stage_once(conn, letters, service=self.service, max_message_bytes=self.max_message_bytes)

    async def _retrying_transient(self, attempt: Callable[[], Awaitable[T]]) -> T:
        delay = 0.1
        deadline = time.monotonic() + self.max_transient_wait
        while True:
            try:
                return await attempt()
            except TRANSIENT_DB_ERRORS as error:
                telemetry.MESSAGES_FAILED.labels(self.service, "transient").inc()
                if time.monotonic() > deadline:
                    raise  # hand the batch back uncommitted; it is fetched again
                log.warning("transient failure; retrying batch", extra={"error": repr(error), "in": delay})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
