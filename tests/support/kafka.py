"""Test helpers that talk to the real broker: publish raw records, read a topic, wait for a condition."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from shared.events import Event
from shared.settings import Settings


async def publish(
    settings: Settings, logical_topic: str, messages: Sequence[tuple[bytes | None, bytes]],
    headers: Sequence[tuple[str, bytes]] = (),
) -> None:
    """Send (key, value) records and await every acknowledgement."""
    assert settings.kafka_bootstrap_servers
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", linger_ms=5)
    await producer.start()
    try:
        acks = [await producer.send(settings.topic(logical_topic), value, key=key, headers=list(headers))
                for key, value in messages]
        await asyncio.gather(*acks)
    finally:
        await producer.stop()


async def publish_events(settings: Settings, logical_topic: str, events: Sequence[Event[Any]],
                         headers: Sequence[tuple[str, bytes]] = ()) -> None:
    await publish(settings, logical_topic, [(e.key, e.to_bytes()) for e in events], headers)


async def read_topic(settings: Settings, logical_topic: str, *, expect: int, timeout: float = 30.0
                     ) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of a topic from the beginning, once `expect` have arrived (or the timeout passes)."""
    assert settings.kafka_bootstrap_servers
    name = settings.topic(logical_topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(name)
        deadline = time.monotonic() + timeout
        while not partitions and time.monotonic() < deadline:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(name)
            await asyncio.sleep(0.1)
        assert partitions, f"topic {name} does not exist"
        tps = [TopicPartition(name, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while len(records) < expect and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200, max_records=5000)
            for part in batch.values():
                records.extend(part)
        # A little longer: anything beyond `expect` (a duplicate) must show up too.
        batch = await consumer.getmany(timeout_ms=500, max_records=5000)
        for part in batch.values():
            records.extend(part)
        return records
    finally:
        await consumer.stop()


async def eventually(check: Callable[[], Awaitable[bool]], *, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not reached within {timeout:.0f} s: {what}")
