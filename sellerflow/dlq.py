"""`sellerflow dlq list|replay`: show dead letters and re-drive them to the topic they came from."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.events import topics
from shared.messaging import dead_letters as dl
from shared.settings import Settings

_IDLE_SECONDS = 1.5  # no record for this long: the end of the topic (end_offsets are unreliable on Tansu)


@dataclass(frozen=True)
class DeadLetterView:
    dlq_topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def original_topic(self) -> str:
        return self.headers.get(dl.H_TOPIC, "")

    def summary(self) -> str:
        h = self.headers
        where = f"{h.get(dl.H_TOPIC)}[{h.get(dl.H_PARTITION)}]@{h.get(dl.H_OFFSET)}"
        return (f"{self.dlq_topic} p{self.partition} o{self.offset}  from {where}  group={h.get(dl.H_GROUP)}  "
                f"{h.get(dl.H_ERROR_TYPE)}: {h.get(dl.H_ERROR_MESSAGE)}")


async def read_dead_letters(settings: Settings, bootstrap: str, logical_topics: Sequence[str]) -> list[DeadLetterView]:
    names = [settings.topic(topics.dlq_topic(t)) for t in logical_topics]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(n, p) for n in names for p in (consumer.partitions_for_topic(n) or ())]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        letters: list[DeadLetterView] = []
        while True:
            batch = await consumer.getmany(timeout_ms=int(_IDLE_SECONDS * 1000), max_records=1000)
            if not batch:
                break
            for records in batch.values():
                letters += [
                    DeadLetterView(r.topic, r.partition, r.offset, r.key, r.value or b"",
                                   {k: v.decode("utf-8", "replace") for k, v in r.headers})
                    for r in records
                ]
        return sorted(letters, key=lambda d: (d.dlq_topic, d.partition, d.offset))
    finally:
        await consumer.stop()


async def replay(
    bootstrap: str, letters: Sequence[DeadLetterView], *, replacement: bytes | None = None
) -> int:
    """Publish each letter's bytes (or a fixed body) to its original topic, with its key and trace headers."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        acks = []
        for letter in letters:
            headers = [(k, v.encode()) for k, v in letter.headers.items() if not k.startswith("dlq.")]
            value = replacement if replacement is not None else letter.value
            acks.append(await producer.send(letter.original_topic, value, key=letter.key, headers=headers))
        await asyncio.gather(*acks)
        return len(acks)
    finally:
        await producer.stop()
