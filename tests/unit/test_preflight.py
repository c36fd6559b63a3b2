"""What `sellerflow` checks before it starts anything: settings as one line each, ports free and distinct,
and what makes a broker count as lost."""

from __future__ import annotations

import socket

import pytest
from pydantic import ValidationError

from sellerflow.preflight import check_ports, settings_errors
from shared.recovery import BrokerView
from shared.settings import Settings, StartupError


def test_each_bad_variable_is_one_line_and_a_secret_is_never_repeated() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(topic_partitions=0, auth_secret=["not", "a", "string"])  # type: ignore[arg-type]
    lines = settings_errors(caught.value)
    assert lines[0] == "TOPIC_PARTITIONS=0: Input should be greater than or equal to 1"
    assert lines[1].startswith("AUTH_SECRET: ") and "not" not in lines[1]


def test_a_port_someone_listens_on_is_named_with_the_variable_to_change() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        with pytest.raises(StartupError, match=f"port {busy} for the order service is in use.*SERVICE_PORT_ORDER"):
            check_ports(Settings(service_port_order=busy), ["order"])


def test_two_services_on_one_port_are_refused() -> None:
    with pytest.raises(StartupError, match="listing and order would both listen on port 9000"):
        check_ports(Settings(service_port_listing=9000, service_port_order=9000), ["listing", "order"])


def test_a_broker_with_another_cluster_id_or_without_our_topics_is_a_lost_one() -> None:
    known = BrokerView("cluster-a", ())
    assert BrokerView("cluster-a", ()).lost_since(known) is None
    assert "cluster id changed" in (BrokerView("cluster-b", ()).lost_since(known) or "")
    assert "declared topics are gone" in (BrokerView("cluster-a", ("t.order.events",)).lost_since(known) or "")
