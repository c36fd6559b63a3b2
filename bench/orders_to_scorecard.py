"""Benchmark: orders from `ingress.orders` to the seller's scorecard (not a test).

Runs the order and metrics services as separate processes (as in production) on the embedded
default, or on KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL when set, and measures:

1. throughput: a burst of orders published at once, timed until the metrics service has counted
   every one (orders/s), several rounds, median;
2. latency at a fixed rate: background orders at --rate orders/s for many sellers, and one probe
   order at a time for a probe seller whose scorecard is polled until it counts the probe
   (ingress -> order service -> outbox -> order.events -> metrics -> HTTP read), p50 / p99.

    python bench/orders_to_scorecard.py [--burst 20000] [--rounds 3] [--rate 200] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from sellerflow.platform import infrastructure
from sellerflow.supervisor import start_services
from shared.auth import operator_token
from shared.clock import tick
from shared.events import Event, new_event, topics
from shared.events.ingress import CheckoutOrderPlaced
from shared.settings import get_settings

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


def order(seller: str, order_id: str) -> Event[Any]:
    data = CheckoutOrderPlaced.model_validate({
        "order_id": order_id, "buyer_id": "B-1",
        "lines": [{"listing_id": "L-1", "quantity": 1, "unit_price": {"amount": "10.00", "currency": "USD"}}],
        "currency": "USD", "purchased_at": NOW - timedelta(hours=1),
        "ship_to": {"name": "Bench Buyer", "lines": ["1 Main St"], "city": "Springfield", "country": "US"},
        "shipping_speed": "standard", "fulfillment_channel": "merchant",
    })
    return new_event(data, seller_id=seller, subject=order_id, time=NOW - timedelta(hours=1),
                     source="https://bench.example")


class Scorecards:
    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token

    def orders(self, seller: str) -> int:
        request = urllib.request.Request(f"{self.base}/v1/sellers/{seller}/scorecard",
                                         headers={"Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            card = json.load(response)
        return int(card["sales"].get("7d", {}).get("orders", 0))


async def send(producer: AIOKafkaProducer, topic: str, events: list[Event[Any]]) -> None:
    acks = [await producer.send(topic, e.to_bytes(), key=e.key) for e in events]
    await asyncio.gather(*acks)


async def burst_round(producer: AIOKafkaProducer, topic: str, cards: Scorecards, n: int, tag: str) -> float:
    sellers = [f"BURST-{tag}-{i:02d}" for i in range(20)]
    events = [order(sellers[i % 20], f"{tag}-{i}") for i in range(n)]
    started = time.perf_counter()
    await send(producer, topic, events)
    while sum(await asyncio.to_thread(lambda: [cards.orders(s) for s in sellers])) < n:  # noqa: ASYNC110 (polls HTTP)
        await asyncio.sleep(0.05)
    return n / (time.perf_counter() - started)


async def latency_run(producer: AIOKafkaProducer, topic: str, cards: Scorecards, rate: int, seconds: float
                      ) -> list[float]:
    stop = time.perf_counter() + seconds
    background = asyncio.create_task(_background_load(producer, topic, rate, stop))
    samples: list[float] = []
    n = 0
    while time.perf_counter() < stop:
        n += 1
        started = time.perf_counter()
        await send(producer, topic, [order("PROBE", f"probe-{n}")])
        while await asyncio.to_thread(cards.orders, "PROBE") < n:  # noqa: ASYNC110 (polls HTTP)
            await asyncio.sleep(0.002)
        samples.append((time.perf_counter() - started) * 1000)
    await background
    return samples


async def _background_load(producer: AIOKafkaProducer, topic: str, rate: int, stop: float) -> None:
    n = 0
    started = time.perf_counter()
    while time.perf_counter() < stop:
        due = int((time.perf_counter() - started) * rate)
        if due > n:
            await send(producer, topic, [order(f"LOAD-{i % 50:02d}", f"load-{i}") for i in range(n, due)])
            n = due
        await asyncio.sleep(0.01)


async def run(bootstrap: str, metrics_url: str, args: argparse.Namespace) -> dict[str, Any]:
    settings = get_settings()
    cards = Scorecards(metrics_url, operator_token(settings.auth_secret.get_secret_value()))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        now = tick(NOW)
        await producer.send_and_wait(settings.topic(topics.CLOCK_EVENTS), now.to_bytes(), key=now.key)
        topic = settings.topic(topics.INGRESS_ORDERS)
        await burst_round(producer, topic, cards, 1000, "warmup")
        rates = [await burst_round(producer, topic, cards, args.burst, f"r{r}") for r in range(args.rounds)]
        samples = await latency_run(producer, topic, cards, args.rate, args.seconds)
    finally:
        await producer.stop()
    ordered = sorted(samples)
    return {
        "burst_orders": args.burst, "rounds_orders_per_s": [round(r) for r in rates],
        "median_orders_per_s": round(statistics.median(rates)),
        "fixed_rate": args.rate, "latency_samples": len(samples),
        "latency_p50_ms": round(ordered[len(ordered) // 2], 1),
        "latency_p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--burst", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    settings = get_settings()
    with infrastructure(settings, announce=False) as infra:
        log_path = Path(infra.data_dir) / "bench-services.log"
        with log_path.open("w") as log:
            services = start_services(infra.env(), ["order", "metrics"], log=log)
            try:
                services.wait_ready()
                result = asyncio.run(run(infra.bootstrap_servers, services.url("metrics"), args))
            finally:
                services.stop()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
