"""A service process SIGKILLed mid-batch: no graceful stop, no offset commit, no outbox pass finished.
Started again, it re-reads what it had not committed; the inbox and the outbox make each effect happen once."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from shared.settings import Settings
from tests.faults.marketplace import Shop, assert_nothing_lost_or_doubled, keep_sending
from tests.faults.processes import ServiceProcesses

pytestmark = pytest.mark.faults


async def test_the_order_service_killed_mid_batch_loses_and_doubles_nothing(
    services: ServiceProcesses, fault_settings: Settings, dsn: str, listing: httpx.AsyncClient,
    metrics: httpx.AsyncClient,
) -> None:
    shop = await Shop.open(fault_settings, listing)
    await shop.send(100)
    stop = asyncio.Event()
    load = asyncio.create_task(keep_sending(shop, stop))
    await asyncio.sleep(1.0)  # batches in flight through order and listing
    services.kill("order")
    await asyncio.sleep(1.0)  # orders keep arriving while it is down
    stop.set()
    await load
    await asyncio.to_thread(services.start, ["order"])
    await shop.send(50)

    await assert_nothing_lost_or_doubled(shop, dsn, metrics)
