"""The consumer's parsing and dead-letter records, and its FastStream wiring (no broker, no database)."""

from __future__ import annotations

from typing import Any

from faststream.kafka import KafkaBroker, TestKafkaBroker

from shared.events import topics
from shared.messaging import dead_letters as dl
from shared.messaging.broker import subscribe
from shared.messaging.consumer import BatchProcessor, Record
from shared.settings import Settings
from tests.support.factories import checkout_order

SETTINGS = Settings(topic_prefix="p.", kafka_bootstrap_servers="unused:9092")


def processor(handled: list[Any] | None = None) -> BatchProcessor:
    async def handler(conn: Any, batch: Any) -> None:  # pragma: no cover - no database here
        raise AssertionError("not called in these tests")

    return BatchProcessor(pool=None, handler=handler, service="unit", group="p.unit",  # type: ignore[arg-type]
                          logical_topic=SETTINGS.logical_topic)


def record(value: bytes, offset: int = 0, headers: tuple[tuple[str, bytes], ...] = ()) -> Record:
    return Record("p.ingress.orders", 2, offset, b"S-1", value, headers)


def test_parsing_splits_a_batch_into_events_and_dead_letters_and_keeps_one_copy_of_a_repeated_event() -> None:
    event = checkout_order("S-1")
    records = [record(event.to_bytes(), 0), record(b"\xff\xfe", 1), record(event.to_bytes(), 2),
               record(b'{"specversion": "1.0"}', 3)]
    items, poison = processor()._parse(records)
    assert [item.event.id for item in items] == [event.id]
    assert items[0].topic == topics.INGRESS_ORDERS
    assert [letter.record.offset for letter in poison] == [1, 3]
    assert "UTF-8" in poison[0].reason


def test_a_dead_letter_keeps_the_original_bytes_and_says_where_it_came_from() -> None:
    original = record(b"not json", 7, headers=(("traceparent", b"00-abc"), ("dlq.error.type", b"old")))
    letter = dl.DeadLetter(original, topics.INGRESS_ORDERS, "p.order", "InvalidEvent", "not JSON")
    row = letter.row("order/1")
    assert row.value == b"not json"
    assert row.topic == "ingress.orders.dlq"  # logical: the relay adds the prefix
    assert row.key == "S-1"
    assert row.headers[dl.H_TOPIC] == "p.ingress.orders"
    assert (row.headers[dl.H_PARTITION], row.headers[dl.H_OFFSET]) == ("2", "7")
    assert row.headers[dl.H_GROUP] == "p.order"
    assert row.headers[dl.H_ERROR_MESSAGE] == "not JSON"
    assert row.headers["traceparent"] == "00-abc"  # the trace goes on
    assert row.headers[dl.H_ERROR_TYPE] == "InvalidEvent"  # a replayed letter's old reason is replaced


def test_the_same_record_always_has_the_same_dead_letter_id() -> None:
    first = dl.DeadLetter(record(b"x", 7), "ingress.orders", "p.order", "E", "r")
    again = dl.DeadLetter(record(b"x", 7), "ingress.orders", "p.order", "E", "other reason")
    later = dl.DeadLetter(record(b"x", 8), "ingress.orders", "p.order", "E", "r")
    assert first.dedupe_id == again.dedupe_id != later.dedupe_id


async def test_one_batch_subscriber_reads_every_input_topic_and_hands_records_to_the_processor() -> None:
    seen: list[Record] = []

    class Recording(BatchProcessor):
        async def process(self, records: Any) -> None:
            seen.extend(records)

    broker = KafkaBroker("unused:9092")
    recording = Recording(pool=None, handler=None, service="unit", group="p.unit",  # type: ignore[arg-type]
                          logical_topic=SETTINGS.logical_topic)
    subscribe(broker, recording, SETTINGS, [topics.INGRESS_ORDERS, topics.CLOCK_EVENTS], description="unit")
    assert len(broker.subscribers) == 1
    event = checkout_order("S-1")
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(event.to_bytes(), "p.ingress.orders", key=b"S-1")
        await test_broker.publish(b"poison", "p.clock.events", key=b"clock")
    assert [r.value for r in seen] == [event.to_bytes(), b"poison"]
    assert {r.topic for r in seen} == {"p.ingress.orders", "p.clock.events"}


def test_records_of_types_the_service_does_not_handle_are_skipped_unparsed_only_on_topics_sellerflow_writes() -> None:
    class Handler:
        handled_types = frozenset({"sellerflow.order.placed.v1"})

        async def __call__(self, conn: Any, batch: Any) -> None:  # pragma: no cover - not called
            raise AssertionError

    unit = BatchProcessor(pool=None, handler=Handler(), service="unit", group="p.unit",  # type: ignore[arg-type]
                          logical_topic=SETTINGS.logical_topic)
    ignored = (("ce_type", b"sellerflow.order.status_changed.v1"),)
    internal = Record("p.order.events", 0, 0, b"S-1", b"not even json", ignored)
    ingress = Record("p.ingress.orders", 0, 1, b"S-1", b"not even json", ignored)
    items, poison = unit._parse([internal, ingress])
    assert items == []
    assert [letter.record.topic for letter in poison] == ["p.ingress.orders"]  # an outsider's header is not trusted
