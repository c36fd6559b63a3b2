"""PostgreSQL backends of the order and listing services killed mid-transaction while orders flow: a batch
whose commit is cut off is retried or fetched again, never half-applied, never applied twice, and a
commit once acknowledged survives a crashed backend (synchronous commit: design.md section 6)."""

from __future__ import annotations

import asyncio
import os
import signal

import asyncpg
import httpx
import pytest

from shared.embedded import Infrastructure
from shared.settings import Settings
from tests.faults.marketplace import Shop, assert_nothing_lost_or_doubled, keep_sending
from tests.faults.processes import ServiceProcesses
from tests.support.kafka import eventually

pytestmark = pytest.mark.faults


#: The backends of the two services inside a statement or a transaction (a commit is a statement).
BUSY = ("SELECT pid FROM pg_stat_activity WHERE application_name = ANY($1::text[])"
        " AND state IN ('active', 'idle in transaction')")


def backend_names(settings: Settings) -> list[str]:
    return [f"sellerflow-{settings.schema_for(service)}" for service in ("order", "listing")]


async def terminate_busy_backends(dsn: str, settings: Settings, stop: asyncio.Event) -> int:
    """Every few milliseconds, `pg_terminate_backend` each busy backend; returns how many were ended."""
    killed = 0
    conn = await asyncpg.connect(dsn)
    try:
        while not stop.is_set():
            killed += await conn.fetchval(f"SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM ({BUSY}) b",
                                          backend_names(settings))
            await asyncio.sleep(0.02)
    finally:
        await conn.close()
    return killed


async def crash_a_busy_backend(dsn: str, settings: Settings) -> None:
    """SIGKILL one busy backend: PostgreSQL takes it as a crash, ends every backend and recovers from its
    write-ahead log. With asynchronous commit, commits already acknowledged were lost here."""
    conn = await asyncpg.connect(dsn)
    try:
        for _ in range(2000):  # about ten seconds of looking, under load
            if pids := await conn.fetch(BUSY, backend_names(settings)):
                os.kill(pids[0]["pid"], signal.SIGKILL)
                return
            await asyncio.sleep(0.005)
    finally:
        await conn.close()
    raise AssertionError("no busy backend to crash")


async def accepts_connections(dsn: str) -> bool:
    try:
        conn = await asyncpg.connect(dsn)
    except (OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


async def test_database_backends_killed_mid_commit_lose_and_double_nothing(
    services: ServiceProcesses, fault_settings: Settings, infra: Infrastructure, dsn: str,
    listing: httpx.AsyncClient, metrics: httpx.AsyncClient,
) -> None:
    shop = await Shop.open(fault_settings, listing)
    stop_load, stop_killing = asyncio.Event(), asyncio.Event()
    load = asyncio.create_task(keep_sending(shop, stop_load))
    killer = asyncio.create_task(terminate_busy_backends(dsn, fault_settings, stop_killing))
    await asyncio.sleep(3.0)
    stop_killing.set()
    killed = await killer
    if infra.embedded:  # the server runs on this machine: its backends are our processes to kill
        await crash_a_busy_backend(dsn, fault_settings)
        await eventually(lambda: accepts_connections(dsn), timeout=60, what="PostgreSQL recovered from the crash")
        await asyncio.to_thread(services.wait_ready, list(services.processes))  # every service ready again
    stop_load.set()
    await load
    await shop.send(50)

    assert killed > 0, "no backend was caught mid-transaction: the test proved nothing"
    await assert_nothing_lost_or_doubled(shop, dsn, metrics)
