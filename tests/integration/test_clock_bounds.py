"""Business times in range through real services (design.md section 3): an order stamped eight weeks
after the latest clock tick is dead-lettered at the order service's door with a reason, and changes
nothing, and an HTTP command dated as far ahead gets a 422; an internal event stamped as far ahead (a
faulty producer) cannot move the metrics clock past the latest tick plus MAX_CLOCK_SKEW."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from shared import business_clock
from shared.clock import tick
from shared.events import new_event, topics
from shared.events.common import FulfillmentChannel, Money, ShippingSpeed
from shared.events.order import OrderPlaced, PlacedLine
from shared.messaging import dead_letters as dl
from shared.runtime import ServiceRuntime
from shared.settings import Settings
from tests.support.factories import checkout_order, unique
from tests.support.kafka import eventually, publish_events, read_topic
from tests.support.platform import client, running

pytestmark = pytest.mark.integration

TICK = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SKEW = timedelta(days=2)
FAR = TICK + timedelta(weeks=8)


async def clock_of(runtime: ServiceRuntime) -> datetime | None:
    return await business_clock.current(runtime.context.pool)


async def count(runtime: ServiceRuntime, sql: str, *args: object) -> int:
    found: int = await runtime.context.pool.fetchval(sql, *args)
    return found


def forged_order_placed(seller: str) -> OrderPlaced:
    money = Money(amount=Decimal("10.00"), currency="USD")
    return OrderPlaced(order_id=unique("O"), purchased_at=FAR, fulfillment_channel=FulfillmentChannel.MERCHANT,
                       buyer_id="B-1", lines=[PlacedLine(listing_id="L-1", sku="SKU-1", quantity=1, unit_price=money)],
                       currency="USD", total=money, shipping_speed=ShippingSpeed.STANDARD, ship_to_country="US")


async def test_a_far_future_order_is_dead_lettered_and_moves_no_clock(settings: Settings) -> None:
    async with running(settings, ["order", "metrics"]) as services:
        order, metrics = services["order"], services["metrics"]
        await publish_events(settings, topics.CLOCK_EVENTS, [tick(TICK)])

        async def ticked() -> bool:
            return await clock_of(order) == TICK and await clock_of(metrics) == TICK

        await eventually(ticked, timeout=60, what="both services saw the tick")

        seller = unique("S")
        far = checkout_order(seller, purchased_at=FAR)
        near = checkout_order(seller, purchased_at=TICK + timedelta(hours=1))
        await publish_events(settings, topics.INGRESS_ORDERS, [far, near])
        [letter] = await read_topic(settings, topics.dlq_topic(topics.INGRESS_ORDERS), expect=1)
        assert letter.value == far.to_bytes()
        reason = dict(letter.headers)[dl.H_ERROR_MESSAGE].decode()
        assert reason == ("invalid sellerflow.checkout.order_placed.v1: `time` is after the latest clock tick plus "
                          "MAX_CLOCK_SKEW (2 days)")

        orders = "SELECT count(*) FROM orders WHERE seller_id = $1 AND order_id = $2"
        await eventually(lambda: _one(order, orders, seller, near.data.order_id), what="the near order applied")
        assert await count(order, orders, seller, far.data.order_id) == 0
        async with client(order) as http:  # an HTTP command's `at`: the same bound
            answer = await http.post(f"/v1/orders/{near.data.order_id}/cancellation", params={"seller_id": seller},
                                     json={"reason": "Out of stock", "at": FAR.isoformat()})
        assert answer.status_code == 422
        assert answer.json()["detail"] == "`at` is after the latest clock tick plus MAX_CLOCK_SKEW (2 days)"
        await eventually(lambda: _folded(metrics, TICK + timedelta(hours=1)), what="metrics folded the near order")

        # Behind the door: a forged internal event eight weeks ahead moves the metrics clock at most
        # to the latest tick plus the skew.
        forged = new_event(forged_order_placed(unique("S")), seller_id=seller, subject="forged", time=FAR,
                           source="/sellerflow/order")
        await publish_events(settings, topics.ORDER_EVENTS, [forged])
        inbox = "SELECT count(*) FROM inbox WHERE event_id = $1"
        await eventually(lambda: _one(metrics, inbox, forged.id), what="metrics applied the forged event")
        assert await clock_of(metrics) == TICK + SKEW
        assert await metrics.context.pool.fetchval("SELECT now FROM fold_clock") == TICK + SKEW
        assert await clock_of(order) == TICK


async def _one(runtime: ServiceRuntime, sql: str, *args: object) -> bool:
    return await count(runtime, sql, *args) == 1


async def _folded(metrics: ServiceRuntime, moment: datetime) -> bool:
    now = await clock_of(metrics)
    return now is not None and now >= moment
