"""`sellerflow demo`: the platform on the embedded default, a few thousand orders, every seller's scorecard.

Everything goes through the public doors: orders on `ingress.orders`, a tick on `clock.events`,
scorecards over HTTP. The seed fixes the orders, so two runs print the same table.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
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

#: The demo's business "now": fixed, so the table does not depend on the day it runs.
DEMO_NOW = datetime(2026, 3, 31, 18, 0, tzinfo=UTC)
CITIES = [("Seattle", "WA", "98101"), ("Austin", "TX", "73301"), ("Boston", "MA", "02108"), ("Denver", "CO", "80202")]


@dataclass(frozen=True)
class DemoOrder:
    event: Event[Any]
    total: Decimal


def make_orders(sellers: int, orders: int, seed: int) -> list[DemoOrder]:
    rng = random.Random(seed)
    seller_ids = [f"SELLER-{i:03d}" for i in range(1, sellers + 1)]
    weights = [rng.uniform(0.2, 3.0) for _ in seller_ids]  # some sellers sell far more than others
    made = []
    for n in range(orders):
        seller = rng.choices(seller_ids, weights)[0]
        purchased = DEMO_NOW - timedelta(minutes=rng.randrange(0, 29 * 24 * 60))  # inside the 30-day window
        lines: list[dict[str, Any]] = [
            {"listing_id": f"{seller}-L{rng.randrange(1, 20)}", "quantity": rng.randint(1, 3),
             "unit_price": {"amount": Decimal(rng.randint(299, 19999)) / 100, "currency": "USD"}}
            for _ in range(rng.randint(1, 3))
        ]
        city, region, postal = rng.choice(CITIES)
        order_id = f"ORD-{seed}-{n:06d}"
        data = CheckoutOrderPlaced.model_validate({
            "order_id": order_id, "buyer_id": f"BUYER-{rng.randrange(1, 5000)}", "lines": lines,
            "currency": "USD", "purchased_at": purchased,
            "ship_to": {"name": "Demo Buyer", "lines": ["1 Demo Way"], "city": city, "region": region,
                        "postal_code": postal, "country": "US"},
            "shipping_speed": rng.choice(["standard", "standard", "expedited", "priority"]),
            "fulfillment_channel": rng.choice(["merchant", "marketplace"]),
        })
        event = new_event(data, seller_id=seller, subject=order_id, time=purchased,
                          source="https://storefront.example/demo")
        total = sum((Decimal(str(line["unit_price"]["amount"])) * line["quantity"] for line in lines), Decimal(0))
        made.append(DemoOrder(event, total))
    return made


async def publish(bootstrap: str, topic_of: Any, orders: list[DemoOrder]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        acks = [await producer.send(topic_of(topics.INGRESS_ORDERS), o.event.to_bytes(), key=o.event.key)
                for o in orders]
        now = tick(DEMO_NOW)
        acks.append(await producer.send(topic_of(topics.CLOCK_EVENTS), now.to_bytes(), key=now.key))
        await asyncio.gather(*acks)
    finally:
        await producer.stop()


def fetch_scorecard(base: str, token: str, seller: str) -> dict[str, Any]:
    request = urllib.request.Request(f"{base}/v1/sellers/{seller}/scorecard",
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            card: dict[str, Any] = json.load(response)
            return card
    except urllib.error.HTTPError as error:
        if error.code in (404, 409):  # no order of this seller consumed yet
            return {"seller_id": seller, "sales": {}}
        raise


def print_table(cards: dict[str, dict[str, Any]]) -> None:
    header = f"{'seller':<12}{'orders 7d':>10}{'gross 7d':>14}{'orders 30d':>11}{'gross 30d':>14}{'avg order':>11}"
    print(header)
    print("-" * len(header))
    for seller, card in sorted(cards.items()):
        w7, w30 = card["sales"]["7d"], card["sales"]["30d"]
        print(f"{seller:<12}{w7['orders']:>10}{w7['gross_sales'].get('USD', '0'):>14}{w30['orders']:>11}"
              f"{w30['gross_sales'].get('USD', '0'):>14}{w30['average_order_value'].get('USD', '-'):>11}")


def run_demo(*, sellers: int, orders: int, seed: int) -> int:
    settings = get_settings()
    demo_orders = make_orders(sellers, orders, seed)
    expected = {o.event.sellerid for o in demo_orders}
    with infrastructure(settings) as infra:
        log_path = Path(infra.data_dir) / "services.log"
        print(f"starting the five services (logs: {log_path}) ...")
        with log_path.open("a") as log:
            platform = start_services(infra.env(), log=log)
            try:
                platform.wait_ready()
                print(f"platform ready; publishing {len(demo_orders)} orders for {len(expected)} sellers ...")
                started = time.monotonic()
                asyncio.run(publish(infra.bootstrap_servers, settings.topic, demo_orders))
                token = operator_token(settings.auth_secret.get_secret_value())
                cards = _wait_for_scorecards(platform.url("metrics"), token, demo_orders)
                elapsed = time.monotonic() - started
                print_table(cards)
                print(f"\n{len(demo_orders)} orders from ingress to scorecards in {elapsed:.1f} s "
                      f"({len(demo_orders) / elapsed:.0f} orders/s); business now {DEMO_NOW.isoformat()}")
                return 0
            finally:
                print("stopping the platform ...")
                platform.stop()


def _wait_for_scorecards(base: str, token: str, orders: list[DemoOrder], timeout: float = 180) -> dict[str, Any]:
    wanted: dict[str, int] = {}
    for order in orders:
        wanted[order.event.sellerid] = wanted.get(order.event.sellerid, 0) + 1
    deadline = time.monotonic() + timeout
    while True:
        cards = {seller: fetch_scorecard(base, token, seller) for seller in wanted}
        counted = {s: c["sales"].get("30d", {}).get("orders", 0) for s, c in cards.items()}
        if counted == wanted:
            return cards
        if time.monotonic() > deadline:
            raise TimeoutError(f"scorecards incomplete after {timeout:.0f} s: {sum(counted.values())} of {len(orders)}")
        time.sleep(0.5)
