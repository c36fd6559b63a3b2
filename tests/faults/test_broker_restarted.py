"""The broker restarted under load and back empty (the embedded Tansu keeps nothing): every service
notices, answers 503 until it has re-declared its topics and re-joined, then flows again; orders sent
after the restart are all confirmed, and nothing is applied twice."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.embedded import EmbeddedKafka, Infrastructure
from shared.runtime import ServiceRuntime
from tests.conftest import isolated_settings
from tests.faults.marketplace import (
    Shop,
    assert_nothing_lost_or_doubled,
    keep_sending,
    order_statuses,
    wait_until_all_confirmed,
)
from tests.support.kafka import eventually
from tests.support.platform import client, running

pytestmark = pytest.mark.faults

SERVICES = ("listing", "order", "metrics")


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[EmbeddedKafka]:
    """A broker of this test's own: restarting the session's would empty it under every other test."""
    kafka = EmbeddedKafka(log_path=tmp_path / "tansu.log")
    kafka.start()
    yield kafka
    kafka.stop()


async def readiness(http: dict[str, httpx.AsyncClient]) -> dict[str, int]:
    answers = {name: await c.get("/readyz") for name, c in http.items()}
    LAST_READINESS.update({name: answer.json() for name, answer in answers.items()})
    return {name: answer.status_code for name, answer in answers.items()}


#: What each service said last: a failing test shows why one was not ready.
LAST_READINESS: dict[str, object] = {}


async def test_a_broker_back_empty_is_recovered_from_and_orders_flow_again(
    own_broker: EmbeddedKafka, infra: Infrastructure
) -> None:
    settings = isolated_settings(infra).model_copy(
        update={"kafka_bootstrap_servers": own_broker.bootstrap_servers, "broker_check_seconds": 0.5})
    dsn = infra.database_url
    async with running(settings, SERVICES) as runtimes:
        http = {name: client(runtime) for name, runtime in runtimes.items()}
        shop = await Shop.open(settings, http["listing"])
        await shop.send(60)
        await wait_until_all_confirmed(shop, dsn)
        assert set((await readiness(http)).values()) == {200}

        stop = asyncio.Event()
        load = asyncio.create_task(keep_sending(shop, stop))
        await asyncio.sleep(0.5)
        shop.in_doubt = True  # from here the old broker may take acknowledged orders with it
        await asyncio.to_thread(own_broker.stop)
        stored = await order_statuses(dsn, settings, shop.seller_id)
        shop.doubtful.update({o: q for o, q in shop.sent.items() if o not in stored})  # never reached a service
        shop.sent = {o: q for o, q in shop.sent.items() if o in stored}

        await asyncio.to_thread(own_broker.start)  # same port, new cluster id, nothing in it
        shop.in_doubt = False  # what the new broker acknowledges must all arrive

        async def not_ready() -> bool:
            return 503 in (await readiness(http)).values()

        async def all_ready() -> bool:
            return set((await readiness(http)).values()) == {200}

        await eventually(not_ready, timeout=30, what="a service answers 503 while it recovers")
        try:
            await eventually(all_ready, timeout=120, what="every service ready again")
        except AssertionError as error:
            raise AssertionError(f"{error}; they said {LAST_READINESS}") from None
        assert all(_recoveries(runtime) >= 1 for runtime in runtimes.values())
        stop.set()
        await load
        await shop.send(60)

        await assert_nothing_lost_or_doubled(shop, dsn, http["metrics"])
        for c in http.values():
            await c.aclose()


def _recoveries(runtime: ServiceRuntime) -> int:
    guard = runtime._guard
    return guard.recoveries if guard is not None else 0
