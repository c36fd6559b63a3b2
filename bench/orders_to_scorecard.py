"""Benchmark: orders from `ingress.orders` to the seller's scorecard (not a test).

Runs the services as separate processes (as in production) on the embedded default, or on
KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL when set. Two modes (`--services`):

- `all` (default): the five services. The probe seller and the background sellers are registered
  (verified at once) with merchant listings through the public HTTP API, with stock for the whole run,
  and every order names one of those listings, so each order goes ingress -> order (placed) ->
  listing (stock reserved) -> order (confirmed, with ship-by) -> metrics, and fulfillment and
  aftersales consume it too.
- `order,metrics`: only the order and metrics services (the first slice): an order is placed and
  counted on the scorecard, never reserved or confirmed.

It measures:

1. throughput: a burst of orders published at once for 20 sellers, several rounds after a warm-up,
   median orders/s. `all`: timed until every service is idle (`/ops/progress`: every record on
   every topic consumed, no batch in flight, no unsent outbox row) and the scorecards count every
   order (a rejected order leaves the scorecard, so the count proves that every order was confirmed).
   `order,metrics`: timed until the scorecards count every order.
2. latency at a fixed rate: background orders at --rate orders/s for 50 sellers, and one probe order at
   a time for a probe seller, p50 / p99 from publishing the probe to its end condition. The
   milestones are polled one after another over HTTP (each condition only ever becomes true, and
   each follows the one before it), giving per-stage timing:
   - published: the broker acknowledged the probe (acks=all);
   - placed: the order service has it (`GET /v1/orders/{id}`);
   - reserved (`all`): the listing service holds its stock (`GET /v1/sellers/{id}/reservations/{order}`);
   - confirmed (`all`): the order service says `unshipped` with a ship-by (`GET /v1/orders/{id}`);
   - scorecard: the probe seller's scorecard counts it (`GET /v1/sellers/{id}/scorecard`,
     `sales.7d.orders`); this ends a probe.
   No scorecard field changes when the metrics service applies `order.confirmed` (a sale counts from
   `order.placed`; ship-by matters only once shipped), so in `all` a probe ends when the order
   service says confirmed AND the scorecard counts the order.

    python bench/orders_to_scorecard.py [--services all|order,metrics] [--burst 20000] [--rounds 3]
                                        [--rate 200] [--seconds 20] [--warmup 1000] [--port-base N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from platform_setup import (
    MAX_QUANTITY,
    BenchOrder,
    close_clients,
    honest_sellers,
    http_clients,
    port_env,
    register_sellers,
    spread_orders,
)

from sellerflow.platform import infrastructure
from sellerflow.simulate.doors import Doors
from sellerflow.simulate.population import SimSeller
from sellerflow.supervisor import start_services
from shared.auth import operator_token
from shared.events import topics
from shared.settings import SERVICE_NAMES, get_settings

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)  # the business clock while orders flow (a Tuesday)
REGISTERED_AT = NOW - timedelta(hours=2)  # sellers and listings (`all`)
PURCHASED_AT = NOW - timedelta(hours=1)  # every order: before the clock, inside the scorecard's 7-day window

MODES: dict[str, tuple[str, ...]] = {"all": SERVICE_NAMES, "order,metrics": ("order", "metrics")}
BURST_SELLERS, LOAD_SELLERS = 20, 50
POLL_SECONDS = 0.002  # between two HTTP reads of a probe's milestone
BURST_POLL_SECONDS = 0.05
PROBE_LIMIT_SECONDS = 120.0  # a probe that takes longer is a failure, not a sample
BURST_LIMIT_SECONDS = 3600.0


class BenchError(RuntimeError):
    pass


@dataclass(frozen=True)
class Cast:
    """Who orders: the probe seller (its own listing), the burst sellers and the background sellers."""

    probe: SimSeller
    burst: list[SimSeller]
    load: list[SimSeller]
    full: bool  # all five services: orders are reserved and confirmed

    @property
    def probe_listing(self) -> dict[str, Any]:
        return self.probe.merchant_listings[0]


# --- reads over the public HTTP API (operator token) ----------------------------------------------------


async def scorecard_orders(doors: Doors, seller_id: str) -> int:
    """Orders on the seller's scorecard: `sales.7d.orders` (an order counts from `order.placed` until rejected)."""
    card = await doors.get("metrics", f"/v1/sellers/{seller_id}/scorecard")
    return int(card["sales"].get("7d", {}).get("orders", 0))


async def counted(doors: Doors, sellers: Sequence[SimSeller]) -> int:
    total = 0
    for seller in sellers:  # one read at a time, as a dashboard would
        total += await scorecard_orders(doors, seller.seller_id)
    return total


