"""Which retention each topic gets (shared/messaging/retention.py, design.md section 2)."""

from shared.events import topics
from shared.messaging.retention import FOREVER, retention_ms, topic_configs
from shared.settings import Settings

DAY_MS = 86_400_000


def test_ingress_topics_keep_seven_days_dead_letters_thirty_and_internal_topics_everything_by_default() -> None:
    settings = Settings()
    for ingress in topics.INGRESS_TOPICS:
        assert retention_ms(settings, ingress) == 7 * DAY_MS
    for topic in topics.ALL_TOPICS:
        assert retention_ms(settings, topics.dlq_topic(topic)) == 30 * DAY_MS
    for internal in topics.INTERNAL_TOPICS:
        assert retention_ms(settings, internal) == FOREVER == -1


def test_the_retention_days_are_settings_and_a_fraction_of_a_day_is_honoured() -> None:
    settings = Settings(ingress_retention_days=0.5, dlq_retention_days=90)
    assert topic_configs(settings, topics.INGRESS_CARRIER) == {"retention.ms": str(DAY_MS // 2)}
    assert topic_configs(settings, "order.events.dlq") == {"retention.ms": str(90 * DAY_MS)}
    assert topic_configs(settings, topics.ORDER_EVENTS) == {"retention.ms": "-1"}
