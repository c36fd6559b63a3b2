"""Erased means unreadable everywhere (domain.md section 8), through all five services on the real broker
and PostgreSQL: orders carrying canary buyer data (name, street lines, postal code, phone, a cancellation
reason, message texts, and a message about no order with its reply) are delivered, lost and cancelled;
the clock moves past their erasure; then no table of any service schema, no internal topic and no
dead-letter topic holds a canary in clear text, as UTF-8, JSON-escaped or base64. The metrics rebuild
from the topics still equals the live scorecard.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from sellerflow.rebuild import _caught_up as caught_up
from sellerflow.rebuild import rebuild
from services.metrics import queries, views
from shared import business_clock, db
from shared.auth import seller_token
from shared.clock import tick
from shared.events import Event, new_event, topics
from shared.events.ingress import (
    BuyerMessageSent,
    CarrierScanRecorded,
    CheckoutCancellationRequested,
    CheckoutOrderPlaced,
)
from shared.runtime import ServiceRuntime
from shared.settings import SERVICE_NAMES, Settings
from tests.integration.listing.helpers import new_listing, new_seller
from tests.support.factories import T0
from tests.support.kafka import eventually, publish_events
from tests.support.platform import client, running

pytestmark = pytest.mark.integration

STOREFRONT, CARRIER, BUYERS = "https://storefront.example/checkout", "https://carrier.example/scans", \
    "https://buyers.example/messages"
TRACKING = {"delivered": ("ups", "1Z999AA10123456784"), "lost": ("usps", "9400111201080805483016")}


class Canaries:
    """Unique strings in every buyer field; `forms` is every way one could be found written."""

    def __init__(self) -> None:
        self.tag = uuid.uuid4().hex[:10]
        digits = str(uuid.uuid4().int)[:8]
        self.by_order: dict[str, dict[str, str]] = {}
        self.phone_digits = digits

    def buyer(self, fate: str) -> dict[str, str]:
        tag = f"{self.tag}{fate[:3]}"
        found = {"name": f"Zoë Canary{tag}", "line1": f"{tag} Canary Lane 7", "line2": f"Flat K{tag}",
                 "postal_code": f"K{tag[:7]}{fate[:3]}", "phone": f"+44 {self.phone_digits} {len(self.by_order)}99",
                 "reason": f"cancel because {tag} Canary Änderung", "message": f"where is it? {tag} Canary text",
                 "subject": f"Subject {tag} Canary"}
        self.by_order[fate] = found
        return found

    def words(self, about: str) -> dict[str, str]:
        """Texts of a message about no order, and the seller's reply to it."""
        tag = f"{self.tag}{about[:3]}"
        found = {"subject": f"Subject {tag} Canary", "message": f"a question {tag} Canary text",
                 "reply": f"Thanks for asking, {tag} Canary reply"}
        self.by_order[about] = found
        return found

    def all(self) -> list[str]:
        return [value for fields in self.by_order.values() for value in fields.values()]

    def forms(self) -> dict[bytes, str]:
        """Each canary as UTF-8, JSON-escaped and base64 (standard and URL-safe, at the three alignments)."""
        found: dict[bytes, str] = {}
        for canary in self.all():
            raw = canary.encode()
            found[raw] = canary
            found[json.dumps(canary)[1:-1].encode()] = canary
            for pad in range(3):
                for encode in (base64.b64encode, base64.urlsafe_b64encode):
                    coded = encode(b"\0" * pad + raw)
                    found[coded[4 if pad else 0:-4]] = canary  # the part that does not depend on neighbours
        return found