async def order_status(doors: Doors, seller_id: str, order_id: str) -> dict[str, Any] | None:
    response = await doors.call("order", "GET", f"/v1/orders/{order_id}", params={"seller_id": seller_id},
                                ok=(200, 404))
    if response.status_code == 404:
        return None
    order: dict[str, Any] = response.json()
    if order["status"] == "rejected":
        raise BenchError(f"order {order_id} rejected: {order['rejection_reason']} {order['rejection_detail']}")
    return order


async def reservation_held(doors: Doors, seller_id: str, order_id: str) -> bool:
    response = await doors.call("listing", "GET", f"/v1/sellers/{seller_id}/reservations/{order_id}", ok=(200, 404))
    if response.status_code == 404:
        return False
    status = response.json()["status"]
    if status not in ("held", "shipped"):
        raise BenchError(f"order {order_id}: reservation {status}: {response.json()['failure_reason']}")
    return True


async def until(check: Callable[[], Awaitable[bool]], started: float, what: str, pause: float = POLL_SECONDS,
                limit: float = PROBE_LIMIT_SECONDS) -> float:
    """Poll `check` until it holds; milliseconds since `started`."""
    while not await check():
        if time.perf_counter() - started > limit:
            raise BenchError(f"{what}: not after {limit:.0f} s")
        await asyncio.sleep(pause)
    return (time.perf_counter() - started) * 1000


# --- throughput ------------------------------------------------------------------------------------------


async def burst_round(doors: Doors, cast: Cast, n: int, tag: str) -> dict[str, float]:
    """`n` orders at once; seconds to each milestone, and orders/s to the last one."""
    events = [o.event(doors) for o in spread_orders(cast.burst, n, tag, PURCHASED_AT)]
    base = await counted(doors, cast.burst)
    started = time.perf_counter()
    await doors.send(topics.INGRESS_ORDERS, events)
    await doors.flush()
    marks = {"published": time.perf_counter() - started}

    async def all_counted() -> bool:
        return await counted(doors, cast.burst) >= base + n

    marks["scorecards count all"] = await until(all_counted, started, f"burst {tag}", BURST_POLL_SECONDS,
                                                BURST_LIMIT_SECONDS) / 1000
    if cast.full:
        await doors.wait_idle(limit=BURST_LIMIT_SECONDS)
        marks["platform idle"] = time.perf_counter() - started
        missing = base + n - await counted(doors, cast.burst)
        if missing:
            raise BenchError(f"burst {tag}: {missing} of {n} orders not confirmed (rejected?)")
    marks["orders_per_s"] = n / list(marks.values())[-1]  # to the last milestone: the round's end
    return marks


# --- latency at a fixed rate ----------------------------------------------------------------------------


async def probe_once(doors: Doors, cast: Cast, n: int, base: int) -> dict[str, float]:
    """One probe order; milliseconds from publishing it to each milestone."""
    seller = cast.probe.seller_id
    probe = BenchOrder(f"probe-{n}", cast.probe, cast.probe_listing, PURCHASED_AT)
    event = probe.event(doors)
    order: dict[str, Any] | None = None

    async def placed() -> bool:
        nonlocal order
        order = await order_status(doors, seller, probe.order_id)
        return order is not None

    async def reserved() -> bool:
        return await reservation_held(doors, seller, probe.order_id)

    async def confirmed() -> bool:
        nonlocal order
        if order is None or order["status"] == "pending":
            order = await order_status(doors, seller, probe.order_id)
        return order is not None and order["status"] == "unshipped" and order["ship_by"] is not None

    async def on_scorecard() -> bool:
        return await scorecard_orders(doors, seller) >= base + n

    started = time.perf_counter()
    await doors.send(topics.INGRESS_ORDERS, [event])
    await doors.flush()
    marks = {"published": (time.perf_counter() - started) * 1000}
    marks["placed"] = await until(placed, started, f"{probe.order_id} placed")
    if cast.full:
        marks["reserved"] = await until(reserved, started, f"{probe.order_id} reserved")
        marks["confirmed"] = await until(confirmed, started, f"{probe.order_id} confirmed")
    marks["scorecard"] = await until(on_scorecard, started, f"{probe.order_id} on the scorecard")
    return marks


