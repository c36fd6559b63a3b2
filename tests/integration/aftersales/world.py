"""The aftersales service's world in tests: the order and fulfillment services, buyers, banks and the
clock, played by publishing their events; and ways to see what aftersales did (its tables, its topic).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared import business_clock, clock
from shared.auth import seller_token
from shared.events import Event, new_event, parse_event, topics
from shared.events import fulfillment as f
from shared.events import ingress as i
from shared.events import order as o
from shared.events import seller as s
from shared.events.common import BusinessType, Carrier, DocumentType, FulfillmentChannel, Money, ShippingSpeed
from shared.events.envelope import Payload
from shared.runtime import ServiceRuntime
from shared.settings import Settings
from tests.support.kafka import eventually, publish_events
from tests.support.platform import client

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _event(payload: Payload, seller: str, subject: str, at: datetime, source: str) -> Event[Any]:
    return new_event(payload, seller_id=seller, subject=subject, time=at, source=source)


class World:
    """One seller's world: its orders, its buyers, and the aftersales service seen from outside."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.seller = unique("S")
        secret = self.settings.auth_secret.get_secret_value()
        self.http = client(runtime, seller_token(secret, self.seller))
        self.operator = client(runtime)

    async def register(self) -> None:
        """The listing service registered this seller; returns once this service knows it."""
        registered = s.SellerRegistered(
            legal_name="Test Seller Ltd", country="US", business_type=BusinessType.COMPANY, tax_id="********1234",
            bank_account="********5678", document_type=DocumentType.PASSPORT, document_number="****9012",
            document_expires_on=date(2030, 1, 1))
        event = _event(registered, self.seller, self.seller, datetime(2026, 1, 1, tzinfo=UTC), "/sellerflow/listing")
        await publish_events(self.settings, topics.SELLER_EVENTS, [event])
        await self.until("SELECT count(*) FROM known_sellers WHERE seller_id = $1", what=f"seller {self.seller} known")

    # --- the order and fulfillment services ---------------------------------------------------------

    async def order(self, *, at: datetime, order_id: str | None = None, total: str = "50.00", currency: str = "USD",
                    shipped: bool = False, on_time: bool = True, tracking_valid: bool = True,
                    delivered_at: datetime | None = None) -> str:
        """An order placed and confirmed at `at`, once this service knows it; optionally shipped (by ship-by,
        or a day late) and delivered."""
        order_id = order_id or unique("O")
        facts: dict[str, Any] = {"order_id": order_id, "purchased_at": at,
                                 "fulfillment_channel": FulfillmentChannel.MERCHANT}
        money = Money(amount=Decimal(total), currency=currency)
        line = {"listing_id": "L-1", "sku": "SKU-1", "quantity": 1, "unit_price": money}
        ship_by, deliver_by = at + 2 * DAY, at + 7 * DAY
        events = [
            _event(o.OrderPlaced(**facts, buyer_id="B-1", lines=[o.PlacedLine(**line)], currency=currency, total=money,
                                 shipping_speed=ShippingSpeed.STANDARD, ship_to_country="US"),
                   self.seller, order_id, at, "/sellerflow/order"),
            _event(o.OrderConfirmed(**facts, shipping_speed=ShippingSpeed.STANDARD, lines=[o.ConfirmedLine(**line)],
                                    currency=currency, total=money, ship_by=ship_by, deliver_by=deliver_by),
                   self.seller, order_id, at, "/sellerflow/order"),
        ]
        await publish_events(self.settings, topics.ORDER_EVENTS, events)
        if shipped or delivered_at is not None:
            shipped_at = ship_by - HOUR if on_time else ship_by + DAY
            shipment = {**facts, "shipment_id": unique("SH"), "shipped_at": shipped_at, "ship_by": ship_by,
                        "deliver_by": deliver_by}
            scans = [
                _event(f.ShipmentConfirmed(**shipment, carrier=Carrier.UPS, tracking_number="1Z999AA10123456784",
                                           tracking_format_valid=tracking_valid,
                                           lines=[f.ShipmentLine(listing_id="L-1", sku="SKU-1", quantity=1)]),
                       self.seller, shipment["shipment_id"], shipped_at, "/sellerflow/fulfillment"),
            ]
            if tracking_valid:
                validated = f.ShipmentTrackingValidated(**shipment, valid=True, reason=f.TrackingVerdict.FIRST_SCAN,
                                                        first_scan_at=shipped_at + HOUR)
                scans.append(_event(validated, self.seller, shipment["shipment_id"], shipped_at + HOUR,
                                    "/sellerflow/fulfillment"))
            if delivered_at is not None:
                scans.append(_event(f.ShipmentDelivered(**shipment, delivered_at=delivered_at),
                                    self.seller, shipment["shipment_id"], delivered_at, "/sellerflow/fulfillment"))
            await publish_events(self.settings, topics.FULFILLMENT_EVENTS, scans)
        await self.until("SELECT count(*) FROM orders WHERE seller_id = $1 AND order_id = $2 AND total IS NOT NULL"
                         + (" AND delivered_at IS NOT NULL" if delivered_at else ""), order_id,
                         what=f"order {order_id} known")
        return order_id

    # --- buyers, the A-to-z team, banks --------------------------------------------------------------

    async def buyer(self, payload: Payload, subject: str, at: datetime) -> Event[Any]:
        event = _event(payload, self.seller, subject, at, "https://buyer.example/messaging")
        await publish_events(self.settings, topics.INGRESS_BUYER, [event])
        return event

    async def message(self, order_id: str, at: datetime, *, body: str = "Where is my parcel?") -> str:
        message_id = unique("M")
        await self.buyer(i.BuyerMessageSent(message_id=message_id, order_id=order_id, buyer_id="B-1", sent_at=at,
                                            body=body), message_id, at)
        await self.until("SELECT count(*) FROM buyer_messages WHERE seller_id = $1 AND message_id = $2", message_id,
                         what=f"message {message_id} recorded")
        return message_id

    async def tick(self, now: datetime) -> None:
        """The clock moves to `now`; returns once this service has seen it."""
        await publish_events(self.settings, topics.CLOCK_EVENTS, [clock.tick(now)])

        async def seen() -> bool:
            current = await business_clock.current(self.runtime.context.pool)
            return current is not None and current >= now

        await eventually(seen, what=f"tick {now.isoformat()} seen")

    # --- what the service did -------------------------------------------------------------------------

    async def until(self, sql: str, *args: Any, what: str, count: int = 1, timeout: float = 20.0) -> None:
        """Wait until `sql` (a count; $1 is the seller) reaches `count`."""
        async def reached() -> bool:
            found: int = await self.runtime.context.pool.fetchval(sql, self.seller, *args)
            return found >= count

        await eventually(reached, what=what, timeout=timeout)

    async def count(self, sql: str, *args: Any) -> int:
        found: int = await self.runtime.context.pool.fetchval(sql, self.seller, *args)
        return found

    async def published(self, *types: str, timeout: float = 20.0) -> list[Event[Any]]:
        """This seller's events on aftersales.events, once every type in `types` is among them (in order)."""
        return await _events(self.settings, topics.AFTERSALES_EVENTS, self.seller, types, timeout)

    async def close(self) -> None:
        await self.http.aclose()
        await self.operator.aclose()


