"""The event contracts: envelope, round trips, and every class of bad input parse_event refuses."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from shared.events import (
    EVENT_TYPES,
    MAX_EVENT_BYTES,
    ClockTicked,
    Event,
    IngressPayload,
    InvalidEvent,
    OrderPlaced,
    Payload,
    ShipmentDelivered,
    new_event,
    parse_event,
    topics,
)
from shared.events.common import Money, mask_secret
from shared.events.listing import ListingCreated
from tests.unit.event_samples import LISTING, SAMPLES, SHIPMENT, T0

ORDER_PLACED = "sellerflow.checkout.order_placed.v1"
SCAN = "sellerflow.carrier.scan_recorded.v1"


def wrap(payload: Payload, **envelope: Any) -> Event[Any]:
    fields: dict[str, Any] = {"seller_id": f"seller-{uuid4().hex[:8]}", "subject": "subject-1", "time": T0,
                              "source": "/sellerflow/test"}
    return new_event(payload, **{**fields, **envelope})


def message(event_type: str) -> dict[str, Any]:
    """A valid message of the type as a JSON object, to break on purpose."""
    loaded: dict[str, Any] = json.loads(wrap(SAMPLES[event_type]).to_bytes())
    return loaded


def refusal(raw: bytes | str | dict[str, Any], topic: str | None = None) -> str:
    body = json.dumps(raw) if isinstance(raw, dict) else raw
    with pytest.raises(InvalidEvent) as caught:
        parse_event(body, topic=topic)
    assert caught.value.reason == str(caught.value)
    return caught.value.reason


# --- the catalog ------------------------------------------------------------------------------------


def test_every_event_type_has_a_sample() -> None:
    assert set(SAMPLES) == set(EVENT_TYPES)


def test_every_event_type_is_named_sellerflow_area_event_major_version() -> None:
    for event_type, cls in EVENT_TYPES.items():
        assert re.fullmatch(r"sellerflow\.[a-z_]+\.[a-z_]+\.v1", event_type)
        assert event_type == cls.EVENT_TYPE


def test_ingress_types_are_strict_and_only_on_ingress_topics() -> None:
    for cls in EVENT_TYPES.values():
        on_ingress = [topic in topics.INGRESS_TOPICS for topic in cls.TOPICS]
        assert all(on_ingress) == issubclass(cls, IngressPayload) == any(on_ingress)
        if issubclass(cls, IngressPayload):
            assert cls.model_config.get("extra") == "forbid"


def test_every_topic_carries_at_least_one_type() -> None:
    carried = {topic for cls in EVENT_TYPES.values() for topic in cls.TOPICS}
    assert carried == set(topics.ALL_TOPICS)


def test_policy_violation_is_one_type_on_the_listing_and_aftersales_topics() -> None:
    assert EVENT_TYPES["sellerflow.policy.violation.v1"].TOPICS == (
        topics.LISTING_EVENTS,
        topics.AFTERSALES_EVENTS,
    )


def test_a_payload_with_a_badly_named_type_is_refused_at_definition() -> None:
    with pytest.raises(TypeError, match="sellerflow"):

        class Bad(Payload):
            EVENT_TYPE: ClassVar[str] = "order.placed"
            TOPICS: ClassVar[tuple[str, ...]] = (topics.ORDER_EVENTS,)

    assert "order.placed" not in EVENT_TYPES


def test_an_internal_payload_cannot_be_declared_on_an_ingress_topic() -> None:
    with pytest.raises(TypeError, match="ingress"):

        class Sneaky(Payload):
            EVENT_TYPE: ClassVar[str] = "sellerflow.test.sneaky.v1"
            TOPICS: ClassVar[tuple[str, ...]] = (topics.INGRESS_ORDERS,)

    assert "sellerflow.test.sneaky.v1" not in EVENT_TYPES


def test_topics_have_dead_letter_topics_and_one_list() -> None:
    assert topics.dlq_topic(topics.ORDER_EVENTS) == "order.events.dlq"
    assert len(set(topics.ALL_TOPICS)) == len(topics.ALL_TOPICS) == 10
    assert set(topics.INGRESS_TOPICS) <= set(topics.ALL_TOPICS)
    assert not any(topic.endswith(".dlq") for topic in topics.ALL_TOPICS)


# --- round trips and the envelope --------------------------------------------------------------------


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_every_type_survives_a_round_trip_on_its_topics(event_type: str) -> None:
    event = wrap(SAMPLES[event_type])
    for topic in SAMPLES[event_type].TOPICS:
        parsed = parse_event(event.to_bytes(), topic=topic)
        assert parsed == event
        assert type(parsed.data) is EVENT_TYPES[event_type]
    assert parse_event(event.to_bytes().decode()) == event


def test_new_event_takes_the_type_from_the_payload_and_a_random_id() -> None:
    first, second = wrap(SAMPLES[ORDER_PLACED]), wrap(SAMPLES[ORDER_PLACED])
    assert first.type == ORDER_PLACED and first.specversion == "1.0"
    assert first.datacontenttype == "application/json"
    assert first.id != second.id and first.id.version == 4


def test_new_event_keeps_a_given_id() -> None:
    event_id = uuid4()
    assert wrap(ClockTicked(now=T0), event_id=event_id).id == event_id


def test_new_event_refuses_a_naive_time() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        wrap(ClockTicked(now=T0), time=datetime(2025, 3, 3, 9, 30))


def test_new_event_refuses_a_payload_that_is_not_an_event_type() -> None:
    with pytest.raises(TypeError):
        new_event(Payload(), seller_id="s-1", subject="x", time=T0, source="/x")


def test_the_wire_format_is_compact_json_with_string_decimals_and_utc_z_times() -> None:
    plus_one = datetime(2025, 3, 3, 11, 30, tzinfo=timezone(timedelta(hours=1)))
    raw = wrap(SAMPLES[ORDER_PLACED], time=plus_one).to_bytes()
    assert raw.startswith(b'{"specversion":"1.0","id":"') and b'": ' not in raw and b'", "' not in raw
    body = json.loads(raw.decode("utf-8"))
    assert body["time"] == "2025-03-03T10:30:00Z"
    assert body["data"]["lines"][0]["unit_price"] == {"amount": "9.90", "currency": "EUR"}
    assert body["data"]["purchased_at"] == "2025-03-03T09:30:00Z"


def test_times_in_other_offsets_are_normalised_to_utc() -> None:
    body = message("sellerflow.clock.ticked.v1")
    body["data"]["now"] = "2025-03-03T11:30:00+02:00"
    event = parse_event(json.dumps(body), topic=topics.CLOCK_EVENTS)
    assert event.data.now == datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
    assert event.data.now.utcoffset() == timedelta(0)


def test_the_seller_id_is_the_key_and_data_is_typed() -> None:
    event = parse_event(wrap(SAMPLES["sellerflow.order.placed.v1"], seller_id="seller-42").to_bytes())
    assert event.seller_id == "seller-42" and event.key == b"seller-42"
    assert event.data_as(OrderPlaced).total == Money(amount=Decimal("19.80"), currency="EUR")
    with pytest.raises(TypeError):
        event.data_as(ClockTicked)


def test_events_are_frozen() -> None:
    event = wrap(ClockTicked(now=T0))
    with pytest.raises(ValidationError):
        event.subject = "other"  # type: ignore[misc]


def test_unknown_fields_of_internal_events_are_ignored() -> None:
    body = message("sellerflow.order.placed.v1")
    body["traceparent"] = "00-abc"
    body["data"]["added_in_a_later_version"] = True
    event = parse_event(json.dumps(body), topic=topics.ORDER_EVENTS)
    assert event.data == SAMPLES["sellerflow.order.placed.v1"]


def test_a_dead_letter_topic_accepts_what_its_topic_accepts() -> None:
    raw = wrap(SAMPLES[ORDER_PLACED]).to_bytes()
    assert parse_event(raw, topic=topics.dlq_topic(topics.INGRESS_ORDERS)).type == ORDER_PLACED


def test_an_unknown_topic_is_a_wiring_error_not_a_bad_message() -> None:
    with pytest.raises(ValueError, match="unknown topic") as caught:
        parse_event(b"{}", topic="no.such.topic")
    assert not isinstance(caught.value, InvalidEvent)


# --- bad input: each class is refused with a reason that names it ------------------------------------


def test_a_message_over_one_mebibyte_is_refused() -> None:
    body = message(ORDER_PLACED)
    body["data"]["lines"][0]["comment"] = "x" * MAX_EVENT_BYTES
    assert "over the limit" in refusal(json.dumps(body).encode())
    assert "over the limit" in refusal("é" * (MAX_EVENT_BYTES // 2 + 1))


def test_a_body_that_is_not_utf8_is_refused() -> None:
    assert "not valid UTF-8" in refusal(b'{"type": "\xff\xfe"}')


def test_a_body_that_is_not_json_is_refused() -> None:
    assert "not valid JSON" in refusal(b'{"type": ')


def test_a_json_body_that_is_not_an_object_is_refused() -> None:
    assert "not a JSON object" in refusal(b"[1, 2]")
    assert "not a JSON object" in refusal(b"null", topic=topics.CLOCK_EVENTS)


def test_a_message_without_a_type_is_refused() -> None:
    body = message("sellerflow.clock.ticked.v1")
    del body["type"]
    assert "no `type`" in refusal(body)
    assert "no `type`" in refusal(body, topic=topics.CLOCK_EVENTS)


def test_an_unknown_type_is_refused() -> None:
    body = {**message(ORDER_PLACED), "type": "sellerflow.order.teleported.v1"}
    assert "unknown event type 'sellerflow.order.teleported.v1'" in refusal(body)
    assert "unknown event type" in refusal({**body, "type": "nope"}, topic=topics.CLOCK_EVENTS)


def test_a_type_on_the_wrong_topic_is_refused() -> None:
    reason = refusal(message(ORDER_PLACED), topic=topics.ORDER_EVENTS)
    assert reason == f"event type '{ORDER_PLACED}' is not allowed on topic 'order.events'"
    assert "not allowed on topic 'clock.events'" in refusal(message(ORDER_PLACED), topic=topics.CLOCK_EVENTS)


def test_an_order_with_unknown_fields_is_refused() -> None:
    body = message(ORDER_PLACED)
    body["data"]["coupon"] = "FREE"
    expected = f"invalid {ORDER_PLACED}: data.coupon: unknown field, not allowed here"
    assert refusal(body, topic=topics.INGRESS_ORDERS) == expected
    body = message(ORDER_PLACED)
    body["data"]["ship_to"]["email"] = "someone@example.com"
    assert "data.ship_to.email: unknown field" in refusal(body, topic=topics.INGRESS_ORDERS)


def test_an_ingress_envelope_field_that_is_no_cloudevents_attribute_name_is_refused() -> None:
    body = {**message(ORDER_PLACED), "partition_key": "x"}
    assert "attribute `partition_key` is not a CloudEvents attribute name" in refusal(body, topic=topics.INGRESS_ORDERS)


def test_a_negative_quantity_is_refused() -> None:
    body = message(ORDER_PLACED)
    body["data"]["lines"][0]["quantity"] = -1
    reason = refusal(body, topic=topics.INGRESS_ORDERS)
    assert "data.lines[0].quantity" in reason and "greater than or equal to 1" in reason


def test_a_naive_datetime_is_refused() -> None:
    body = message(ORDER_PLACED)
    body["data"]["purchased_at"] = "2025-03-03T09:30:00"
    assert "data.purchased_at: naive datetime" in refusal(body, topic=topics.INGRESS_ORDERS)
    body = {**message("sellerflow.clock.ticked.v1"), "time": "2025-03-03T09:30:00"}
    assert "time: naive datetime" in refusal(body, topic=topics.CLOCK_EVENTS)


def test_ingress_values_are_not_coerced() -> None:
    body = message(ORDER_PLACED)
    body["data"]["lines"][0]["quantity"] = "2"
    assert "data.lines[0].quantity: Input should be a valid integer" in refusal(body, topic=topics.INGRESS_ORDERS)


def test_a_negative_amount_is_refused() -> None:
    body = message(ORDER_PLACED)
    body["data"]["lines"][0]["unit_price"]["amount"] = "-1.00"
    assert "data.lines[0].unit_price.amount" in refusal(body, topic=topics.INGRESS_ORDERS)


def test_an_amount_with_three_decimals_is_refused() -> None:
    body = message(ORDER_PLACED)
    body["data"]["lines"][0]["unit_price"]["amount"] = "9.999"
    assert "decimal places" in refusal(body, topic=topics.INGRESS_ORDERS)


def test_lines_in_another_currency_are_refused() -> None:
    body = message(ORDER_PLACED)
    body["data"]["lines"][0]["unit_price"]["currency"] = "USD"
    assert "order currency" in refusal(body, topic=topics.INGRESS_ORDERS)


def test_a_line_that_names_no_listing_or_sku_is_refused() -> None:
    body = message(ORDER_PLACED)
    del body["data"]["lines"][0]["listing_id"]
    assert "data.lines[0]: a line needs a listing_id or a sku" in refusal(body, topic=topics.INGRESS_ORDERS)


def test_an_order_without_lines_is_refused() -> None:
    body = message(ORDER_PLACED)
    body["data"]["lines"] = []
    assert "data.lines" in refusal(body, topic=topics.INGRESS_ORDERS)


def test_a_string_over_its_length_is_refused_without_quoting_it() -> None:
    body = message(ORDER_PLACED)
    body["data"]["ship_to"]["name"] = "Secret Buyer Name " * 10
    reason = refusal(body, topic=topics.INGRESS_ORDERS)
    assert "data.ship_to.name" in reason and "at most 100 characters" in reason
    assert "Secret" not in reason


def test_stars_outside_one_to_five_are_refused() -> None:
    body = message("sellerflow.buyer.feedback_left.v1")
    for stars in (0, 6):
        body["data"]["stars"] = stars
        assert "data.stars" in refusal(body, topic=topics.INGRESS_BUYER)


def test_a_delivered_scan_must_carry_a_time() -> None:
    body = message(SCAN)
    del body["data"]["scanned_at"]
    assert "a delivered scan must carry scanned_at" in refusal(body, topic=topics.INGRESS_CARRIER)
    body["data"]["status"] = "in_transit"
    assert parse_event(json.dumps(body), topic=topics.INGRESS_CARRIER).data.scanned_at is None


def test_an_unknown_carrier_or_scan_status_is_refused() -> None:
    body = message(SCAN)
    body["data"]["status"] = "teleported"
    assert "data.status" in refusal(body, topic=topics.INGRESS_CARRIER)


def test_a_bad_seller_id_is_refused() -> None:
    body = {**message("sellerflow.clock.ticked.v1"), "sellerid": "seller 1"}
    assert "sellerid" in refusal(body, topic=topics.CLOCK_EVENTS)


def test_a_delivery_before_the_shipment_is_refused() -> None:
    with pytest.raises(ValidationError, match="delivered_at is before shipped_at"):
        ShipmentDelivered(**SHIPMENT, delivered_at=SHIPMENT["shipped_at"] - timedelta(hours=1))


def test_a_refund_above_what_was_paid_is_refused() -> None:
    body = message("sellerflow.refund.issued.v1")
    body["data"]["amount"]["amount"] = "99.00"
    assert "at most order_total" in refusal(body, topic=topics.AFTERSALES_EVENTS)


def test_a_listing_with_a_bad_gtin_or_zero_price_is_refused() -> None:
    with pytest.raises(ValidationError, match="check digit"):
        ListingCreated(**{**LISTING, "product_id": "4006381333932"})
    with pytest.raises(ValidationError, match="above zero"):
        ListingCreated(**{**LISTING, "price": Money(amount=Decimal(0), currency="EUR")})


def test_a_reason_lists_at_most_three_problems() -> None:
    body = message(ORDER_PLACED)
    body["data"] = {"order_id": "o-1"}
    reason = refusal(body, topic=topics.INGRESS_ORDERS)
    assert reason.count(": field required") == 3 and "more)" in reason


# --- secrets ---------------------------------------------------------------------------------------


def test_a_masked_secret_shows_at_most_its_last_four_characters() -> None:
    assert mask_secret("DE89 3704 0044 0532 0130 00") == "*" * 18 + "3000"
    assert set(mask_secret("1234567")) == {"*"}
    registered = SAMPLES["sellerflow.seller.registered.v1"]
    assert "123456789" not in wrap(registered).to_bytes().decode()


def test_an_event_id_is_a_uuid() -> None:
    body = {**message("sellerflow.clock.ticked.v1"), "id": "not-a-uuid"}
    assert "id:" in refusal(body)
    assert isinstance(parse_event(json.dumps(message("sellerflow.clock.ticked.v1"))).id, UUID)


def test_a_wrong_type_is_named_first_even_when_other_fields_are_bad_too() -> None:
    body = {**message("sellerflow.clock.ticked.v1"), "id": "x", "type": "sellerflow.order.placed.v1"}
    assert refusal(body, topic=topics.CLOCK_EVENTS).startswith("event type 'sellerflow.order.placed.v1' is not allowed")
