"""PostgreSQL: one schema per service, its pool, and its ordered migrations (design.md section 6)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)

#: Tables every service has: the outbox and the inbox. Applied before the service's own migrations.
MESSAGING_MIGRATIONS = Path(__file__).parent / "migrations"

#: Connection errors worth waiting out (the database restarting, a network blip), never dead-lettered.
TRANSIENT_DB_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ConnectionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.InterfaceError,
)


def _json_dumps(value: object) -> str:
    return json.dumps(value, default=str)  # Decimals and datetimes as strings, as on the wire


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=_json_dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Return a connection to the pool as it is: the default reset costs a round trip per release, and
    nothing here leaves session state behind (advisory locks are transaction-scoped, LISTEN has its
    own connection, settings are fixed at connect)."""


async def create_pool(dsn: str, schema: str, *, size: int = 10) -> asyncpg.Pool:
    """A pool whose connections see `schema` first: services write unqualified table names."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=1,
        max_size=size,
        init=_init_connection,
        reset=_keep_session,
        server_settings={"search_path": f"{schema},public", "application_name": f"sellerflow-{schema}"},
        command_timeout=60,
    )
    assert pool is not None
    return pool


def migration_files(directories: Sequence[Path]) -> list[tuple[str, Path]]:
    """(recorded name, file) in the order they apply: each directory's files sorted by name."""
    ordered: list[tuple[str, Path]] = []
    for directory in directories:
        for path in sorted(directory.glob("*.sql")):
            ordered.append((f"{directory.parent.name}/{path.name}", path))
    return ordered


async def migrate(dsn: str, schema: str, directories: Sequence[Path]) -> list[str]:
    """Apply pending migrations to `schema`, each in its own transaction; return the names applied.

    A session advisory lock keyed by the schema serialises replicas that start together: the
    second waits, then finds nothing left to apply.
    """
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        await conn.execute("SELECT pg_advisory_lock(hashtext($1))", f"sellerflow.migrate.{schema}")
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row["name"] for row in await conn.fetch("SELECT name FROM schema_migrations")}
        applied: list[str] = []
        for name, path in migration_files(directories):
            if name in done:
                continue
            async with conn.transaction():
                await conn.execute(path.read_text())
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
            applied.append(name)
            log.info("migration applied", extra={"migration": name, "schema": schema})
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock_all()")
        await conn.close()


async def pending_migrations(pool: asyncpg.Pool, directories: Sequence[Path]) -> list[str]:
    """Names not yet applied: /readyz is not ready while this is non-empty."""
    rows = await pool.fetch("SELECT name FROM schema_migrations")
    done = {row["name"] for row in rows}
    return [name for name, _ in migration_files(directories) if name not in done]


async def drop_schema(dsn: str, schema: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()