Record = tuple[bytes, dict[str, str]]  # the value and the headers


async def _read(settings: Settings, topic: str, seller: str, done: Callable[[list[Record]], bool],
                timeout: float) -> list[Record]:
    """The seller's records on a topic from its beginning, once `done` says they are all there."""
    name = settings.topic(topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        partitions = consumer.partitions_for_topic(name)
        while not partitions and time.monotonic() < deadline:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(name)
            await asyncio.sleep(0.1)
        tps = [TopicPartition(name, p) for p in sorted(partitions or ())]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        found: list[Record] = []
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=100, max_records=5000)
            for records in batch.values():
                found += [(r.value, {k: v.decode() for k, v in r.headers}) for r in records
                          if r.key == seller.encode()]
            if done(found):
                return found
        return found
    finally:
        await consumer.stop()


async def _events(settings: Settings, topic: str, seller: str, types: tuple[str, ...],
                  timeout: float) -> list[Event[Any]]:
    def complete(found: list[Record]) -> bool:
        seen = [parse_event(value, topic=topic).type for value, _ in found]
        return all(seen.count(t) >= types.count(t) for t in types)

    found = await _read(settings, topic, seller, complete, timeout)
    events = [parse_event(value, topic=topic) for value, _ in found]
    assert complete(found), f"{seller}: wanted {list(types)} on {topic}, got {[e.type for e in events]}"
    return events


async def dead_letters_of(settings: Settings, seller: str, *, expect: int, timeout: float = 20.0) -> list[Record]:
    """This seller's dead letters on ingress.buyer.dlq: (original bytes, headers)."""
    found = await _read(settings, topics.dlq_topic(topics.INGRESS_BUYER), seller,
                        lambda found: len(found) >= expect, timeout)
    assert len(found) >= expect, f"{seller}: {len(found)} dead letters, wanted {expect}"
    return found


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json()
