"""The dead-letter ledger: every letter a service dead-lettered, outstanding, replayed or resolved.

The ledger is the `dead_letters` table in the consuming service's schema (written by
`dead_letters.stage_once`). An operator reaches it through `sellerflow dlq` (the database) or the
service's `/v1/ops/dead-letters` routes (HTTP); both call the functions here, so the rules live once:

- a letter starts `outstanding`; `replay` and `resolve` take it out of that state, once, saying who
  did it, when, and why (a second replay of the same letter is refused, so `replay --all` never
  re-drives a letter twice);
- a replay stages the original (or a fixed body) in the service's outbox, for the original topic
  with its original key and headers (less `dlq.*`), in the same transaction as the ledger update:
  the message and the ledger never disagree; an original over the broker's limit is not replayed
  (the relay would only set it aside): it takes a fixed body, or a resolve;
- letters older than the dead-letter retention are deleted with their originals (buyer data);
- the ledger outlives a rebuild of its schema (`kept_through`): what was resolved stays resolved.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg
from pydantic import BaseModel, Field

from shared.messaging.dead_letters import DEFAULT_MAX_MESSAGE_BYTES
from shared.messaging.outbox import OutboxRow, record_size, stage_rows

log = logging.getLogger(__name__)

Status = Literal["outstanding", "replayed", "resolved"]
STATUSES: tuple[Status, ...] = ("outstanding", "replayed", "resolved")

_COLUMNS = (
    "id, topic, kafka_partition, kafka_offset, group_id, key,"
    " octet_length(value) AS size_bytes, reason, error_type, truncated, status, created_at, handled_at,"
    " handled_by, note"
)


class LetterEntry(BaseModel):
    """One dead letter as the ledger shows it (its original bytes stay in the database)."""

    id: int = Field(description="The letter's id within its service's ledger")
    topic: str = Field(description="Logical topic it was consumed from")
    kafka_partition: int
    kafka_offset: int
    group_id: str = Field(description="The consumer group that gave up on it")
    key: str | None = Field(description="The record's key (the seller id)")
    size_bytes: int = Field(description="Size of the original value")
    reason: str
    error_type: str
    truncated: bool = Field(description="Its .dlq record carries only a preview and dlq.ref")
    status: Status
    created_at: datetime = Field(description="When it was dead-lettered")
    handled_at: datetime | None = Field(description="When it was replayed or resolved")
    handled_by: str | None
    note: str | None


def _entry(row: asyncpg.Record) -> LetterEntry:
    fields = dict(row)
    fields["key"] = row["key"].decode("utf-8", "replace") if row["key"] is not None else None
    return LetterEntry.model_validate(fields)


class LetterNotFound(LookupError):
    pass


class TooLargeToReplay(Exception):
    """The original is over the broker's limit: the relay would only set it aside. Send a fixed body, or resolve it."""


class LetterNotOutstanding(Exception):
    """The letter was replayed or resolved already: it is not re-driven twice."""

    def __init__(self, entry: LetterEntry) -> None:
        super().__init__(f"letter {entry.id} is {entry.status} (by {entry.handled_by} at {entry.handled_at})")
        self.entry = entry


