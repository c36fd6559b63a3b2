"""One seller's shop for a fault test, and the ledger that proves nothing was lost or doubled.

Orders go in through the storefront's door (`ingress.orders`), each naming the shop's one listing;
the effects are counted where they land: the order service's orders, the listing's reserved units,
the events on `order.events` (by event id, per order) and the seller's scorecard.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from shared.clock import tick
from shared.events import Event, topics
from shared.settings import Settings
from tests.integration.listing.helpers import listing_body, registration
from tests.support.factories import T0, checkout_order
from tests.support.kafka import eventually, publish_events

#: Enough for every order a fault test sends: a refused reservation would hide a lost one.
STOCK = 100_000
PLACED = "sellerflow.order.placed.v1"
CONFIRMED = "sellerflow.order.confirmed.v1"


@dataclass
class Shop:
    """A verified seller with one merchant listing, and every order sent to it (order id -> units).

    While `in_doubt` is set (the broker itself is being lost), what is sent may be lost with the broker
    after it acknowledged it; a batch the broker refused may have been taken in part. Those orders are
    kept apart, and only checked never to be doubled.
    """

    settings: Settings
    seller_id: str
    listing_id: str
    sent: dict[str, int] = field(default_factory=dict)
    doubtful: dict[str, int] = field(default_factory=dict)
    in_doubt: bool = False
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    @classmethod
    async def open(cls, settings: Settings, listing: httpx.AsyncClient) -> Shop:
        """Register through the listing service's HTTP API (`listing` carries the operator's token)."""
        registered = await _post(listing, "/v1/sellers", json=registration())
        assert registered.status_code == 201, registered.text
        seller = registered.json()
        headers = {"Authorization": f"Bearer {seller['token']}"}
        created = await _post(listing, f"/v1/sellers/{seller['seller_id']}/listings", headers=headers,
                              json=listing_body(quantity=STOCK))
        assert created.status_code == 201, created.text
        return cls(settings, seller["seller_id"], created.json()["listing_id"])

    def orders(self, count: int) -> list[Event[Any]]:
        made = [checkout_order(self.seller_id, listing_id=self.listing_id, quantity=self.rng.randint(1, 3))
                for _ in range(count)]
        return made

    async def send(self, count: int, *, per_batch: int = 50) -> None:
        """`count` orders, a batch at a time, each batch acknowledged by the broker before it counts as sent."""
        for start in range(0, count, per_batch):
            batch = self.orders(min(per_batch, count - start))
            units = {o.data.order_id: o.data.lines[0].quantity for o in batch}
            doubtful = self.in_doubt
            try:
                await publish_events(self.settings, topics.INGRESS_ORDERS, batch)
            except KafkaError:  # refused (a broker just restarted says so): perhaps acknowledged in part
                self.doubtful.update(units)
                continue
            (self.doubtful if doubtful or self.in_doubt else self.sent).update(units)


async def order_statuses(dsn: str, settings: Settings, seller_id: str) -> dict[str, str]:
    """order id -> status, as the order service stored it."""
    rows = await _fetch(dsn, f'SELECT order_id, status FROM "{settings.schema_for("order")}".orders'
                             " WHERE seller_id = $1", seller_id)
    return {row["order_id"]: row["status"] for row in rows}


async def reserved_units(dsn: str, settings: Settings, listing_id: str) -> tuple[int, int]:
    """(on hand, reserved) of the listing."""
    rows = await _fetch(dsn, f'SELECT on_hand, reserved FROM "{settings.schema_for("listing")}".listings'
                             " WHERE listing_id = $1", listing_id)
    return rows[0]["on_hand"], rows[0]["reserved"]


async def _fetch(dsn: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def whole_topic(settings: Settings, logical_topic: str) -> list[bytes]:
    """Every record value of a topic from the beginning, read until the topic has nothing more."""
    assert settings.kafka_bootstrap_servers
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False,
                                fetch_max_wait_ms=50)
    await consumer.start()
    try:
        name = settings.topic(logical_topic)
        partitions = [TopicPartition(name, p) for p in sorted(consumer.partitions_for_topic(name) or ())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        values: list[bytes] = []
        quiet = 0
        while quiet < 3:  # three empty fetches in a row: the end
            batch = await consumer.getmany(timeout_ms=300, max_records=10_000)
            got = [record.value for part in batch.values() for record in part if record.value is not None]
            values += got
            quiet = 0 if got else quiet + 1
        return values
    finally:
        await consumer.stop()


async def wait_until_all_confirmed(shop: Shop, dsn: str, *, timeout: float = 120.0) -> None:
    async def confirmed() -> bool:
        statuses = await order_statuses(dsn, shop.settings, shop.seller_id)
        return all(statuses.get(order_id) == "unshipped" for order_id in shop.sent)

    await eventually(confirmed, timeout=timeout, what=f"all {len(shop.sent)} orders of {shop.seller_id} confirmed")


async def order_events_by_order(settings: Settings, seller_id: str, orders: Collection[str]
                                ) -> dict[str, dict[str, set[str]]]:
    """order id -> event type (with the new status of a status change) -> the distinct event ids on
    `order.events`, once every order's placed and confirmed events are there (a redelivery repeats an
    id; a doubled effect would add a second one)."""
    found: dict[str, dict[str, set[str]]] = {}

    async def all_relayed() -> bool:
        nonlocal found
        found = defaultdict(lambda: defaultdict(set))
        for value in await whole_topic(settings, topics.ORDER_EVENTS):
            event = json.loads(value)
            if event.get("sellerid") == seller_id:
                data = event["data"]
                kind = event["type"] + (f":{data['new_status']}" if "new_status" in data else "")
                found[data["order_id"]][kind].add(event["id"])
        return all(PLACED in found.get(o, {}) and CONFIRMED in found.get(o, {}) for o in orders)

    await eventually(all_relayed, timeout=60, what="every order's placed and confirmed events on order.events")
    return found


async def assert_nothing_lost_or_doubled(shop: Shop, dsn: str, metrics: httpx.AsyncClient) -> None:
    """Every order sent is confirmed exactly once: one order row, its units reserved once, one placed
    and one confirmed event, and counted once on the scorecard. An order in doubt (sent while the
    broker was lost) may be missing, but if it is there it obeys the same rules."""
    await wait_until_all_confirmed(shop, dsn)
    statuses = await order_statuses(dsn, shop.settings, shop.seller_id)
    missing = set(shop.sent) - set(statuses)
    unknown = set(statuses) - set(shop.sent) - set(shop.doubtful)
    assert not missing and not unknown, f"lost: {sorted(missing)[:5]}; never sent: {sorted(unknown)[:5]}"
    assert set(statuses.values()) == {"unshipped"}, "every order that arrived is confirmed"
    stored = {order_id: shop.sent.get(order_id) or shop.doubtful[order_id] for order_id in statuses}
    units = sum(stored.values())

    on_hand, reserved = await reserved_units(dsn, shop.settings, shop.listing_id)
    assert (on_hand, reserved) == (STOCK, units), "stock reserved exactly once for every unit ordered"

    events = await order_events_by_order(shop.settings, shop.seller_id, stored)
    assert sorted(events) == sorted(stored), "an order event of an order that does not exist"
    doubled = {order_id: kinds for order_id, kinds in events.items() if any(len(ids) > 1 for ids in kinds.values())}
    assert not doubled, f"{len(doubled)} orders with an event published twice under different ids"

    await publish_events(shop.settings, topics.CLOCK_EVENTS, [tick(T0 + timedelta(hours=1))])

    async def scorecard_counts_each_order_once() -> bool:
        card = (await metrics.get(f"/v1/sellers/{shop.seller_id}/scorecard")).json()
        sales = card["sales"].get("30d")
        return sales is not None and (sales["orders"], sales["units"]) == (len(stored), units)

    await eventually(scorecard_counts_each_order_once, timeout=60, what="the scorecard counts every order once")


async def keep_sending(shop: Shop, stop: asyncio.Event, *, per_batch: int = 20) -> None:
    """Orders in small batches until `stop`: the load a fault lands in."""
    while not stop.is_set():
        await shop.send(per_batch, per_batch=per_batch)
        await asyncio.sleep(0.05)


async def _post(http: httpx.AsyncClient, path: str, **kwargs: Any) -> httpx.Response:
    """A POST retried while the service answers 503 (its database restarting after an earlier fault)."""
    for _ in range(60):
        response = await http.post(path, **kwargs)
        if response.status_code != 503:
            return response
        await asyncio.sleep(1.0)
    return response
