"""How long the hostile-input suite's messages take to drain through all five services, next to the same
number of valid ones, in one run.

Each round registers a fresh world (`tests/support/hostile_world.py`: three sellers, listings, earlier
orders, shipments, seeds), then sends the suite's hostile messages (`tests/support/hostile.py`, the
messages around 1 MiB left out) and, as many, valid orders, buyer messages, carrier scans and
cancellation requests, one batch after the other (which goes first alternates by round). A batch is
timed from its first send to the first moment every service is idle with every record of it consumed
(`/ops/progress`, looked at every 20 ms). Prints JSON: seconds per round, medians, messages/s and the
ratio hostile / valid.

    .venv/bin/python bench/hostile_drain.py --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from shared.embedded import embedded_infrastructure
from shared.settings import SERVICE_NAMES, Settings
from tests.support.hostile_cases import hostile_cases
from tests.support.hostile_world import World, set_up
from tests.support.outside import Message, consumed, progress, send_all, wait_drained
from tests.support.platform import client, running


async def drain_seconds(settings: Settings, http: dict[str, httpx.AsyncClient], messages: Sequence[Message]) -> float:
    before = await progress(http)
    sent = Counter(m.topic for m in messages)
    started = time.monotonic()
    await send_all(settings, messages)
    drained = await wait_drained(http, at_least={t: consumed(before, t) + n for t, n in sent.items()},
                                 timeout=600, interval=0.02)
    return drained.idle_since - started


async def bench(settings: Settings, rounds: int) -> dict[str, Any]:
    figures: dict[str, list[float]] = {"hostile": [], "valid": []}
    sizes: dict[str, int] = {}
    async with running(settings, SERVICE_NAMES) as runtimes:
        http = {name: client(runtime) for name, runtime in runtimes.items()}
        try:
            for n in range(rounds):
                world = World(uuid.uuid4().hex[:6])
                await set_up(settings, http, world)
                hostile: list[Message] = list(hostile_cases(world.targets()))
                extra = len(hostile) - len(world.valid_traffic(orders=0, messages=0))
                valid: list[Message] = list(world.valid_traffic(orders=extra * 2 // 3, messages=extra - extra * 2 // 3))
                sizes = {"hostile": len(hostile), "valid": len(valid)}
                batches = [("hostile", hostile), ("valid", valid)]
                for name, messages in batches if n % 2 == 0 else batches[::-1]:
                    figures[name].append(round(await drain_seconds(settings, http, messages), 3))
        finally:
            await asyncio.gather(*(c.aclose() for c in http.values()))
    medians = {name: statistics.median(seconds) for name, seconds in figures.items()}
    return {
        "messages": sizes,
        "seconds": figures,
        "median_seconds": medians,
        "messages_per_second": {name: round(sizes[name] / medians[name]) for name in medians},
        "ratio_hostile_to_valid": round(medians["hostile"] / medians["valid"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.ERROR)  # every hostile message is logged as dead-lettered: hundreds of lines
    with tempfile.TemporaryDirectory(prefix="sellerflow-bench-") as folder, \
            embedded_infrastructure(Path(folder)) as infra:
        settings = Settings(kafka_bootstrap_servers=infra.bootstrap_servers, database_url=infra.database_url,
                            topic_prefix="hd.", db_schema_prefix="hd_", topic_partitions=4,
                            consumer_fetch_max_wait_ms=20, otel_trace_sample_ratio=0.0)
        print(json.dumps(asyncio.run(bench(settings, args.rounds)), indent=2))


if __name__ == "__main__":
    main()
