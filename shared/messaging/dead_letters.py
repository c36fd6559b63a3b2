"""Dead letters: the original kept in the ledger, a bounded record on `<topic>.dlq`, headers that say why.

A dead letter is staged in the consumer's transaction, with the rest of its batch: its original
(bytes, key, headers) goes to the service's `dead_letters` table (the ledger, see `ledger.py`) and
its `.dlq` record to the outbox, so both exist exactly when the batch commits.

The `.dlq` record never exceeds what the broker accepts (design.md section 6): it carries the
original unchanged when that fits within `max_message_bytes` less room for what the relay and the
producer add; otherwise a preview (the first `PREVIEW_BYTES`) with `dlq.truncated: true`, the
original's size, and `dlq.ref` naming the ledger row (`<schema>/<id>`) that holds it whole. Every
record carries `dlq.ref`, so an operator goes from the topic to the ledger either way.

Reasons never carry message content: a validation error names the field and the problem, not the
value (buyer data must not leak).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import asyncpg

from shared import telemetry
from shared.events import topics
from shared.messaging import inbox
from shared.messaging.outbox import OutboxRow, record_size, stage_rows

if TYPE_CHECKING:
    from shared.messaging.consumer import Record

H_ERROR_TYPE = "dlq.error.type"
H_ERROR_MESSAGE = "dlq.error.message"
H_TOPIC = "dlq.original.topic"
H_PARTITION = "dlq.original.partition"
H_OFFSET = "dlq.original.offset"
H_GROUP = "dlq.consumer.group"
H_REF = "dlq.ref"  # "<schema>/<id>": the ledger row holding the original whole
H_TRUNCATED = "dlq.truncated"  # "true": the value is only a preview of the original
H_SIZE = "dlq.original.size"  # the original value's size in bytes, when truncated
DLQ_HEADERS = (H_ERROR_TYPE, H_ERROR_MESSAGE, H_TOPIC, H_PARTITION, H_OFFSET, H_GROUP, H_REF, H_TRUNCATED, H_SIZE)

#: The broker's default message.max.bytes and the producer's default max_request_size.
DEFAULT_MAX_MESSAGE_BYTES = 1_048_576
#: Kept free below the limit for what the relay and the producer add (record framing, their headers).
HEADROOM_BYTES = 16 * 1024
#: How much of an oversized original its `.dlq` record shows.
PREVIEW_BYTES = 4 * 1024
#: A longer key is cut in a truncated record (a key is normally a seller id).
_MAX_KEY_BYTES = 1024
_MAX_REASON = 1000
_TRACE_HEADERS = ("traceparent", "tracestate")
_NAMESPACE = uuid.UUID("6f1c2a52-8f0e-4d1c-9d0b-5e6a7c3b2f10")


@dataclass(frozen=True)
class DeadLetter:
    record: Record
    logical_topic: str
    group: str
    error_type: str
    reason: str

    @property
    def dedupe_id(self) -> uuid.UUID:
        """The record's place in its partition, as an id: the same record is dead-lettered once."""
        place = f"{self.group}/{self.record.topic}/{self.record.partition}/{self.record.offset}"
        return uuid.uuid5(_NAMESPACE, place)

    def original_headers(self) -> dict[str, str]:
        """The record's own headers, less any `dlq.*` (a replayed letter that failed again)."""
        return {k: v for k, v in self.record.text_headers().items() if not k.startswith("dlq.")}

    def headers(self, ref: str) -> dict[str, str]:
        """The headers of a `.dlq` record that carries the original whole."""
        return {**self.original_headers(), **self._why(ref)}

    def _why(self, ref: str) -> dict[str, str]:
        return {
            H_ERROR_TYPE: self.error_type,
            H_ERROR_MESSAGE: self.reason[:_MAX_REASON],
            H_TOPIC: self.record.topic,
            H_PARTITION: str(self.record.partition),
            H_OFFSET: str(self.record.offset),
            H_GROUP: self.group,
            H_REF: ref,
        }

    def fits(self, max_message_bytes: int) -> bool:
        """Whether the original, with its headers and the `dlq.*` ones, fits in one record with room to spare."""
        size = record_size(self.record.key, self.record.value, self.headers(ref=""))
        return size <= max_message_bytes - HEADROOM_BYTES

    def row(self, ref: str, *, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> OutboxRow:
        """The `.dlq` record: the original unchanged if it fits, else a preview and the reference."""
        key = self.record.key or b""
        topic = topics.dlq_topic(self.logical_topic)
        if self.fits(max_message_bytes):
            return OutboxRow(topic, _text(key), self.record.value, self.headers(ref))
        trace = {k: v for k, v in self.original_headers().items() if k in _TRACE_HEADERS and len(v) <= 512}
        headers = {**trace, **self._why(ref), H_TRUNCATED: "true", H_SIZE: str(len(self.record.value))}
        return OutboxRow(topic, _text(key[:_MAX_KEY_BYTES]), self.record.value[:PREVIEW_BYTES], headers)


def _text(key: bytes) -> str:
    return key.decode("utf-8", "replace")


async def stage_once(
    conn: asyncpg.Connection, letters: list[DeadLetter], *, service: str,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
) -> list[DeadLetter]:
    """Stage dead letters in the caller's transaction, each record once: its place in its partition is
    claimed in the inbox, so a redelivered poison record is not dead-lettered twice. Each original
    goes to the ledger; its `.dlq` record (bounded) to the outbox."""
    if not letters:
        return []
    fresh_ids = await inbox.claim(conn, [d.dedupe_id for d in letters], [d.logical_topic for d in letters])
    fresh = [d for d in letters if d.dedupe_id in fresh_ids]
    if not fresh:
        return []
    schema: str = await conn.fetchval("SELECT current_schema()")
    rows: list[OutboxRow] = []
    for letter in fresh:
        truncated = not letter.fits(max_message_bytes)
        ledger_id = await _keep(conn, letter, letter.original_headers(), truncated=truncated)
        rows.append(letter.row(f"{schema}/{ledger_id}", max_message_bytes=max_message_bytes))
        telemetry.DEAD_LETTERED.labels(service, letter.logical_topic).inc()
        if truncated:
            telemetry.DEAD_LETTERS_TRUNCATED.labels(service, letter.logical_topic).inc()
    await stage_rows(conn, rows)
    return fresh


async def _keep(conn: asyncpg.Connection, letter: DeadLetter, headers: Mapping[str, str], *, truncated: bool) -> int:
    ledger_id: int = await conn.fetchval(
        "INSERT INTO dead_letters (letter_id, topic, kafka_partition, kafka_offset, group_id, key, value, headers,"
        " reason, error_type, truncated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        letter.dedupe_id, letter.logical_topic, letter.record.partition, letter.record.offset, letter.group,
        letter.record.key, letter.record.value, dict(headers), letter.reason[:_MAX_REASON], letter.error_type,
        truncated,
    )
    return ledger_id