def order(seller: str, listing: dict[str, Any], fate: str, buyer: dict[str, str], at: datetime) -> Event[Any]:
    order_id = f"O-{fate}-{uuid.uuid4().hex[:6]}"
    data = CheckoutOrderPlaced.model_validate({
        "order_id": order_id, "buyer_id": f"B-{fate}", "currency": "USD", "purchased_at": at,
        "lines": [{"listing_id": listing["listing_id"], "quantity": 1,
                   "unit_price": {"amount": listing["price"], "currency": "USD"}}],
        "ship_to": {"name": buyer["name"], "lines": [buyer["line1"], buyer["line2"]], "city": "Canterbury",
                    "region": "Kent", "postal_code": buyer["postal_code"], "country": "GB", "phone": buyer["phone"]},
        "shipping_speed": "standard", "fulfillment_channel": "merchant",
    })
    return new_event(data, seller_id=seller, subject=order_id, time=at, source=STOREFRONT)


class Platform:
    def __init__(self, settings: Settings, runtimes: dict[str, ServiceRuntime]) -> None:
        self.settings, self.runtimes = settings, runtimes

    def http(self, service: str, seller: str) -> httpx.AsyncClient:
        return client(self.runtimes[service], seller_token(self.settings.auth_secret.get_secret_value(), seller))

    async def send(self, topic: str, *events: Event[Any]) -> None:
        await publish_events(self.settings, topic, events)

    async def tick(self, now: datetime) -> None:
        """The clock moves to `now`; returns once every service has seen it (events up to `now` may follow)."""
        await self.send(topics.CLOCK_EVENTS, tick(now))

        async def seen() -> bool:
            clocks = [await business_clock.current(r.context.pool) for r in self.runtimes.values()]
            return all(clock is not None and clock >= now for clock in clocks)

        await eventually(seen, timeout=60, what=f"every service saw the tick {now.isoformat()}")

    async def value(self, service: str, query: str, *args: Any) -> Any:
        return await self.runtimes[service].context.pool.fetchval(query, *args)

    async def until(self, service: str, query: str, *args: Any, what: str) -> None:
        async def holds() -> bool:
            return bool(await self.value(service, query, *args))

        await eventually(holds, timeout=90, what=what)


