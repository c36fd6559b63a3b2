"""Benchmark: full order life cycles per second through all five services (not a test).

A life cycle: a storefront order on `ingress.orders` -> stock reserved (listing) -> confirmed with
promises (order) -> the seller ships over HTTP (fulfillment) -> the carrier's scans on
`ingress.carrier` -> delivered -> every service's view updated, the seller's scorecard included.
The five services run as separate processes (as in production) on the embedded default; the
benchmark also reports each service's share of the CPU time they used, and which stage dominates.

    python bench/lifecycle.py [--sellers 20] [--orders 2000] [--rounds 3] [--bulk]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import time
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
from platform_setup import BenchOrder, close_clients, http_clients, register_sellers, spread_orders

from sellerflow.platform import infrastructure
from sellerflow.simulate import behaviour
from sellerflow.simulate.doors import Doors
from sellerflow.simulate.population import SimSeller
from sellerflow.supervisor import start_services
from shared.auth import operator_token
from shared.events import topics
from shared.events.ingress import CarrierScanRecorded
from shared.settings import get_settings

START = datetime(2026, 1, 5, tzinfo=UTC)


async def one_round(doors: Doors, people: list[SimSeller], orders: int, tag: str, now: datetime, *,
                    bulk: bool = False) -> dict[str, float]:
    """`orders` life cycles; seconds per stage (each stage ends when the whole platform is idle)."""
    stages: dict[str, float] = {}
    drafts = spread_orders(people, orders, tag, now)
    started = time.perf_counter()
    await doors.send(topics.INGRESS_ORDERS, [d.event(doors) for d in drafts])
    await doors.flush()
    await doors.wait_idle()
    stages["order to confirmed"] = time.perf_counter() - started

    mark = time.perf_counter()
    shipped_at = now + timedelta(hours=2)
    numbers: dict[str, str] = {}

    def confirmation(draft: BenchOrder) -> dict[str, Any]:
        number = behaviour.tracking_number(behaviour.rng_for(0, draft.order_id), "ups")
        numbers[draft.order_id] = number
        return {"carrier": "ups", "tracking_number": number, "at": shipped_at.isoformat(),
                "lines": [{"listing_id": draft.listing["listing_id"], "quantity": 1}]}

    async def ship(draft: BenchOrder) -> None:
        await doors.post("fulfillment", f"/v1/orders/{draft.order_id}/shipments", confirmation(draft),
                         token=draft.seller.token)

    async def ship_all(seller: SimSeller) -> None:  # one seller's shipments in one call
        mine = [d for d in drafts if d.seller is seller]
        if mine:
            await doors.post("fulfillment", "/v1/shipment-confirmations", {"confirmations": [
                {"order_id": d.order_id, **confirmation(d)} for d in mine]}, token=seller.token)

    semaphore = asyncio.Semaphore(16)

    async def bounded(call: Awaitable[None]) -> None:
        async with semaphore:
            await call

    calls = [ship_all(seller) for seller in people] if bulk else [ship(d) for d in drafts]
    await asyncio.gather(*(bounded(call) for call in calls))
    await doors.wait_idle()
    stages["shipping over HTTP"] = time.perf_counter() - mark

    mark = time.perf_counter()
    scans = []
    for draft in drafts:
        for status, hours in (("in_transit", 6), ("delivered", 50)):
            scan = CarrierScanRecorded(carrier="ups", tracking_number=numbers[draft.order_id], status=status,
                                       scanned_at=now + timedelta(hours=hours))
            scans.append(doors.event(scan, seller_id=draft.seller.seller_id, subject=draft.order_id,
                                     time=scan.scanned_at or now, source="https://carrier.example"))
    await doors.send(topics.INGRESS_CARRIER, scans)
    await doors.flush()
    await doors.wait_idle()
    stages["scans to delivered"] = time.perf_counter() - mark
    stages["total"] = time.perf_counter() - started
    return stages


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    used = {}
    for name, pid in pids.items():
        times = psutil.Process(pid).cpu_times()
        used[name] = times.user + times.system
    return used


async def run(bootstrap: str, urls: dict[str, str], pids: dict[str, int], args: argparse.Namespace
              ) -> dict[str, Any]:
    settings = get_settings()
    http = http_clients(urls)
    try:
        async with Doors(settings, bootstrap, http, operator_token(settings.auth_secret.get_secret_value()),
                         seed=1) as doors:
            people = await register_sellers(doors, args.sellers, at=START)
            await one_round(doors, people, 200, "warmup", START + timedelta(hours=1), bulk=args.bulk)
            before = cpu_seconds(pids)
            rounds = [await one_round(doors, people, args.orders, f"r{r}", START + timedelta(days=r + 1),
                                      bulk=args.bulk) for r in range(args.rounds)]
            after = cpu_seconds(pids)
    finally:
        await close_clients(http)
    used = {name: after[name] - before[name] for name in pids}
    total_cpu = sum(used.values())
    rates = [args.orders / r["total"] for r in rounds]
    return {
        "orders_per_round": args.orders, "sellers": args.sellers,
        "shipping": "one bulk call per seller" if args.bulk else "one call per order, 16 at a time",
        "life_cycles_per_s_rounds": [round(r) for r in rates],
        "median_life_cycles_per_s": round(statistics.median(rates)),
        "median_stage_seconds": {stage: round(statistics.median(r[stage] for r in rounds), 2) for stage in rounds[0]},
        "cpu_share": {name: f"{100 * seconds / total_cpu:.0f}%" for name, seconds in
                      sorted(used.items(), key=lambda kv: -kv[1])},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sellers", type=int, default=20)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bulk", action="store_true",
                        help="each seller confirms its shipments in one call (POST /v1/shipment-confirmations)")
    args = parser.parse_args()
    settings = get_settings()
    with infrastructure(settings, announce=False) as infra, \
            (Path(infra.data_dir) / "bench-services.log").open("w") as log:
        services = start_services(infra.env(), log=log)
        try:
            services.wait_ready()
            urls = {name: services.url(name) for name in services.processes}
            pids = {name: p.pid for name, p in services.processes.items()}
            result = asyncio.run(run(infra.bootstrap_servers, urls, pids, args))
        finally:
            services.stop()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
