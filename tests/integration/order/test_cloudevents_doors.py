"""The order service's door on the real broker: orders an integrator publishes with the official
CloudEvents SDK through a plain aiokafka producer, in binary and in structured mode, are placed and
confirmed; one keyed by another seller is dead-lettered with the key rule and changes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import pytest
from aiokafka import AIOKafkaProducer
from cloudevents.core.bindings.kafka import KafkaMessage

from shared.events import order as wire
from shared.events import topics
from shared.settings import Settings
from tests.integration.order.flow import LINES, Platform, order_placed, platform, reserved, week
from tests.support.ce_sdk import binary, structured
from tests.support.factories import unique

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def world(module_settings: Settings) -> AsyncIterator[Platform]:
    """The order service alone (one consumer group to join) and a recorder of what it publishes."""
    async with platform(module_settings, ["order"]) as started:
        yield started


async def send(settings: Settings, records: Sequence[tuple[bytes, KafkaMessage]]) -> None:
    """The SDK's records as they are, each with its key, through a plain producer."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        for key, message in records:
            await producer.send_and_wait(settings.topic(topics.INGRESS_ORDERS), message.value, key=key,
                                         headers=list(message.headers.items()))
    finally:
        await producer.stop()


async def test_sdk_orders_are_confirmed_in_both_modes_and_a_mis_keyed_one_is_refused(world: Platform) -> None:
    seller = unique("S")
    in_binary, in_structured, mis_keyed = (order_placed(seller, LINES, purchased_at=week(40)) for _ in range(3))
    await send(world.settings, [
        (seller.encode(), binary(in_binary, traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")),
        (unique("S").encode(), structured(mis_keyed)),
        (seller.encode(), structured(in_structured, datacontenttype="application/json; charset=utf-8")),
    ])
    for placed in (in_binary, in_structured):
        order_id = placed.data.order_id
        [accepted] = await world.recorder.wait_for(order_id, wire.OrderPlaced, timeout=60)
        assert accepted.sellerid == seller
        await world.send(topics.LISTING_EVENTS, reserved(placed, LINES))
        await world.recorder.wait_for(order_id, wire.OrderConfirmed, timeout=60)

    letter = await world.recorder.dead_letter(topics.INGRESS_ORDERS, mis_keyed.data.order_id, timeout=60)
    assert letter.reason.startswith("the message's Kafka key is not its `sellerid`")
    assert world.recorder.of(mis_keyed.data.order_id) == []