async def test_buyer_data_of_delivered_lost_and_cancelled_orders_is_unreadable_everywhere_once_erased(
    settings: Settings,
) -> None:
    assert settings.kafka_bootstrap_servers and settings.database_url
    canaries = Canaries()
    async with running(settings, SERVICE_NAMES) as runtimes:
        world = Platform(settings, runtimes)
        await world.tick(T0)
        seller, listing_http = await new_seller(runtimes["listing"])
        async with listing_http:
            listing = await new_listing(listing_http, seller, quantity=10)
        placed_at = T0 + timedelta(hours=1)
        await world.tick(placed_at)
        orders = {fate: order(seller, listing, fate, canaries.buyer(fate), placed_at)
                  for fate in ("delivered", "lost", "cancelled")}
        ids = {fate: event.subject for fate, event in orders.items()}
        await world.send(topics.INGRESS_ORDERS, *orders.values())
        await world.until("order", "SELECT count(*) = 3 FROM orders WHERE status = 'unshipped'", what="confirmed")
        await world.until("fulfillment", "SELECT count(*) = 3 FROM orders", what="fulfillment knows the orders")

        # The buyer of one order cancels, with a reason; the seller accepts. Buyers write about the others.
        asked_at = placed_at + timedelta(hours=1)
        await world.tick(asked_at)
        reason = canaries.by_order["cancelled"]["reason"]
        await world.send(topics.INGRESS_ORDERS, new_event(
            CheckoutCancellationRequested(order_id=ids["cancelled"], buyer_id="B-cancelled", requested_at=asked_at,
                                          reason=reason),
            seller_id=seller, subject=ids["cancelled"], time=asked_at, source=STOREFRONT))
        await world.send(topics.INGRESS_BUYER, *(new_event(
            BuyerMessageSent(message_id=f"M-{fate}-{canaries.tag}", order_id=ids[fate], buyer_id=f"B-{fate}",
                             sent_at=asked_at, subject=canaries.by_order[fate]["subject"],
                             body=canaries.by_order[fate]["message"]),
            seller_id=seller, subject=ids[fate], time=asked_at, source=BUYERS) for fate in orders))
        words, orderless = canaries.words("no order"), f"M-none-{canaries.tag}"
        await world.send(topics.INGRESS_BUYER, new_event(
            BuyerMessageSent(message_id=orderless, buyer_id="B-other", sent_at=asked_at, subject=words["subject"],
                             body=words["message"]),
            seller_id=seller, subject=orderless, time=asked_at, source=BUYERS))
        await world.until("order", "SELECT cancellation_requested_at IS NOT NULL FROM orders WHERE order_id = $1",
                          ids["cancelled"], what="the cancellation request")
        async with world.http("order", seller) as http:
            accepted = await http.post(f"/v1/orders/{ids['cancelled']}/cancellation-request/acceptance",
                                       json={"at": (asked_at + timedelta(hours=1)).isoformat()})
            assert accepted.status_code == 200, accepted.text
        await world.until("aftersales", "SELECT count(*) = 4 FROM buyer_messages WHERE body IS NOT NULL",
                          what="the buyer messages")
        async with world.http("aftersales", seller) as http:
            replied = await http.post(f"/v1/messages/{orderless}/reply",
                                      json={"text": words["reply"], "at": (asked_at + timedelta(hours=2)).isoformat()})
            assert replied.status_code == 200 and replied.json()["delivered"], replied.text

        # Two parcels leave; one arrives, the other is lost.
        shipped_at, scanned_at = placed_at + timedelta(hours=5), placed_at + timedelta(days=3)
        await world.tick(shipped_at)
        async with world.http("fulfillment", seller) as http:
            for fate in ("delivered", "lost"):
                carrier, number = TRACKING[fate]
                answer = await http.post(f"/v1/orders/{ids[fate]}/shipments", json={
                    "carrier": carrier, "tracking_number": number, "at": shipped_at.isoformat(),
                    "lines": [{"listing_id": listing["listing_id"], "quantity": 1}]})
                assert answer.status_code == 201, answer.text
        await world.until("order", "SELECT count(*) = 2 FROM orders WHERE status = 'shipped'", what="shipped")
        await world.tick(scanned_at)
        await world.send(topics.INGRESS_CARRIER, *(new_event(
            CarrierScanRecorded(carrier=TRACKING[fate][0], tracking_number=TRACKING[fate][1], status=status,
                                scanned_at=scanned_at),
            seller_id=seller, subject=TRACKING[fate][1], time=scanned_at, source=CARRIER)
            for fate, status in (("delivered", "delivered"), ("lost", "lost"))))
        await world.until("order", "SELECT status = 'delivered' FROM orders WHERE order_id = $1", ids["delivered"],
                          what="delivered")
        await world.until("order", "SELECT lost_parcels <> '{}' FROM orders WHERE order_id = $1", ids["lost"],
                          what="the lost parcel noted")
        # Before erasure: the buyer's data is stored where it is needed only, and never travels in clear.
        holders = {hit.split(".")[0] for hit in await scan_tables(settings, canaries)}
        assert holders == {settings.schema_for("order"), settings.schema_for("aftersales")}
        kept = [*topics.INTERNAL_TOPICS, *map(topics.dlq_topic, topics.ALL_TOPICS)]
        assert await scan_topics(settings, canaries, kept) == []

        # Thirty days after the delivery, the loss and the cancellation, by business time.
        await world.tick(scanned_at + timedelta(days=30, hours=1))
        await world.until("order", "SELECT count(*) = 3 FROM orders WHERE pii_erased_at IS NOT NULL", what="erased")
        await world.until("fulfillment", "SELECT count(*) = 3 FROM orders WHERE address_erased_at IS NOT NULL",
                          what="fulfillment followed the erasure")
        await world.until("aftersales", "SELECT count(*) = 4 FROM buyer_messages WHERE body IS NULL",
                          what="aftersales erased the message texts, with an order or without")
        await world.until("order", "SELECT count(*) = 0 FROM outbox WHERE sent_at IS NULL", what="relayed")

        assert await scan_tables(settings, canaries) == []
        assert await scan_topics(settings, canaries, kept) == []
        # The same scan finds them where they are still allowed: on ingress, until its retention ends.
        assert await scan_topics(settings, canaries, [topics.INGRESS_ORDERS, topics.INGRESS_BUYER])
        await rebuild_equals_live(settings, runtimes["metrics"], seller)


