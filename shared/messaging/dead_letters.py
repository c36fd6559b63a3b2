"""Dead letters: the original bytes, unchanged, on `<topic>.dlq`, with headers that say why.

A dead letter is staged in the consumer's outbox, in the same transaction as the rest of its batch,
so it is published exactly when the batch commits. Reasons never carry message content: a
validation error names the field and the problem, not the value (buyer data must not leak).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import asyncpg

from shared import telemetry
from shared.events import topics
from shared.messaging import inbox
from shared.messaging.outbox import OutboxRow, stage_rows

if TYPE_CHECKING:
    from shared.messaging.consumer import Record

H_ERROR_TYPE = "dlq.error.type"
H_ERROR_MESSAGE = "dlq.error.message"
H_TOPIC = "dlq.original.topic"
H_PARTITION = "dlq.original.partition"
H_OFFSET = "dlq.original.offset"
H_GROUP = "dlq.consumer.group"
DLQ_HEADERS = (H_ERROR_TYPE, H_ERROR_MESSAGE, H_TOPIC, H_PARTITION, H_OFFSET, H_GROUP)

_MAX_REASON = 1000
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

    def headers(self) -> dict[str, str]:
        original = {k: v for k, v in self.record.text_headers().items() if not k.startswith("dlq.")}
        return {
            **original,
            H_ERROR_TYPE: self.error_type,
            H_ERROR_MESSAGE: self.reason[:_MAX_REASON],
            H_TOPIC: self.record.topic,
            H_PARTITION: str(self.record.partition),
            H_OFFSET: str(self.record.offset),
            H_GROUP: self.group,
        }

    def row(self) -> OutboxRow:
        key = self.record.key.decode("utf-8", "replace") if self.record.key else ""
        return OutboxRow(topics.dlq_topic(self.logical_topic), key, self.record.value, self.headers())


async def stage_once(conn: asyncpg.Connection, letters: list[DeadLetter], *, service: str) -> list[DeadLetter]:
    """Stage dead letters in the caller's transaction, each record once: its place in its partition is
    claimed in the inbox, so a redelivered poison record is not dead-lettered twice."""
    if not letters:
        return []
    fresh_ids = await inbox.claim(conn, [d.dedupe_id for d in letters], [d.logical_topic for d in letters])
    fresh = [d for d in letters if d.dedupe_id in fresh_ids]
    await stage_rows(conn, [letter.row() for letter in fresh])
    for letter in fresh:
        telemetry.DEAD_LETTERED.labels(service, letter.logical_topic).inc()
    return fresh
