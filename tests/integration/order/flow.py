"""What the order and fulfillment integration tests share: the platform they start once per module,
a recorder of every event the services publish, and the events other systems (storefront, listing
service, carriers, the clock) would send.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.auth import seller_token
from shared.clock import tick
from shared.events import Event, InvalidEvent, new_event, parse_event, topics
from shared.events import order as wire
from shared.events.common import Carrier, ReservationFailure, ScanStatus
from shared.events.ingress import CarrierScanRecorded, CheckoutCancellationRequested, CheckoutOrderPlaced
from shared.events.listing import InventoryReservationFailed, InventoryReserved, StockLine
from shared.runtime import ServiceRuntime
from shared.settings import Settings
from tests.support.clock import clock_follows_commands, publish_ingress
from tests.support.factories import T0, unique
from tests.support.platform import client, running

BUYER_NAME = "Ada Buyer"
ADDRESS = {"name": BUYER_NAME, "lines": ["1 Main St", "Apt 4"], "city": "Springfield", "region": "IL",
           "postal_code": "62701", "country": "US", "phone": "+1 217 555 0100"}
WATCHED = (topics.ORDER_EVENTS, topics.FULFILLMENT_EVENTS)
DEAD_LETTERS = tuple(topics.dlq_topic(t) for t in (topics.INGRESS_ORDERS, topics.INGRESS_CARRIER,
                                                   topics.LISTING_EVENTS, topics.FULFILLMENT_EVENTS))


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    value: bytes
    headers: dict[str, str]

    @property
    def reason(self) -> str:
        return self.headers.get("dlq.error.message", "")


@dataclass
class Recorder:
    """Every event on the watched topics, and every dead letter, as the services publish them."""

    settings: Settings
    events: list[Event[Any]] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._follow(topic)) for topic in (*WATCHED, *DEAD_LETTERS)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _follow(self, logical: str) -> None:
        name = self.settings.topic(logical)
        consumer = AIOKafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap_servers,
                                    enable_auto_commit=False, fetch_max_wait_ms=20)
        await consumer.start()
        try:
            while not (partitions := consumer.partitions_for_topic(name)):  # a dead-letter topic comes later
                await consumer._client.force_metadata_update()
                await asyncio.sleep(0.2)
            assigned = [TopicPartition(name, p) for p in sorted(partitions)]
            consumer.assign(assigned)
            await consumer.seek_to_beginning(*assigned)
            while True:
                batch = await consumer.getmany(timeout_ms=100, max_records=5000)
                for records in batch.values():
                    for record in records:
                        self._keep(logical, record.value, dict(record.headers))
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()

    def _keep(self, logical: str, value: bytes, headers: dict[str, bytes]) -> None:
        if logical.endswith(topics.DLQ_SUFFIX):
            self.dead_letters.append(DeadLetter(logical, value, {k: v.decode() for k, v in headers.items()}))
            return
        with contextlib.suppress(InvalidEvent):
            self.events.append(parse_event(value, topic=logical))

    def of(self, order_id: str, event_type: type[Any] | None = None, seller: str | None = None
           ) -> list[Event[Any]]:
        """Events about one order (of one payload type, of one seller), in the order they were published."""
        return [e for e in self.events if getattr(e.data, "order_id", None) == order_id
                and (event_type is None or isinstance(e.data, event_type))
                and (seller is None or e.sellerid == seller)]

    async def wait(self, check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"not reached within {timeout:.0f} s: {what}")
            await asyncio.sleep(0.05)

    async def wait_for(self, order_id: str, event_type: type[Any], count: int = 1, timeout: float = 20.0
                       ) -> list[Event[Any]]:
        """Wait until `count` events of the type about the order are out; return them."""
        await self.wait(lambda: len(self.of(order_id, event_type)) >= count,
                        f"{count} x {event_type.__name__} of order {order_id}", timeout)
        return self.of(order_id, event_type)

    async def dead_letter(self, topic: str, marker: str, timeout: float = 20.0) -> DeadLetter:
        """The dead letter on `<topic>.dlq` whose original bytes contain `marker` (an id)."""
        def found() -> list[DeadLetter]:
            return [d for d in self.dead_letters if d.topic == topics.dlq_topic(topic) and marker.encode() in d.value]

        await self.wait(lambda: bool(found()), f"a dead letter on {topic}.dlq with {marker}", timeout)
        return found()[0]


@dataclass
class Platform:
    settings: Settings
    services: dict[str, ServiceRuntime]
    recorder: Recorder

    async def send(self, topic: str, *events: Event[Any]) -> None:
        """Publish as another system would: to an ingress topic, the clock first brought near the events."""
        await publish_ingress(self.settings, self.services.values(), topic, list(events))

    async def tick(self, now: datetime) -> None:
        """Publish a clock tick and wait until both services have applied it (its id is in their inbox)."""
        ticked = tick(now)
        await self.send(topics.CLOCK_EVENTS, ticked)
        await self.applied(ticked)

    async def applied(self, event: Event[Any], services: Sequence[str] = ("order", "fulfillment")) -> None:
        """Wait until the services have applied the event: its id is in their inbox."""
        for name in services:
            pool = self.services[name].context.pool

            async def done(pool: Any = pool) -> bool:
                return bool(await pool.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", event.id))

            await until(done, f"{name} applied {event.type} {event.id}")

    def http(self, service: str, seller_id: str) -> httpx.AsyncClient:
        runtime = self.services[service]
        http = client(runtime, seller_token(runtime.settings.auth_secret.get_secret_value(), seller_id))
        http.event_hooks["request"].append(clock_follows_commands(self.settings, runtime))
        return http

    async def fetchrow(self, service: str, query: str, *args: Any) -> Any:
        return await self.services[service].context.pool.fetchrow(query, *args)


@asynccontextmanager
async def platform(settings: Settings, services: Sequence[str] = ("order", "fulfillment")
                   ) -> AsyncIterator[Platform]:
    """Order and fulfillment (or the services named), started together once, and a recorder of what they publish."""
    async with running(settings, services) as runtimes:
        recorder = Recorder(settings)
        await recorder.start()
        try:
            yield Platform(settings, runtimes, recorder)
        finally:
            await recorder.stop()


# --- what other systems send ----------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    listing_id: str
    sku: str
    quantity: int = 1
    price: str = "10.00"


def order_placed(seller_id: str, lines: Sequence[Line], *, purchased_at: datetime = T0, channel: str = "merchant",
                 order_id: str | None = None, speed: str = "standard", send_sku: bool = True,
                 send_listing: bool = True) -> Event[Any]:
    """A storefront's order; by default each line names both its listing and its SKU."""
    order_id = order_id or unique("O")
    data = CheckoutOrderPlaced.model_validate({
        "order_id": order_id, "buyer_id": "B-1", "currency": "USD", "purchased_at": purchased_at,
        "lines": [{"listing_id": line.listing_id if send_listing else None, "sku": line.sku if send_sku else None,
                   "quantity": line.quantity, "unit_price": {"amount": Decimal(line.price), "currency": "USD"}}
                  for line in lines],
        "ship_to": ADDRESS, "shipping_speed": speed, "fulfillment_channel": channel,
    })
    return new_event(data, seller_id=seller_id, subject=order_id, time=purchased_at,
                     source="https://storefront.example/checkout")