async def list_letters(
    conn: asyncpg.Connection, *, status: Status | None = "outstanding", topic: str | None = None,
    limit: int = 1000,
) -> list[LetterEntry]:
    """Letters in id order; `status=None` for every status."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM dead_letters WHERE ($1::text IS NULL OR status = $1)"
        " AND ($2::text IS NULL OR topic = $2) ORDER BY id LIMIT $3",
        status, topic, limit,
    )
    return [_entry(row) for row in rows]


async def get_letter(conn: asyncpg.Connection, letter_id: int) -> LetterEntry:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM dead_letters WHERE id = $1", letter_id)
    if row is None:
        raise LetterNotFound(f"no dead letter {letter_id}")
    return _entry(row)


async def replay(
    conn: asyncpg.Connection, letter_id: int, *, by: str, note: str | None = None, body: bytes | None = None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
) -> LetterEntry:
    """Re-drive one outstanding letter (its original, or `body` instead) and mark it replayed."""
    async with conn.transaction():
        original = await conn.fetchrow(
            "SELECT id, topic, key, value, headers, status FROM dead_letters WHERE id = $1 FOR UPDATE", letter_id
        )
        if original is None:
            raise LetterNotFound(f"no dead letter {letter_id}")
        if original["status"] != "outstanding":
            raise LetterNotOutstanding(await get_letter(conn, letter_id))
        if (size := _size(original, body)) > max_message_bytes:
            raise TooLargeToReplay(f"letter {letter_id} is {size} bytes, over the {max_message_bytes}-byte limit:"
                                   " replay it with a fixed body, or resolve it")
        await stage_rows(conn, [_replay_row(original, body)])
        await _mark(conn, [letter_id], "replayed", by=by, note=note)
        return await get_letter(conn, letter_id)


@dataclass(frozen=True)
class Replayed:
    replayed: list[LetterEntry]
    too_large: list[int]  # ids left outstanding: replay each with a fixed body, or resolve it


async def replay_outstanding(
    conn: asyncpg.Connection, *, by: str, note: str | None = None, topic: str | None = None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
) -> Replayed:
    """Re-drive every outstanding letter (of one topic, if named) once, in one transaction.

    Letters another operator is replaying at this moment are skipped (locked), never sent twice;
    letters too large to send stay outstanding and are named in the result.
    """
    async with conn.transaction():
        originals = await conn.fetch(
            "SELECT id, topic, key, value, headers FROM dead_letters WHERE status = 'outstanding'"
            " AND ($1::text IS NULL OR topic = $1) ORDER BY id FOR UPDATE SKIP LOCKED",
            topic,
        )
        fitting = [original for original in originals if _size(original, None) <= max_message_bytes]
        await stage_rows(conn, [_replay_row(original, None) for original in fitting])
        ids = [original["id"] for original in fitting]
        await _mark(conn, ids, "replayed", by=by, note=note)
        rows = await conn.fetch(f"SELECT {_COLUMNS} FROM dead_letters WHERE id = ANY($1::bigint[]) ORDER BY id", ids)
    too_large = sorted({original["id"] for original in originals} - set(ids))
    return Replayed([_entry(row) for row in rows], too_large)


async def resolve(conn: asyncpg.Connection, letter_id: int, *, by: str, note: str) -> LetterEntry:
    """Close an outstanding letter without replaying it (the sender fixed it upstream, or it is junk)."""
    async with conn.transaction():
        status = await conn.fetchval("SELECT status FROM dead_letters WHERE id = $1 FOR UPDATE", letter_id)
        if status is None:
            raise LetterNotFound(f"no dead letter {letter_id}")
        if status != "outstanding":
            raise LetterNotOutstanding(await get_letter(conn, letter_id))
        await _mark(conn, [letter_id], "resolved", by=by, note=note)
        return await get_letter(conn, letter_id)


def _replay_row(original: asyncpg.Record, body: bytes | None) -> OutboxRow:
    """The original's record again (or the fixed body), for its topic, with its key and headers less `dlq.*`."""
    headers = {k: v for k, v in original["headers"].items() if not k.startswith("dlq.")}
    key = original["key"].decode("utf-8", "replace") if original["key"] else ""
    return OutboxRow(original["topic"], key, body if body is not None else original["value"], headers)


def _size(original: asyncpg.Record, body: bytes | None) -> int:
    row = _replay_row(original, body)
    return record_size(row.key.encode(), row.value, row.headers)



async def _mark(conn: asyncpg.Connection, ids: list[int], status: Status, *, by: str, note: str | None) -> None:
    await conn.execute(
        "UPDATE dead_letters SET status = $2, handled_at = now(), handled_by = $3, note = $4"
        " WHERE id = ANY($1::bigint[])",
        ids, status, by, note,
    )


async def purge_expired(pool: asyncpg.Pool, retention_seconds: float) -> int:
    """Delete letters (their originals hold buyer data) and set-aside outbox rows older than the retention."""
    async with pool.acquire() as conn, conn.transaction():
        letters: str = await conn.execute(
            "DELETE FROM dead_letters WHERE created_at < now() - make_interval(secs => $1)", retention_seconds
        )
        rows: str = await conn.execute(
            "DELETE FROM outbox WHERE set_aside_at < now() - make_interval(secs => $1)", retention_seconds
        )
    return int(letters.split()[-1]) + int(rows.split()[-1])


async def keep_retention(pool: asyncpg.Pool, retention_seconds: float) -> None:
    """Purge expired letters now and then, until cancelled (the database away: try again later)."""
    while True:
        try:
            purged = await purge_expired(pool, retention_seconds)
            if purged:
                log.info("expired dead letters purged", extra={"rows": purged})
        except Exception as error:
            log.warning("dead-letter purge failed; retrying later", extra={"error": repr(error)})
        await asyncio.sleep(min(retention_seconds, 3600.0))


@contextlib.asynccontextmanager
async def kept_through(dsn: str, schema: str) -> AsyncIterator[None]:
    """The ledger survives what the block does to its schema (`sellerflow metrics rebuild` drops the
    schema and migrates it again): its rows are read before and written back after, ids and statuses kept."""
    conn = await asyncpg.connect(dsn)
    try:
        table = f'"{schema}".dead_letters'
        exists = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", table)
        rows = await conn.fetch(f"SELECT * FROM {table}") if exists else []
        yield
        if rows:
            await conn.copy_records_to_table("dead_letters", records=rows, columns=list(rows[0].keys()),
                                             schema_name=schema)
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
    finally:
        await conn.close()
