"""The Kafka side: broker factory, topic creation, the batch subscriber and the relay's publish."""

from __future__ import annotations

import contextlib
import logging
import ssl
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream import Context
from faststream.kafka import KafkaBroker, Topic
from faststream.kafka.message import KafkaMessage
from faststream.middlewares import AckPolicy
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from shared import telemetry
from shared.events import topics
from shared.messaging.consumer import BatchProcessor, Record
from shared.messaging.retention import RetentionReport, align_retention, retention_ms, topic_configs
from shared.settings import Settings

log = logging.getLogger(__name__)


def _security(settings: Settings) -> BaseSecurity | None:
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile) if "SSL" in protocol else None
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context, use_ssl=True)
    password = settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else ""
    sasl = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}
    cls = sasl[settings.kafka_sasl_mechanism]
    return cls(username=settings.kafka_sasl_username or "", password=password, ssl_context=context,
               use_ssl=protocol == "SASL_SSL")


def make_broker(settings: Settings, bootstrap_servers: str, *, client_id: str) -> KafkaBroker:
    """acks=all; linger a little so the relay's batches go out together; no idempotence (Tansu lacks it)."""
    return KafkaBroker(
        bootstrap_servers,
        acks="all",
        linger_ms=5,
        max_batch_size=256 * 1024,
        max_request_size=settings.kafka_max_message_bytes,
        client_id=client_id,
        security=_security(settings),
        logger=logging.getLogger("faststream"),
        graceful_timeout=15.0,
    )


def _admin_security_kwargs(settings: Settings) -> dict[str, Any]:
    security = _security(settings)
    if security is None:
        return {}
    kwargs: dict[str, Any] = {"security_protocol": settings.kafka_security_protocol}
    if security.ssl_context is not None:
        kwargs["ssl_context"] = security.ssl_context
    if isinstance(security, SASLPlaintext | SASLScram256 | SASLScram512):
        kwargs.update(sasl_mechanism=settings.kafka_sasl_mechanism, sasl_plain_username=security.username,
                      sasl_plain_password=security.password)
    return kwargs


async def create_topics(settings: Settings, bootstrap_servers: str, logical: Iterable[str]) -> list[str]:
    """Create each topic (and its dead-letter topic) with TOPIC_PARTITIONS partitions; existing ones stay."""
    return (await ensure_topics(settings, bootstrap_servers, logical)).created


@dataclass
class TopicsReport:
    created: list[str]
    retention: RetentionReport


async def ensure_topics(settings: Settings, bootstrap_servers: str, logical: Iterable[str]) -> TopicsReport:
    """Create the missing topics with their retention (shared.messaging.retention), and give the existing
    ones theirs where the broker allows."""
    wanted = {settings.topic(name): name for t in logical for name in (t, topics.dlq_topic(t))}
    names = sorted(wanted)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **_admin_security_kwargs(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            new = [NewTopic(n, num_partitions=settings.topic_partitions, replication_factor=1,
                            topic_configs=topic_configs(settings, wanted[n])) for n in missing]
            with contextlib.suppress(TopicAlreadyExistsError):  # a replica starting at once won the race
                await admin.create_topics(new)
        kept = {n: retention_ms(settings, wanted[n]) for n in names if n in existing}
        return TopicsReport(missing, await align_retention(admin, kept))
    finally:
        await admin.close()


def records_of(message: KafkaMessage) -> list[Record]:
    raw = message.raw_message
    batch = raw if isinstance(raw, tuple) else (raw,)
    # FastStream's in-memory TestKafkaBroker nests a batch one level deeper than aiokafka does.
    batch = tuple(r for part in batch for r in (part if isinstance(part, list | tuple) else (part,)))
    return [
        Record(r.topic, r.partition, r.offset, r.key, r.value if r.value is not None else b"", tuple(r.headers))
        for r in batch
    ]


def _observe_lag(service: str, message: KafkaMessage, records: Sequence[Record]) -> None:
    consumer = getattr(message, "consumer", None)
    highwater = getattr(consumer, "highwater", None)
    if highwater is None:
        return
    from aiokafka import TopicPartition

    last: dict[tuple[str, int], int] = {}
    for r in records:
        last[(r.topic, r.partition)] = max(r.offset, last.get((r.topic, r.partition), -1))
    for (topic, partition), offset in last.items():
        end = highwater(TopicPartition(topic, partition))
        if end is not None:
            telemetry.CONSUMER_LAG.labels(service, topic, str(partition)).set(max(end - offset - 1, 0))


def subscribe(
    broker: KafkaBroker,
    processor: BatchProcessor,
    settings: Settings,
    logical_topics: Sequence[str],
    *,
    description: str,
) -> None:
    """One batch subscriber for all of a service's inputs: one consumer-group join, not one per topic.

    NACK_ON_ERROR: offsets are committed after the batch's transaction commits; a batch that raises
    is sought back and fetched again. Never ACK_FIRST, which would commit before handling.
    """
    declared = [Topic(settings.topic(t), num_partitions=settings.topic_partitions) for t in logical_topics]

    @broker.subscriber(
        *declared,
        group_id=processor.group,
        batch=True,
        max_records=settings.consumer_max_records,
        fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
        auto_offset_reset="earliest",  # never latest: Tansu's end offsets are unreliable; the inbox dedupes
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title=f"{processor.service}:inputs",
        description=description,
        decoder=_raw_batch,
    )
    async def on_batch(message: KafkaMessage = Context("message")) -> None:
        records = records_of(message)
        await processor.process(records)
        _observe_lag(processor.service, message, records)


async def _raw_batch(message: Any) -> None:
    """The batch handler reads raw records (`records_of`); FastStream's own decoder would build a
    message object and json-decode the body of every record for nothing (an eighth of a service's CPU)."""
    return None


def relay_publisher(broker: KafkaBroker) -> Any:
    """The outbox relay's publish: send without waiting, hand back the acknowledgement to await."""

    async def publish(topic: str, key: bytes | None, value: bytes, headers: dict[str, str]) -> Awaitable[Any]:
        return await broker.publish(value, topic, key=key, headers=headers, no_confirm=True)

    return publish