def reserved(placed: Event[Any], lines: Sequence[Line], handling_days: int = 1) -> Event[Any]:
    """The listing service's answer: these lines reserved (we play the listing service)."""
    order = placed.data_as(CheckoutOrderPlaced)
    stock = [StockLine(listing_id=line.listing_id, sku=line.sku, quantity=line.quantity) for line in lines]
    return new_event(InventoryReserved(order_id=order.order_id, lines=stock, handling_days=handling_days),
                     seller_id=placed.sellerid, subject=order.order_id, time=order.purchased_at + _MINUTE,
                     source="/sellerflow/listing")


def reservation_failed(placed: Event[Any], reason: ReservationFailure) -> Event[Any]:
    order = placed.data_as(CheckoutOrderPlaced)
    return new_event(InventoryReservationFailed(order_id=order.order_id, reason=reason, detail="0 available"),
                     seller_id=placed.sellerid, subject=order.order_id, time=order.purchased_at + _MINUTE,
                     source="/sellerflow/listing")


def buyer_cancellation(placed: Event[Any], at: datetime, reason: str = "ordered twice") -> Event[Any]:
    order = placed.data_as(CheckoutOrderPlaced)
    request = CheckoutCancellationRequested(order_id=order.order_id, buyer_id=order.buyer_id, requested_at=at,
                                            reason=reason)
    return new_event(request, seller_id=placed.sellerid, subject=order.order_id, time=at,
                     source="https://storefront.example/checkout")


def scan(seller_id: str, carrier: Carrier, number: str, status: ScanStatus, at: datetime) -> Event[Any]:
    data = CarrierScanRecorded(carrier=carrier, tracking_number=number, status=status, scanned_at=at,
                               location="Springfield, IL")
    return new_event(data, seller_id=seller_id, subject=number, time=at, source="https://carrier.example/scans")


_MINUTE = timedelta(minutes=1)
LINES = [Line("L-A", "SKU-A", 2, "10.00"), Line("L-B", "SKU-B", 1, "5.00")]


# --- steps the tests share ------------------------------------------------------------------------


def week(n: int) -> datetime:
    """A Monday 09:00 of its own for each test, so one test's clock ticks never touch another's orders."""
    return T0 + timedelta(weeks=n)


def statuses(world: Platform, order_id: str) -> list[tuple[Any, Any]]:
    return [(e.data.old_status, e.data.new_status) for e in world.recorder.of(order_id, wire.OrderStatusChanged)]


async def confirmed_order(world: Platform, seller: str, *, at: datetime, channel: str = "merchant",
                          handling_days: int = 1, lines: Sequence[Line] = LINES,
                          order_id: str | None = None) -> Any:
    """An order placed and reserved, known to both services."""
    placed = order_placed(seller, lines, purchased_at=at, channel=channel, order_id=order_id)
    await world.send(topics.INGRESS_ORDERS, placed)
    await world.recorder.wait_for(placed.data.order_id, wire.OrderPlaced)
    reservation = reserved(placed, lines, handling_days)
    await world.send(topics.LISTING_EVENTS, reservation)
    await world.recorder.wait_for(placed.data.order_id, wire.OrderConfirmed)
    await world.applied(reservation, ["order"])
    return placed


async def fulfillment_knows(world: Platform, seller: str, order_id: str) -> None:
    async def check() -> bool:
        row = await world.fetchrow("fulfillment", "SELECT 1 FROM orders WHERE seller_id = $1 AND order_id = $2",
                                   seller, order_id)
        return row is not None

    await until(check, "the fulfillment service has the confirmed order")


async def status_of(world: Platform, seller: str, order_id: str) -> str:
    row = await world.fetchrow("order", "SELECT status FROM orders WHERE seller_id = $1 AND order_id = $2",
                               seller, order_id)
    return str(row["status"])


async def until(check: Any, what: str) -> None:
    deadline = time.monotonic() + 20
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")
