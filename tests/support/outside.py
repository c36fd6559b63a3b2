"""Outside clients at the public doors, and waiting for the platform to drain what they sent.

Integrators use clients nobody here wrote: `Producers` sends through aiokafka (as a Java client
partitions: murmur2) and through confluent-kafka (librdkafka, told to use `murmur2_random`, the
partitioner that places a key where Java clients do), so both must land a seller's messages on the
same partition and both must be handled the same way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

import httpx
from aiokafka import AIOKafkaProducer
from confluent_kafka import KafkaException, Producer

from shared.settings import Settings

#: Room for the over-1 MiB cases: the broker, not our producer, must be the one to judge them.
MAX_REQUEST_BYTES = 4 * 1024 * 1024


class Message(Protocol):
    topic: str
    key: bytes | None
    value: bytes | None

    def all_headers(self) -> list[tuple[str, bytes | None]]: ...


class Producers:
    """An aiokafka and a confluent-kafka producer; `send(message, librdkafka=...)` picks one."""

    def __init__(self, settings: Settings) -> None:
        assert settings.kafka_bootstrap_servers
        self.settings = settings
        self.aiokafka = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all",
                                         linger_ms=5, max_request_size=MAX_REQUEST_BYTES)
        self.librdkafka = Producer({"bootstrap.servers": settings.kafka_bootstrap_servers,
                                    "partitioner": "murmur2_random", "acks": "all", "linger.ms": 5,
                                    "message.max.bytes": MAX_REQUEST_BYTES + 1024})
        self._acks: list[asyncio.Future[Any]] = []
        self._errors: list[str] = []

    async def __aenter__(self) -> Producers:
        await self.aiokafka.start()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.aiokafka.stop()
        await asyncio.to_thread(self.librdkafka.flush, 30)

    async def send(self, message: Message, *, librdkafka: bool) -> None:
        topic = self.settings.topic(message.topic)
        headers = message.all_headers()
        if librdkafka:
            self.librdkafka.produce(topic, value=message.value, key=message.key, headers=headers,
                                    on_delivery=self._delivered)
            self.librdkafka.poll(0)
        else:
            self._acks.append(await self.aiokafka.send(topic, message.value, key=message.key, headers=headers))

    def _delivered(self, error: Any, _: Any) -> None:
        if error is not None:
            self._errors.append(str(error))

    async def flush(self) -> None:
        """Every message acknowledged by the broker (or an AssertionError naming what was not)."""
        await asyncio.gather(*self._acks)
        self._acks.clear()
        left = await asyncio.to_thread(self.librdkafka.flush, 30)
        if left:
            raise KafkaException(f"{left} messages not delivered by librdkafka")
        assert not self._errors, self._errors


async def progress(http: Mapping[str, httpx.AsyncClient]) -> dict[str, dict[str, Any]]:
    answers = await asyncio.gather(*(client.get("/ops/progress") for client in http.values()))
    return {name: answer.json() for name, answer in zip(http, answers, strict=True)}


def consumed(report: Mapping[str, Mapping[str, Any]], topic: str) -> int:
    return sum(service["consumed"].get(topic, 0) for service in report.values())


@dataclass(frozen=True)
class Drained:
    report: dict[str, dict[str, Any]]  # every service's /ops/progress
    idle_since: float  # time.monotonic() of the first idle look of the streak that ended the wait


async def wait_drained(http: Mapping[str, httpx.AsyncClient], *, at_least: Mapping[str, int],
                       timeout: float = 120.0, interval: float = 0.2) -> Drained:
    """Wait until every topic in `at_least` has had that many records consumed, then until every service
    is idle three looks in a row (no lag, no batch in flight, nothing unsent in its outbox): the effects
    of what was sent have gone through every service."""
    deadline = time.monotonic() + timeout
    streak: list[float] = []
    while True:
        looked = time.monotonic()
        report = await progress(http)
        counted = all(consumed(report, topic) >= n for topic, n in at_least.items())
        idle = counted and all(s["consumer_lag"] == 0 and s["batches_in_flight"] == 0 and s["outbox_unsent"] == 0
                               and not s["relaying"]
                               for s in report.values())
        streak = [*streak, looked] if idle else []
        if len(streak) >= 3:
            return Drained(report, streak[0])
        if time.monotonic() > deadline:
            raise AssertionError(f"not drained within {timeout:.0f} s: {report}")
        await asyncio.sleep(interval)


async def send_all(settings: Settings, messages: Sequence[Message], *, librdkafka_every: int = 2) -> None:
    """Send in the order given; every `librdkafka_every`-th message goes through confluent-kafka."""
    async with Producers(settings) as producers:
        for i, message in enumerate(messages):
            await producers.send(message, librdkafka=i % librdkafka_every == 1)
        await producers.flush()
