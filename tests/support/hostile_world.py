"""The registered world the hostile messages meet, and the valid traffic they are interleaved with.

`World(tag)` names everything (sellers, SKUs, orders, parcels) from its tag, so the cases can be made
before the platform runs; `set_up` makes it real through the public doors only (the listing HTTP API,
ingress topics, the fulfillment HTTP API, a clock tick) and waits until every service has applied it.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import httpx

from shared.clock import tick
from shared.events import topics
from shared.settings import Settings
from tests.integration.listing.helpers import listing_body, registration
from tests.support.factories import T0
from tests.support.hostile import (
    BUYER,
    CANCELLATION,
    CANCELLATION_CASES,
    CARRIER,
    MESSAGE,
    ORDER_PLACED,
    ORDERS,
    SCAN,
    Probe,
    Targets,
    cancellation_data,
    encode,
    envelope,
    message_data,
    order_data,
    scan_data,
    sdk_message,
)
from tests.support.kafka import publish, publish_events
from tests.support.outside import wait_drained

STOCK = 1000
VALID_HEADER = "x-valid-message"


@dataclass(frozen=True)
class Valid:
    """A valid message of the interleaved traffic and what it must leave behind."""

    name: str
    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes | None], ...] = ()
    probe: Probe | None = None
    sdk: bool = False  # made with the official CloudEvents SDK
    quantity: int = 0  # units an order reserves

    def all_headers(self) -> list[tuple[str, bytes | None]]:
        return [*self.headers, (VALID_HEADER, self.name.encode())]


def _dhl(n: int) -> str:
    """A DHL Express number with its check digit (the first 9 digits mod 7)."""
    body = f"{n:09d}"
    return body + str(int(body) % 7)


@dataclass(frozen=True)
class World:
    tag: str
    now: datetime = T0  # the one clock tick: every valid time lies before it

    @property
    def seller(self) -> str:
        return f"HS-A-{self.tag}"

    @property
    def other(self) -> str:
        return f"HS-B-{self.tag}"

    @property
    def unrelated(self) -> str:
        return f"HS-U-{self.tag}"

    @property
    def unknown(self) -> str:
        return f"HS-Z-{self.tag}"

    @property
    def skus(self) -> dict[str, str]:
        return {name: f"HSKU-{name}-{self.tag}" for name in ("valid", "hostile", "sdk", "other", "unrelated")}

    @property
    def placed_at(self) -> datetime:
        return self.now - timedelta(hours=3)

    @property
    def shipped_at(self) -> datetime:
        return self.now - timedelta(minutes=90)

    @property
    def shipped(self) -> list[str]:
        """Shipped orders: 0 takes the refused scans, 1 the seed scan, 2 the valid scans among the cases,
        the rest the valid traffic's scans."""
        return [f"HO-ship-{self.tag}-{i}" for i in range(7)]

    @cached_property
    def parcels(self) -> dict[str, tuple[str, str]]:
        base = random.Random(self.tag).randrange(10**8, 9 * 10**8)
        return {order_id: ("dhl", _dhl(base + i)) for i, order_id in enumerate(self.shipped)}

    @property
    def hostile_open(self) -> list[str]:
        return [f"HO-open-{self.tag}-{i}" for i in range(CANCELLATION_CASES)]

    @property
    def valid_open(self) -> list[str]:
        return [f"VO-open-{self.tag}-{i}" for i in range(3)]

    @cached_property
    def seed_order(self) -> dict[str, Any]:
        order_id = f"HO-seed-{self.tag}"
        return self.order(self.seller, order_id, self.skus["hostile"], self.placed_at)

    @cached_property
    def seed_message(self) -> dict[str, Any]:
        message_id = f"HM-seed-{self.tag}"
        return envelope(MESSAGE, self.seller, message_id, message_data(
            message_id, self.hostile_open[0], "Is it shipped yet?", at=self.placed_at), at=self.placed_at)

    @cached_property
    def seed_scan(self) -> dict[str, Any]:
        carrier, number = self.parcels[self.shipped[1]]
        at = self.shipped_at + timedelta(minutes=5)
        return envelope(SCAN, self.seller, number, scan_data(carrier, number, "in_transit", at=at), at=at)

    def targets(self) -> Targets:
        return Targets(seller=self.seller, other_seller=self.other, unknown_seller=self.unknown,
                       sku=self.skus["hostile"], open_orders=tuple(self.hostile_open), open_order_buyer="B-1",
                       parcel=self.parcels[self.shipped[0]], clean_parcel=self.parcels[self.shipped[2]],
                       shipped_at=self.shipped_at,
                       seed_order=self.seed_order, seed_message=self.seed_message, seed_scan=self.seed_scan,
                       now=self.now, tag=self.tag)

    @staticmethod
    def order(seller: str, order_id: str, sku: str, at: datetime, quantity: int = 1) -> dict[str, Any]:
        return envelope(ORDER_PLACED, seller, order_id, order_data(order_id, sku, at=at, quantity=quantity), at=at)

    def valid_traffic(self, orders: int = 30, messages: int = 12) -> list[Valid]:
        """Orders of two sellers, buyer messages, carrier scans (delivered, in transit) and cancellation
        requests of the seller's earlier orders; four orders and two messages from the official SDK."""
        rng = random.Random(self.tag)
        at = self.now - timedelta(minutes=20)
        traffic: list[Valid] = []
        for i in range(orders):
            seller, sku = (self.seller, self.skus["valid"]) if i % 2 else (self.other, self.skus["other"])
            order_id, quantity = f"VO-{self.tag}-{i}", rng.randint(1, 3)
            document = self.order(seller, order_id, sku, at, quantity)
            traffic.append(Valid(f"order-{i}", ORDERS, seller.encode(), encode(document),
                                 probe=Probe("order", order_id, {"status": "unshipped"}), quantity=quantity))
        for i in range(messages):
            seller, about = (self.seller, self.valid_open[i % 3]) if i % 3 else (self.other, None)
            message_id, body = f"VM-{self.tag}-{i}", f"Question {i}: when does it arrive?\nThanks"
            document = envelope(MESSAGE, seller, message_id, message_data(message_id, about, body, at=at), at=at)
            traffic.append(Valid(f"message-{i}", BUYER, seller.encode(), encode(document),
                                 probe=Probe("message", message_id, {"body": body})))
        for i, order_id in enumerate(self.shipped[3:]):
            carrier, number = self.parcels[order_id]
            status = "delivered" if i % 2 == 0 else "in_transit"
            document = envelope(SCAN, self.seller, number, scan_data(carrier, number, status, at=at), at=at)
            traffic.append(Valid(f"scan-{status}-{i}", CARRIER, self.seller.encode(), encode(document)))
        for i, order_id in enumerate(self.valid_open[1:]):
            document = envelope(CANCELLATION, self.seller, order_id, cancellation_data(order_id, "B-1", at=at), at=at)
            traffic.append(Valid(f"cancellation-{i}", ORDERS, self.seller.encode(), encode(document),
                                 probe=Probe("order", order_id, {"cancellation_requested_at": at})))
        for i in range(6):  # the official SDK, binary and structured mode
            binary = i % 2 == 0
            if i < 4:
                order_id = f"VS-{self.tag}-{i}"
                document = self.order(self.seller, order_id, self.skus["sdk"], at)
                probe = Probe("order", order_id, {"status": "unshipped"})
            else:
                order_id = f"VSM-{self.tag}-{i}"
                document = envelope(MESSAGE, self.seller, order_id, message_data(order_id, None, "via the SDK", at=at),
                                    at=at)
                probe = Probe("message", order_id, {"body": "via the SDK"})
            key, headers, value = sdk_message(document, binary=binary)
            traffic.append(Valid(f"sdk-{'binary' if binary else 'structured'}-{i}", ORDERS if i < 4 else BUYER, key,
                                 value, tuple(headers), probe, sdk=True, quantity=1 if i < 4 else 0))
        return traffic


