"""Our events as an integrator builds them with the official CloudEvents SDK, and the Kafka records
its Kafka protocol binding makes of them (`to_binary`, `to_structured`): used exactly as produced."""

from __future__ import annotations

import json
from typing import Any

from cloudevents.core.bindings import kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from shared.events import Event


def cloud_event(event: Event[Any], **attributes: Any) -> CloudEvent:
    """The SDK's CloudEvent of one of our events; `attributes` add, replace or (None) remove attributes."""
    document = json.loads(event.to_bytes())
    data = document.pop("data")
    document["time"] = event.time  # the SDK takes a datetime
    document.update(attributes)
    return CloudEvent(attributes={k: v for k, v in document.items() if v is not None}, data=data)


def binary(event: Event[Any], **attributes: Any) -> kafka.KafkaMessage:
    return kafka.to_binary(cloud_event(event, partitionkey=event.sellerid, **attributes), JSONFormat())


def structured(event: Event[Any], **attributes: Any) -> kafka.KafkaMessage:
    return kafka.to_structured(cloud_event(event, partitionkey=event.sellerid, **attributes), JSONFormat())


def key_of(message: kafka.KafkaMessage) -> bytes | None:
    return message.key.encode() if isinstance(message.key, str) else message.key


def headers_of(message: kafka.KafkaMessage) -> list[tuple[str, bytes | None]]:
    return list(message.headers.items())
