"""No row can stop a relay: what the broker refuses for good, what is retried, bounded dead letters (no I/O)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import pytest
from aiokafka import errors as kafka_errors

from sellerflow.dlq import parse_ref
from shared.messaging import dead_letters as dl
from shared.messaging.consumer import Record
from shared.messaging.outbox import OutboxRelay, is_permanent, record_size, refusal

LIMIT = 1_048_576


def test_a_record_over_the_limit_or_for_an_illegal_topic_is_refused_before_it_is_sent() -> None:
    assert refusal("p.order.events", b"S-1", b"{}", {}, LIMIT) is None
    over = refusal("p.order.events", b"S-1", b"x" * LIMIT, {}, LIMIT)
    assert over is not None and over.startswith("MessageSizeTooLargeError")
    headers_too = refusal("p.order.events", b"S-1", b"x" * (LIMIT - 1000), {"h": "y" * 2000}, LIMIT)
    assert headers_too is not None, "headers count towards the size"
    for illegal in ("", "has space", "slash/topic", "x" * 250):
        assert (refusal(illegal, None, b"{}", {}, LIMIT) or "").startswith("InvalidTopicError")


def test_size_refusals_and_bad_records_are_permanent_while_a_broker_away_is_transient() -> None:
    for permanent in (kafka_errors.MessageSizeTooLargeError(), kafka_errors.RecordTooLargeError(),
                      kafka_errors.InvalidTopicError(), kafka_errors.CorruptRecordException()):
        assert is_permanent(permanent)
    for transient in (kafka_errors.KafkaConnectionError(), kafka_errors.KafkaTimeoutError(),
                      kafka_errors.RequestTimedOutError(), kafka_errors.UnknownTopicOrPartitionError(),
                      kafka_errors.NotLeaderForPartitionError(), RuntimeError("unknown")):
        assert not is_permanent(transient)


class Broker:
    """A stand-in for the producer: fails the records it is told to, at hand-off or in the ack."""

    def __init__(self, at_send: dict[bytes, Exception], in_ack: dict[bytes, Exception]) -> None:
        self.at_send, self.in_ack = at_send, in_ack
        self.sent: list[bytes] = []

    async def publish(self, topic: str, key: bytes | None, value: bytes, headers: dict[str, str]) -> Awaitable[Any]:
        if value in self.at_send:
            raise self.at_send[value]
        self.sent.append(value)
        ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if value in self.in_ack:
            ack.set_exception(self.in_ack[value])
        else:
            ack.set_result(None)
        return ack


def row(n: int, bucket: int, value: bytes | None = None) -> dict[str, Any]:
    return {"id": n, "topic": "order.events", "key": f"S-{bucket}", "bucket": bucket,
            "value": value or f"row {n}".encode(), "headers": {}, "event_type": None}


async def test_each_row_is_settled_on_its_own_and_a_transient_failure_stalls_only_its_own_bucket() -> None:
    broker = Broker(at_send={b"row 3": kafka_errors.KafkaTimeoutError()},
                    in_ack={b"row 5": kafka_errors.MessageSizeTooLargeError(),
                            b"row 6": kafka_errors.RequestTimedOutError()})
    relay = OutboxRelay(None, broker.publish, dsn="", schema="s", service="unit",  # type: ignore[arg-type]
                        physical_topic=lambda t: f"p.{t}", max_message_bytes=1000)
    rows = [row(1, 0), row(2, 1), row(3, 0), row(4, 0), row(5, 1), row(6, 1), row(7, 1),
            row(8, 1, b"x" * 2000)]
    outcome = await relay.hand_over(rows)  # type: ignore[arg-type]
    assert [r["id"] for r in outcome.sent] == [1, 2, 7], "acknowledged rows are sent, whatever failed beside them"
    assert sorted((r["id"], reason.split(":")[0]) for r, reason in outcome.set_aside) == [
        (5, "MessageSizeTooLargeError"), (8, "MessageSizeTooLargeError")]
    assert b"row 4" not in broker.sent, "after a transient failure its bucket waits: no later row overtakes it"
    assert isinstance(outcome.transient, kafka_errors.KafkaError)
    assert outcome.settled == 5


def record(value: bytes, key: bytes = b"S-1", headers: tuple[tuple[str, bytes], ...] = ()) -> Record:
    return Record("p.ingress.carrier", 1, 42, key, value, headers)


def test_a_dead_letter_that_fits_goes_whole_with_a_reference_to_its_ledger_row() -> None:
    letter = dl.DeadLetter(record(b"{}", headers=(("traceparent", b"00-t"),)), "ingress.carrier", "p.fulfillment",
                           "InvalidEvent", "bad")
    out = letter.row("fulfillment/7")
    assert out.value == b"{}" and out.headers[dl.H_REF] == "fulfillment/7" and dl.H_TRUNCATED not in out.headers
    assert out.headers["traceparent"] == "00-t"


@pytest.mark.parametrize("size", [LIMIT - 276, LIMIT + 2_000])
def test_a_dead_letter_too_large_to_forward_carries_a_preview_and_stays_under_the_limit(size: int) -> None:
    value = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    letter = dl.DeadLetter(record(value, headers=(("big", b"h" * 5000), ("traceparent", b"00-t"))),
                           "ingress.carrier", "p.fulfillment", "InvalidEvent", "unknown field")
    out = letter.row("fulfillment/8", max_message_bytes=LIMIT)
    assert out.value == value[: dl.PREVIEW_BYTES]
    assert out.headers[dl.H_TRUNCATED] == "true" and out.headers[dl.H_SIZE] == str(size)
    assert out.headers[dl.H_REF] == "fulfillment/8" and "big" not in out.headers
    assert out.headers["traceparent"] == "00-t"
    assert record_size(out.key.encode(), out.value, out.headers) < LIMIT - dl.HEADROOM_BYTES


def test_a_letter_is_named_by_its_service_and_its_id() -> None:
    assert parse_ref("order/17") == ("order", 17)
    for bad in ("order", "order/", "/17", "order/x", "17"):
        with pytest.raises(ValueError, match="service"):
            parse_ref(bad)
