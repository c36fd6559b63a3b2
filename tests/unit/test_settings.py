"""Settings: the embedded default, topic and schema prefixes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.settings import Settings, StartupError


def test_with_neither_broker_nor_database_named_the_embedded_default_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert Settings().embedded


def test_naming_only_one_of_broker_and_database_is_an_error_at_start() -> None:
    settings = Settings(kafka_bootstrap_servers="kafka:9092", database_url=None)
    assert not settings.embedded
    with pytest.raises(StartupError, match=r"^KAFKA_BOOTSTRAP_SERVERS is set but DATABASE_URL is not$"):
        settings.require_infrastructure()


def test_prefixes_isolate_topics_and_schemas() -> None:
    settings = Settings(topic_prefix="t1.", db_schema_prefix="t1_")
    assert settings.topic("order.events") == "t1.order.events"
    assert settings.logical_topic("t1.order.events") == "order.events"
    assert settings.schema_for("order") == "t1_order"


def test_a_schema_prefix_that_is_not_a_plain_identifier_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(db_schema_prefix='x"; drop schema public; --')


def test_service_ports_default_per_service_and_follow_service_port() -> None:
    assert Settings().port_for("metrics") == 8005
    assert Settings(service_port=9000).port_for("metrics") == 9000


def test_a_service_port_of_its_own_wins_over_service_port_and_is_the_variable_to_change() -> None:
    settings = Settings(service_port=9000, service_port_order=9102)
    assert settings.port_for("order") == 9102
    assert settings.port_variable("order") == "SERVICE_PORT_ORDER"
    assert settings.port_for("listing") == 9000
    assert settings.port_variable("listing") == "SERVICE_PORT"
    assert Settings().port_variable("listing") == "SERVICE_PORT_LISTING"


def test_the_embedded_database_is_durable_unless_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EMBEDDED_DURABLE", raising=False)
    assert Settings().embedded_durable
    monkeypatch.setenv("EMBEDDED_DURABLE", "false")
    assert not Settings().embedded_durable
