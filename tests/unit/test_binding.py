"""The CloudEvents Kafka protocol binding at the public doors: records made by the official SDK in
both content modes, every attribute case, and every refusal with its reason (design.md section 3)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cloudevents.v1 import kafka as legacy_kafka
from cloudevents.v1.http import CloudEvent as LegacyCloudEvent

from shared import telemetry
from shared.events import MAX_EVENT_BYTES, Event, InvalidEvent, topics
from shared.events.binding import ContentMode, content_mode, parse_record
from shared.messaging.consumer import BatchProcessor, Incoming, Record, handling
from tests.support.ce_sdk import binary, headers_of, key_of, structured
from tests.support.factories import checkout_order

ORDERS = topics.INGRESS_ORDERS
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
Headers = list[tuple[str, bytes | None]]


def order() -> Event[Any]:
    return checkout_order("S-1")


def parsed(value: bytes, headers: Headers, key: bytes | None = b"S-1", topic: str = ORDERS) -> Event[Any]:
    return parse_record(value, topic=topic, key=key, headers=headers)


def refusal(value: bytes, headers: Headers, key: bytes | None = b"S-1", topic: str = ORDERS) -> str:
    with pytest.raises(InvalidEvent) as caught:
        parsed(value, headers, key, topic)
    return caught.value.reason


def same_event(got: Event[Any], sent: Event[Any]) -> bool:
    fields = ("specversion", "id", "source", "type", "time", "sellerid", "subject", "data")
    return type(got) is type(sent) and all(getattr(got, f) == getattr(sent, f) for f in fields)


def replaced(headers: Headers, name: str, value: bytes | None) -> Headers:
    return [(n, v) for n, v in headers if n != name] + [(name, value)]


def without(headers: Headers, name: str) -> Headers:
    return [(n, v) for n, v in headers if n != name]


# --- the SDK's records are accepted, in both modes -------------------------------------------------------


@pytest.mark.parametrize("make", [binary, structured])
def test_an_order_built_with_the_official_sdk_is_the_same_event_in_either_mode(make: Any) -> None:
    sent = order()
    message = make(sent)
    got = parsed(message.value, headers_of(message), key_of(message))
    assert same_event(got, sent)
    assert got.model_extra == {"partitionkey": "S-1"}


def test_the_content_mode_is_decided_as_the_binding_says() -> None:
    assert content_mode([("content-type", b"application/cloudevents+json"), ("ce_specversion", b"1.0")]) \
        is ContentMode.STRUCTURED
    assert content_mode([("content-type", b"application/json"), ("ce_specversion", b"1.0")]) is ContentMode.BINARY
    assert content_mode([("CE_SPECVERSION", b"1.0")]) is ContentMode.BINARY
    assert content_mode([("content-type", b"application/json")]) is ContentMode.STRUCTURED
    assert content_mode([]) is ContentMode.STRUCTURED


def test_the_legacy_sdk_api_is_accepted_in_both_modes() -> None:
    """cloudevents.v1.kafka: its structured mode moves datacontenttype into the content-type header."""
    sent = order()
    document = json.loads(sent.to_bytes())
    legacy = LegacyCloudEvent({k: v for k, v in document.items() if k != "data"}, document["data"])
    for message in (legacy_kafka.to_binary(legacy), legacy_kafka.to_structured(legacy)):
        assert same_event(parsed(message.value, headers_of(message), b"S-1"), sent)


@pytest.mark.parametrize("make", [binary, structured])
@pytest.mark.parametrize("media_type", [None, "application/json; charset=utf-8", 'application/json;charset="UTF-8"',
                                        "application/vnd.shop.order+json", "text/json"])
def test_datacontenttype_may_be_absent_or_any_json_media_type(make: Any, media_type: str | None) -> None:
    sent = order()
    message = make(sent, datacontenttype=media_type)
    got = parsed(message.value, headers_of(message), key_of(message))
    assert same_event(got, sent)
    assert got.datacontenttype == (media_type or "application/json")


def test_the_media_type_is_read_in_any_case() -> None:
    """(The SDK's structured mode writes data as text for a type it does not recognise, so by hand.)"""
    message = binary(order(), datacontenttype="Application/JSON; Charset=UTF-8")
    assert parsed(message.value, headers_of(message)).datacontenttype == "Application/JSON; Charset=UTF-8"
    document = {**json.loads(order().to_bytes()), "datacontenttype": "APPLICATION/JSON"}
    assert parsed(json.dumps(document).encode(), []).datacontenttype == "APPLICATION/JSON"


@pytest.mark.parametrize("make", [binary, structured])
def test_every_valid_extension_attribute_is_accepted_and_kept(make: Any) -> None:
    extensions = {"traceparent": TRACEPARENT, "tracestate": "vendor=1", "dataschema": "https://shop.example/s.json",
                  "dataref": "https://shop.example/o/1", "comexampleextension1": "value", "x0123456789": "1"}
    message = make(order(), **extensions)
    got = parsed(message.value, headers_of(message), key_of(message))
    assert got.model_extra == {**extensions, "partitionkey": "S-1"}


def test_a_structured_event_takes_integer_boolean_and_null_extension_values() -> None:
    document = {**json.loads(order().to_bytes()), "priority": 3, "replayed": False, "dataschema": None}
    got = parsed(json.dumps(document).encode(), [])
    assert got.model_extra == {"priority": 3, "replayed": False, "dataschema": None}


@pytest.mark.parametrize("make", [binary, structured])
def test_traceparent_as_a_cloudevents_attribute_joins_the_trace(make: Any) -> None:
    message = make(order(), traceparent=TRACEPARENT, tracestate="vendor=1")
    record = Record("p.ingress.orders", 0, 0, key_of(message), message.value, tuple(headers_of(message)))  # type: ignore[arg-type]
    item = Incoming(parsed(message.value, headers_of(message), key_of(message)), record, ORDERS)
    assert item.trace_headers == {"traceparent": TRACEPARENT, "tracestate": "vendor=1"}


@pytest.mark.parametrize("make", [binary, structured])
def test_events_caused_by_a_record_continue_the_trace_of_its_traceparent_attribute(make: Any) -> None:
    message = make(order(), traceparent=TRACEPARENT)
    record = Record("p.ingress.orders", 0, 0, b"S-1", message.value, tuple(message.headers.items()))
    with handling(Incoming(parsed(message.value, headers_of(message)), record, ORDERS)):
        outgoing = telemetry.inject_context()  # what the outbox writes on the events this handler stages
    assert outgoing["traceparent"].split("-")[1] == TRACEPARENT.split("-")[1]


def test_the_records_own_traceparent_header_comes_before_the_attribute() -> None:
    message = structured(order(), traceparent=TRACEPARENT)
    hop = "00-11111111111111111111111111111111-2222222222222222-01"
    headers = (*message.headers.items(), ("traceparent", hop.encode()))
    record = Record("p.ingress.orders", 0, 0, b"S-1", message.value, headers)
    item = Incoming(parsed(message.value, list(headers)), record, ORDERS)
    assert item.trace_headers == {"traceparent": hop}


def test_structured_mode_ignores_ce_headers() -> None:
    message = structured(order())
    headers = [*headers_of(message), ("ce_sellerid", b"S-2"), ("ce_type", b"nonsense")]
    assert parsed(message.value, headers).sellerid == "S-1"


def test_a_structured_event_without_a_content_type_header_is_read() -> None:
    sent = order()
    assert same_event(parsed(sent.to_bytes(), []), sent)


# --- refusals and their reasons ---------------------------------------------------------------------------


@pytest.mark.parametrize("make,where", [(binary, "header `content-type`"), (structured, "datacontenttype")])
@pytest.mark.parametrize("media_type", ["text/plain", "application/xml", "application/json; charset=latin-1",
                                        "application/jsonx"])
def test_a_non_json_media_type_or_another_charset_is_refused(make: Any, where: str, media_type: str) -> None:
    message = make(order(), datacontenttype=media_type)
    reason = refusal(message.value, headers_of(message))
    assert f"{where}" in reason and "must be a JSON media type" in reason and "charset" in reason
    assert reason.startswith("binary mode: " if make is binary else "structured mode: ")


def test_a_binary_record_of_plain_text_is_refused_for_its_media_type() -> None:
    message = binary(order())
    reason = refusal(b"hello", replaced(headers_of(message), "content-type", b"text/plain"))
    assert reason == ("binary mode: header `content-type` must be a JSON media type (application/json), "
                      "with no charset other than utf-8")


@pytest.mark.parametrize("header", ["ce_id", "ce_source", "ce_type", "ce_time", "ce_sellerid", "ce_subject"])
def test_a_binary_record_missing_a_required_header_names_it(header: str) -> None:
    message = binary(order())
    assert refusal(message.value, without(headers_of(message), header)) == f"binary mode: header `{header}` is missing"


def test_a_binary_record_without_ce_specversion_is_read_as_structured_and_says_what_is_missing() -> None:
    message = binary(order())
    reason = refusal(message.value, without(headers_of(message), "ce_specversion"))
    assert reason.startswith("structured mode (a binary-mode message needs a `ce_specversion` header): ")


@pytest.mark.parametrize("header,value,expected", [
    ("ce_time", b"yesterday", "header `ce_time`: must be an RFC 3339 time with seconds and an offset"),
    ("ce_time", b"1700000000", "header `ce_time`: must be an RFC 3339 time with seconds and an offset"),
    ("ce_time", b"1999-12-31T23:59:59Z", "header `ce_time`: time out of range: it must lie in 2000-01-01"),
    ("ce_time", b"9999-01-01T00:00:00Z", "header `ce_time`: time out of range: it must lie in 2000-01-01"),
    ("ce_time", b"2026-03-02T09:00:00", "header `ce_time`: naive datetime"),
    ("ce_id", b"order-1", "header `ce_id`: must be a UUID"),
    ("ce_specversion", b"0.3", "header `ce_specversion`: Input should be '1.0'"),
    ("ce_sellerid", b"seller one", "header `ce_sellerid`: String should match pattern"),
    ("ce_subject", b"", "header `ce_subject`: String should have at least 1 character"),
    ("ce_comexample", b"bell\x07", "header `ce_comexample`: an extension attribute is a string (no control"),
    ("ce_type", b"sellerflow.order.teleported.v1", "header `ce_type`: unknown event type"),
    ("ce_type", b"sellerflow.order.confirmed.v1", "header `ce_type`: event type 'sellerflow.order.confirmed.v1' "
                                                  "is not allowed on topic 'ingress.orders'"),
])
def test_a_bad_binary_header_is_named_in_the_reason(header: str, value: bytes, expected: str) -> None:
    message = binary(order())
    reason = refusal(message.value, replaced(headers_of(message), header, value))
    assert reason.startswith("binary mode: ") and expected in reason


@pytest.mark.parametrize("headers,expected", [
    ([("ce_sellerid", b"S-1")], "header `ce_sellerid` appears more than once"),
    ([("CE_SELLERID", b"S-1")], "header `CE_SELLERID` appears more than once"),
    ([("ce_my-ext", b"x")], "header `ce_my-ext` names `my-ext`, which is not a CloudEvents attribute name"),
    ([("ce_data", b"{}")], "header `ce_data` is not allowed: the data is the message value"),
    ([("ce_datacontenttype", b"application/json")], "header `ce_datacontenttype` is not allowed"),
    ([("ce_comexample", None)], "header `ce_comexample` has no value"),
    ([("ce_comexample", b"\xff")], "header `ce_comexample` is not valid UTF-8"),
])
def test_a_binary_header_that_breaks_the_binding_is_refused(headers: Headers, expected: str) -> None:
    message = binary(order())
    assert refusal(message.value, headers_of(message) + headers).startswith(f"binary mode: {expected}")


@pytest.mark.parametrize("value,expected", [
    (b"not json", "the message value (the data) is not one JSON value"),
    (b"", "the message value (the data) is not one JSON value"),
    (b"\xff\xfe{}", "the message value (the data) is not valid UTF-8 (byte 0)"),
    (b"[1, 2]", "the message value (the data) is not a JSON object"),
    (b'"text"', "the message value (the data) is not a JSON object"),
])
def test_a_binary_value_that_is_not_one_json_object_is_refused(value: bytes, expected: str) -> None:
    message = binary(order())
    assert refusal(value, headers_of(message)) == f"binary mode: {expected}"


def test_a_binary_value_cannot_smuggle_attributes_past_its_headers() -> None:
    message = binary(order())
    smuggled = message.value + b', {"sellerid": "S-2"}'
    assert refusal(smuggled, headers_of(message)) == "binary mode: the message value (the data) is not one JSON value"


def test_binary_data_stays_strict() -> None:
    message = binary(order())
    data = json.loads(message.value)
    data["coupon"] = "FREE"
    data["lines"][0]["quantity"] = "2"
    reason = refusal(json.dumps(data).encode(), headers_of(message))
    assert reason.startswith(f"binary mode: invalid {order().type}: ")
    assert "data.lines[0].quantity: Input should be a valid integer" in reason
    assert "data.coupon: unknown field, not allowed here" in reason


def test_a_binary_value_over_one_mebibyte_is_refused() -> None:
    message = binary(order())
    reason = refusal(b" " * MAX_EVENT_BYTES + message.value, headers_of(message))
    assert reason.startswith("binary mode: the message value is") and "1 MiB" in reason


@pytest.mark.parametrize("change,expected", [
    ({"specversion": "0.3"}, "specversion: Input should be '1.0'"),
    ({"subject": 5}, "subject: Input should be a valid string"),
    ({"source": None}, "source: Input should be a valid string"),
    ({"Priority": "high"}, "attribute `Priority` is not a CloudEvents attribute name"),
    ({"data_base64": "e30="}, "attribute `data_base64` is not a CloudEvents attribute name"),
    ({"comexample": 1.5}, "comexample: an extension attribute is a string"),
    ({"comexample": {"nested": True}}, "comexample: an extension attribute is a string"),
    ({"comexample": 2**40}, "comexample: an extension attribute is a string"),
])
def test_a_bad_structured_attribute_is_refused_with_a_reason(change: dict[str, Any], expected: str) -> None:
    document = {**json.loads(order().to_bytes()), **change}
    reason = refusal(json.dumps(document).encode(), [("content-type", b"application/cloudevents+json")])
    assert reason.startswith("structured mode: ") and expected in reason


@pytest.mark.parametrize("content_type", [b"application/cloudevents-batch+json", b"application/cloudevents+avro"])
def test_a_structured_record_in_another_event_format_or_a_batch_is_refused(content_type: bytes) -> None:
    reason = refusal(order().to_bytes(), [("content-type", content_type)])
    assert reason.startswith("structured mode: header `content-type`") and "one JSON event per message" in reason


def test_the_structured_json_format_may_carry_a_charset() -> None:
    sent = order()
    assert same_event(parsed(sent.to_bytes(), [("content-type", b"application/cloudevents+json; charset=utf-8")]),
                      sent)


@pytest.mark.parametrize("make", [binary, structured])
def test_a_record_keyed_by_another_seller_or_not_at_all_is_refused_without_quoting_either(make: Any) -> None:
    message = make(order())
    reason = refusal(message.value, headers_of(message), key=b"S-2")
    assert reason == ("the message's Kafka key is not its `sellerid`; "
                      "the key must be the seller id, so one seller's events stay in order")
    assert "S-1" not in reason and "S-2" not in reason
    assert refusal(message.value, headers_of(message), key=None).startswith("the message has no Kafka key; ")


def test_a_reason_never_quotes_buyer_data() -> None:
    message = binary(order())
    data = json.loads(message.value)
    data["ship_to"]["name"] = "Secret Buyer " * 20
    reason = refusal(json.dumps(data).encode(), headers_of(message))
    assert "data.ship_to.name" in reason and "Secret" not in reason


def test_internal_topics_stay_structured_only() -> None:
    confirmed = binary(order(), type="sellerflow.order.confirmed.v1")
    reason = refusal(confirmed.value, headers_of(confirmed), topic=topics.ORDER_EVENTS)
    assert "no `type`" in reason and "mode" not in reason


# --- the consumer reads the doors through the binding -----------------------------------------------------


def test_the_consumer_applies_a_binary_record_and_dead_letters_a_mis_keyed_one() -> None:
    good, mis_keyed = binary(order()), structured(order())
    processor = BatchProcessor(pool=None, handler=None, service="unit", group="p.unit",  # type: ignore[arg-type]
                               logical_topic=lambda name: name.removeprefix("p."))
    records = [Record("p.ingress.orders", 0, 0, b"S-1", good.value, tuple(good.headers.items())),
               Record("p.ingress.orders", 0, 1, b"S-9", mis_keyed.value, tuple(mis_keyed.headers.items()))]
    items, poison = processor._parse(records)
    assert [str(item.event.id) for item in items] == [good.headers["ce_id"].decode()]
    assert [letter.record.offset for letter in poison] == [1]
    assert "Kafka key" in poison[0].reason

