"""Topic retention on the real broker (shared/messaging/retention.py): ingress and dead-letter topics are
created with a finite retention, internal ones keep everything, and an existing topic is given its
retention where the broker allows (Tansu cannot alter configs: a warning, never a failure)."""

from __future__ import annotations

import logging

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.events import topics
from shared.messaging.broker import ensure_topics
from shared.settings import Settings

pytestmark = pytest.mark.integration

DAY_MS = 24 * 3600 * 1000


async def retentions(settings: Settings, names: list[str]) -> dict[str, str | None]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        [described] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in names])
        return {r["resource_name"]: {e["config_names"]: e["config_value"] for e in r["config_entries"]}
                .get("retention.ms") for r in described.to_object()["resources"]}
    finally:
        await admin.close()


async def test_topics_are_created_with_finite_retention_for_ingress_and_dead_letters_and_none_for_the_rest(
    settings: Settings,
) -> None:
    assert settings.kafka_bootstrap_servers
    settings = settings.model_copy(update={"ingress_retention_days": 2, "dlq_retention_days": 9})
    bootstrap = settings.kafka_bootstrap_servers
    report = await ensure_topics(settings, bootstrap, [topics.INGRESS_BUYER, topics.ORDER_EVENTS])
    names = [settings.topic(n) for n in ("ingress.buyer", "ingress.buyer.dlq", "order.events", "order.events.dlq")]
    assert sorted(report.created) == sorted(names) and report.retention.altered == []
    assert await retentions(settings, names) == dict(zip(names, [str(2 * DAY_MS), str(9 * DAY_MS), "-1",
                                                                 str(9 * DAY_MS)], strict=True))
    again = await ensure_topics(settings, bootstrap, [topics.INGRESS_BUYER])
    assert again.created == [] and again.retention.altered == again.retention.not_altered == []  # as wanted


async def test_an_existing_topic_without_retention_is_altered_or_named_with_a_warning_never_a_failure(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    assert settings.kafka_bootstrap_servers
    name = settings.topic(topics.INGRESS_ORDERS)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])  # made before retention
    finally:
        await admin.close()
    with caplog.at_level(logging.WARNING, logger="shared.messaging.retention"):
        report = await ensure_topics(settings, settings.kafka_bootstrap_servers, [topics.INGRESS_ORDERS])
    assert report.created == [settings.topic("ingress.orders.dlq")]
    if report.retention.altered:  # a broker that alters configs (Kafka)
        assert report.retention.altered == [name]
        assert (await retentions(settings, [name]))[name] == str(7 * DAY_MS)
    else:  # the embedded Tansu: left as it is, and said so
        assert report.retention.not_altered == [name]
        assert "could not alter topic configs" in caplog.text