async def set_up(settings: Settings, http: dict[str, httpx.AsyncClient], world: World) -> dict[str, str]:
    """Three registered sellers with listings, the clock at `world.now`, orders confirmed (some shipped,
    one scanned), and the seeds the duplicates reuse. Returns the listing id of each SKU name."""
    await publish_events(settings, topics.CLOCK_EVENTS, [tick(world.now)])
    registered_at = (world.now - timedelta(days=1)).isoformat()
    for seller in (world.seller, world.other, world.unrelated):
        answer = await http["listing"].post("/v1/sellers", json=registration(seller_id=seller, at=registered_at))
        assert answer.status_code == 201 and answer.json()["status"] == "active", answer.text
    listing_ids = {}
    for name, sku in world.skus.items():
        owner = {"other": world.other, "unrelated": world.unrelated}.get(name, world.seller)
        answer = await http["listing"].post(f"/v1/sellers/{owner}/listings", json=listing_body(
            sku=sku, quantity=STOCK, price="12.50", at=registered_at))
        assert answer.status_code == 201, answer.text
        listing_ids[name] = answer.json()["listing_id"]
    mine = [world.seed_order] + [world.order(world.seller, order_id, world.skus["hostile"], world.placed_at)
                                 for order_id in [*world.shipped, *world.hostile_open, *world.valid_open]]
    theirs = [world.order(world.unrelated, f"HO-u-{world.tag}-{i}", world.skus["unrelated"],
                           world.placed_at - timedelta(days=i)) for i in range(5)]
    await publish(settings, ORDERS, [(d["sellerid"].encode(), encode(d)) for d in [*mine, *theirs]])
    await publish(settings, BUYER, [(world.seller.encode(), encode(world.seed_message))])
    await _confirmed(http["order"], {world.seller: len(mine), world.unrelated: len(theirs)})
    await wait_drained(http, at_least={})  # the fulfillment service has the confirmed orders too
    for order_id, (carrier, number) in world.parcels.items():
        answer = await http["fulfillment"].post(
            f"/v1/orders/{order_id}/shipments", params={"seller_id": world.seller},
            json={"carrier": carrier, "tracking_number": number, "at": world.shipped_at.isoformat(),
                  "lines": [{"sku": world.skus["hostile"], "quantity": 1}]})
        assert answer.status_code == 201, answer.text
    await publish(settings, CARRIER, [(world.seller.encode(), encode(world.seed_scan))])
    await wait_drained(http, at_least={})
    return listing_ids


async def _confirmed(http: httpx.AsyncClient, counts: dict[str, int], timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    for seller, count in counts.items():
        while len(await pages(http, "/v1/orders", seller, status="unshipped")) < count:
            assert asyncio.get_running_loop().time() < deadline, f"{seller}: fewer than {count} orders confirmed"
            await asyncio.sleep(0.1)


async def pages(http: httpx.AsyncClient, path: str, seller: str, **params: str) -> list[dict[str, Any]]:
    """Every row of a paged list route of one seller (the operator's view)."""
    rows: list[dict[str, Any]] = []
    while True:
        answer = await http.get(path, params={"seller_id": seller, "limit": 500, "offset": len(rows), **params})
        assert answer.status_code == 200, answer.text
        page = answer.json()
        rows += page
        if len(page) < 500:
            return rows