async def scan_tables(settings: Settings, canaries: Canaries) -> list[str]:
    """Every text, JSON, array and bytea value of every table of every service schema, searched."""
    assert settings.database_url
    forms, found = canaries.forms(), []
    conn = await asyncpg.connect(settings.database_url.get_secret_value())  # no codecs: JSON comes as stored
    try:
        tables = await conn.fetch("SELECT table_schema, table_name FROM information_schema.tables"
                                  " WHERE table_schema = ANY($1::text[]) AND table_type = 'BASE TABLE'",
                                  [settings.schema_for(name) for name in SERVICE_NAMES])
        assert len(tables) > 20
        for schema, table in tables:
            for row in await conn.fetch(f'SELECT * FROM "{schema}"."{table}"'):
                for column, value in row.items():
                    found += [f"{schema}.{table}.{column}: {canary}" for canary in _hits(value, forms)]
    finally:
        await conn.close()
    return found


async def scan_topics(settings: Settings, canaries: Canaries, logical: list[str]) -> list[str]:
    """Every record (key, value, headers) of these topics, read whole."""
    forms, found = canaries.forms(), []
    names = [settings.topic(t) for t in logical]
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(n, p) for n in names for p in sorted(consumer.partitions_for_topic(n) or ())]
        assert {tp.topic for tp in partitions} >= {n for n in names if not n.endswith(topics.DLQ_SUFFIX)}
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        read, idle_since = 0, time.monotonic()
        while time.monotonic() - idle_since < 2.0 or not await caught_up(consumer, partitions):
            batch = await consumer.getmany(timeout_ms=200, max_records=5000)
            for records in batch.values():
                idle_since = time.monotonic()
                for r in records:
                    read += 1
                    parts = [r.key, r.value, *(value for _, value in r.headers)]
                    found += [f"{r.topic}@{r.partition}:{r.offset}: {c}" for p in parts for c in _hits(p, forms)]
        assert read > 5  # the story was read, not empty topics
    finally:
        await consumer.stop()
    return found


def _hits(value: Any, forms: dict[bytes, str]) -> Iterator[str]:
    if isinstance(value, list | tuple):
        for item in value:
            yield from _hits(item, forms)
        return
    raw = value.encode() if isinstance(value, str) else bytes(value) if isinstance(value, bytes | bytearray) else None
    if raw:
        yield from {canary for form, canary in forms.items() if form in raw}


async def rebuild_equals_live(settings: Settings, metrics: ServiceRuntime, seller: str) -> None:
    """`sellerflow metrics rebuild` (into another schema) gives the seller the very scorecard it has live."""
    assert settings.kafka_bootstrap_servers and settings.database_url
    dsn = settings.database_url.get_secret_value()
    other = settings.model_copy(update={"db_schema_prefix": f"{settings.db_schema_prefix}rb_"})
    report = await rebuild(other, bootstrap_servers=settings.kafka_bootstrap_servers, dsn=dsn, idle_seconds=1.0)
    assert report.applied > 20
    rebuilt, live = await db.create_pool(dsn, other.schema_for("metrics"), size=1), metrics.context.pool

    async def card(pool: asyncpg.Pool) -> dict[str, Any] | None:
        now = await queries.moment(pool, None)
        if now is None:
            return None
        seen = await queries.view(pool, seller, now)
        return views.scorecard_json(seller, now, seen.card, seen.health, 180)

    try:
        expected = await card(rebuilt)
        assert expected is not None and expected["metrics"]

        async def live_equals_rebuilt() -> bool:  # the live consumer may still be on its last batch
            return await card(live) == expected

        await eventually(live_equals_rebuilt, timeout=60, what="the live scorecard equals the rebuilt one")
    finally:
        await rebuilt.close()
        await db.drop_schema(dsn, other.schema_for("metrics"))