async def latency_run(doors: Doors, cast: Cast, rate: int, seconds: float) -> tuple[list[dict[str, float]], int]:
    """Probes one after another for `seconds` under background load; their milestones, and the load sent."""
    base = await scorecard_orders(doors, cast.probe.seller_id)
    stop = time.perf_counter() + seconds
    background = asyncio.create_task(_background_load(doors, cast.load, rate, stop))
    samples: list[dict[str, float]] = []
    try:
        while time.perf_counter() < stop:
            samples.append(await probe_once(doors, cast, len(samples) + 1, base))
    except BaseException:
        background.cancel()
        raise
    return samples, await background


async def _background_load(doors: Doors, sellers: list[SimSeller], rate: int, stop: float) -> int:
    n = 0
    started = time.perf_counter()
    while time.perf_counter() < stop:
        due = int((time.perf_counter() - started) * rate)
        if due > n:
            await doors.send(topics.INGRESS_ORDERS,
                             [o.event(doors) for o in spread_orders(sellers, due - n, "load", PURCHASED_AT, first=n)])
            n = due
        await asyncio.sleep(0.01)
    await doors.flush()
    return n


# --- the run ---------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))], 1)


async def run(bootstrap: str, urls: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    settings = get_settings()
    full = args.services == "all"
    sellers = 1 + max(BURST_SELLERS, LOAD_SELLERS)
    http = http_clients(urls)
    try:
        async with Doors(settings, bootstrap, http, operator_token(settings.auth_secret.get_secret_value()),
                         seed=1) as doors:
            if full:
                # Every listing gets stock for every order of the run, however they fall on listings.
                planned = args.warmup + args.burst * args.rounds + 2 * int(args.rate * args.seconds) + 100_000
                people = await register_sellers(doors, sellers, at=REGISTERED_AT, quantity=min(planned, MAX_QUANTITY))
            else:
                people = honest_sellers(sellers, at=NOW)  # the order service takes them unregistered
            await doors.tick(NOW)
            if full:
                await doors.wait_idle()
            cast = Cast(people[0], people[1:1 + BURST_SELLERS], people[1:1 + LOAD_SELLERS], full)
            if args.warmup:
                await burst_round(doors, cast, args.warmup, "warmup")
            rounds = [await burst_round(doors, cast, args.burst, f"r{r}") for r in range(args.rounds)]
            samples, load_sent = await latency_run(doors, cast, args.rate, args.seconds)
    finally:
        await close_clients(http)
    rates = [r["orders_per_s"] for r in rounds]
    ends = [s["scorecard"] for s in samples]
    milestones = list(samples[0])
    return {
        "mode": args.services, "services": list(MODES[args.services]),
        "burst_orders": args.burst,
        "burst_end": "every service idle (/ops/progress) and the scorecards count every order" if full
        else "the scorecards count every order",
        "rounds_orders_per_s": [round(r) for r in rates],
        "median_orders_per_s": round(statistics.median(rates)),
        "rounds_seconds": [{k: round(v, 2) for k, v in r.items() if k != "orders_per_s"} for r in rounds],
        "fixed_rate": args.rate, "background_orders_sent": load_sent,
        "latency_end": "order service says unshipped (confirmed, ship-by set) and the scorecard counts the order"
        if full else "the scorecard counts the order",
        "latency_samples": len(samples),
        "latency_p50_ms": percentile(ends, 0.5),
        "latency_p99_ms": percentile(ends, 0.99),
        "milestones_ms_since_publish": {m: {"p50": percentile([s[m] for s in samples], 0.5),
                                            "p99": percentile([s[m] for s in samples], 0.99)} for m in milestones},
        "stage_median_ms": {f"{a} -> {b}": round(statistics.median(s[b] - s[a] for s in samples), 1)
                            for a, b in pairwise(milestones)},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", choices=sorted(MODES), default="all",
                        help="all five services (default), or only order and metrics (the first slice)")
    parser.add_argument("--burst", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=int, default=1_000, help="orders of the warm-up burst (0: none)")
    parser.add_argument("--port-base", type=int, default=None,
                        help="service ports port-base+0 ... (listing, order, fulfillment, aftersales, metrics); "
                             "default: the usual 8001-8005")
    args = parser.parse_args()
    if args.burst < 1 or args.rounds < 1 or args.rate < 0 or args.seconds <= 0:
        parser.error("--burst and --rounds at least 1, --rate not negative, --seconds positive")
    names = MODES[args.services]
    settings = get_settings()
    with infrastructure(settings, announce=False) as infra, \
            (Path(infra.data_dir) / "bench-services.log").open("w") as log:
        services = start_services({**infra.env(), **port_env(names, args.port_base)}, names, log=log)
        try:
            services.wait_ready()
            result = asyncio.run(run(infra.bootstrap_servers, {n: services.url(n) for n in names}, args))
        finally:
            services.stop()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
