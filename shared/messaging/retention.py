"""How long each topic keeps its records (design.md section 2), set when topics are created and
re-applied to topics that exist.

Ingress topics hold other systems' data, buyer data included, and nothing replays them: they keep
`INGRESS_RETENTION_DAYS`. Every dead-letter topic keeps `DLQ_RETENTION_DAYS`. Internal topics are
replayed by `sellerflow metrics rebuild`, so they keep everything (`retention.ms` -1): the buyer data on
them is sealed, and erased by destroying its key (shared/crypto.py), not by expiry.

A broker that cannot describe or alter topic configs (the embedded Tansu cannot alter them) gets a
warning, never a failed start: the topics work, with the retention they have.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError

from shared.events import topics
from shared.settings import Settings

log = logging.getLogger(__name__)

RETENTION = "retention.ms"
FOREVER = -1
_ADMIN_ERRORS = (KafkaError, OSError, asyncio.TimeoutError)


def retention_ms(settings: Settings, logical: str) -> int:
    """The retention of a logical topic: finite for ingress and dead letters, for ever for the rest."""
    if logical.endswith(topics.DLQ_SUFFIX):
        return _ms(timedelta(days=settings.dlq_retention_days))
    if logical in topics.INGRESS_TOPICS:
        return _ms(timedelta(days=settings.ingress_retention_days))
    return FOREVER


def topic_configs(settings: Settings, logical: str) -> dict[str, str]:
    """The configs a topic is created with."""
    return {RETENTION: str(retention_ms(settings, logical))}


@dataclass
class RetentionReport:
    altered: list[str] = field(default_factory=list)  # existing topics now at their retention
    not_altered: list[str] = field(default_factory=list)  # the broker could not tell or change (warned)


async def align_retention(admin: AIOKafkaAdminClient, wanted: dict[str, int]) -> RetentionReport:
    """Alter the existing topics (physical name -> retention.ms) whose retention differs from the one wanted."""
    report = RetentionReport()
    if not wanted:
        return report
    try:  # every config of each topic: Tansu drops the connection when asked for named ones
        described = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in wanted])
    except _ADMIN_ERRORS as error:
        return _cannot(report, sorted(wanted), "describe", error)
    current = {name: value for response in described for name, value in _retentions(response)}
    stale = {name: ms for name, ms in wanted.items() if current.get(name) != str(ms)}
    if not stale:
        return report
    # AlterConfigs (aiokafka has no incremental form) replaces a topic's overrides: ours is the only one.
    changes = [ConfigResource(ConfigResourceType.TOPIC, name, {RETENTION: str(ms)}) for name, ms in stale.items()]
    try:
        answers = await admin.alter_configs(changes)
    except _ADMIN_ERRORS as error:
        return _cannot(report, sorted(stale), "alter", error)
    refused = {name for response in answers for name, code in _errors(response) if code != 0}
    report.altered = sorted(stale.keys() - refused)
    if refused:
        _cannot(report, sorted(refused), "alter", "refused by the broker")
    return report


def _cannot(report: RetentionReport, names: list[str], what: str, why: object) -> RetentionReport:
    log.warning("the broker could not %s topic configs (%s): the retention of %d topics is left as it is",
                what, why, len(names), extra={"topics": names})
    report.not_altered += names
    return report


def _retentions(response: Any) -> list[tuple[str, str | None]]:
    found = []
    for resource in response.to_object().get("resources", []):
        values = {entry["config_names"]: entry["config_value"] for entry in resource.get("config_entries", [])}
        if resource.get("error_code", 0) == 0:
            found.append((resource["resource_name"], values.get(RETENTION)))
    return found


def _errors(response: Any) -> list[tuple[str, int]]:
    return [(resource["resource_name"], resource["error_code"]) for resource in response.to_object()["resources"]]


def _ms(span: timedelta) -> int:
    return int(span.total_seconds() * 1000)
