"""The shape of values at the public doors (design.md section 3): business times in the static range,
clean strings, amounts as decimal strings, whole numbers, canonical event ids."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.events import parse_event, topics
from shared.events.common import Name
from tests.unit.test_events import message, refusal

ORDER_PLACED = "sellerflow.checkout.order_placed.v1"
MESSAGE_SENT = "sellerflow.buyer.message_sent.v1"
ORDERS, BUYER = topics.INGRESS_ORDERS, topics.INGRESS_BUYER


def order_with(**changes: Any) -> dict[str, Any]:
    body = message(ORDER_PLACED)
    for path, value in changes.items():
        target = body
        *parents, last = path.split("__")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[last] = value
    return body


# --- times --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "2100-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
    "2000-01-01T00:30:00+01:00",  # 1999-12-31T23:30Z
    "2099-12-31T23:30:00-01:00",  # 2100-01-01T00:30Z
])
def test_a_purchase_time_outside_2000_to_2099_is_refused(text: str) -> None:
    reason = refusal(order_with(data__purchased_at=text), topic=ORDERS)
    assert "data.purchased_at" in reason


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_an_envelope_time_outside_the_range_is_refused(text: str) -> None:
    assert refusal(order_with(time=text), topic=ORDERS).startswith(f"invalid {ORDER_PLACED}: time:")


@pytest.mark.parametrize("text", [
    "2000-01-01T00:00:00Z", "2000-01-01T00:00:00-05:00", "2099-12-31T23:59:59.999999Z",
    "2099-12-31T23:00:00+05:00", "2024-02-29T12:00:00.5+05:30", "2026-07-01t08:00:00z",
])
def test_a_purchase_time_inside_the_range_is_accepted(text: str) -> None:
    parse_event(json.dumps(order_with(data__purchased_at=text)), topic=ORDERS)


def test_an_out_of_range_time_is_named_as_such() -> None:
    reason = refusal(order_with(data__purchased_at="9999-12-31T23:59:59Z"), topic=ORDERS)
    assert "time out of range" in reason


@pytest.mark.parametrize("text", ["2025-02-29T00:00:00Z", "2025-03-03 09:30:00Z", "2025-03-03T09:30Z", "1741000000"])
def test_a_time_that_is_not_rfc_3339_with_seconds_is_refused(text: str) -> None:
    value: Any = int(text) if text.isdigit() else text
    assert "data.purchased_at" in refusal(order_with(data__purchased_at=value), topic=ORDERS)


def test_a_clock_tick_outside_the_range_is_refused() -> None:
    body = message("sellerflow.clock.ticked.v1")
    body["data"]["now"] = "9999-12-31T23:59:59Z"
    assert "data.now: time out of range" in refusal(body, topic=topics.CLOCK_EVENTS)


# --- strings ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("char", ["\x00", "\x01", "\r", "\x1b", "\x7f", "\x85", "\x9f"])
def test_a_control_character_in_a_buyer_name_is_refused(char: str) -> None:
    reason = refusal(order_with(data__ship_to__name=f"Ada{char}Lovelace"), topic=ORDERS)
    assert "data.ship_to.name" in reason


@pytest.mark.parametrize("char", ["\x00", "\x0b", "\x0c", "\x80"])
def test_a_control_character_in_a_message_body_is_refused(char: str) -> None:
    body = message(MESSAGE_SENT)
    body["data"]["body"] = f"Where is{char} my parcel?"
    assert "data.body" in refusal(body, topic=BUYER)


def test_tab_newline_and_any_script_pass_in_a_message_body() -> None:
    body = message(MESSAGE_SENT)
    body["data"]["body"] = "Bonjour,\n\tGrüße, où est mon colis ? 包裹在哪里 😀 \u202e"
    event = parse_event(json.dumps(body, ensure_ascii=False).encode(), topic=BUYER)
    assert event.data.body == body["data"]["body"]


def test_a_lone_surrogate_escape_is_refused_with_a_reason() -> None:
    raw = json.dumps(message(MESSAGE_SENT)).replace('"Where is my parcel?"', '"Where \\ud800 is it?"')
    assert "not valid JSON" in refusal(raw.encode(), topic=BUYER)


def test_a_lone_surrogate_in_a_python_string_is_refused() -> None:
    from pydantic import TypeAdapter, ValidationError
    with pytest.raises(ValidationError):
        TypeAdapter(Name).validate_python("Ada \ud800")


@pytest.mark.parametrize("value", ["", "   ", "\t\n"])
def test_a_blank_buyer_name_is_refused(value: str) -> None:
    assert "data.ship_to.name" in refusal(order_with(data__ship_to__name=value), topic=ORDERS)


def test_a_subject_with_a_c1_control_is_refused() -> None:
    assert refusal(order_with(subject="ord\x851"), topic=ORDERS).endswith("subject: String should match pattern "
                                                                           "'^[^\\x00-\\x1f\\x7f-\\x9f]+$'")


# --- amounts, numbers, ids ------------------------------------------------------------------------------

@pytest.mark.parametrize("amount", ["NaN", "Infinity", "abc", "-1.00", "0.001", "1e2", "01.00", " 1.50", "1.", 1e308,
                                    9.9, 10, "1000000000000"])
def test_an_amount_that_is_not_a_plain_decimal_string_is_refused(amount: Any) -> None:
    reason = refusal(order_with(data__lines__0__unit_price__amount=amount), topic=ORDERS)
    assert "data.lines[0].unit_price.amount" in reason


@pytest.mark.parametrize("amount", ["0", "9.9", "9.90", "999999999999.99"])
def test_a_decimal_string_amount_is_accepted(amount: str) -> None:
    event = parse_event(json.dumps(order_with(data__lines__0__unit_price__amount=amount)), topic=ORDERS)
    assert str(event.data.lines[0].unit_price.amount) == amount


def test_a_whole_number_written_with_a_fraction_counts_as_that_number() -> None:
    event = parse_event(json.dumps(order_with(data__lines__0__quantity=3.0)), topic=ORDERS)
    assert event.data.lines[0].quantity == 3


@pytest.mark.parametrize("quantity", [2.5, "3", True, 1e400])
def test_a_quantity_that_is_not_a_whole_number_is_refused(quantity: Any) -> None:
    raw = json.dumps(order_with(data__lines__0__quantity=quantity))
    assert refusal(raw, topic=ORDERS)


@pytest.mark.parametrize("event_id", ["not-a-uuid", "6ba7b8109dad11d180b400c04fd430c8",
                                      "urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8"])
def test_an_event_id_that_is_not_a_canonical_uuid_is_refused(event_id: str) -> None:
    assert "id: must be a UUID" in refusal(order_with(id=event_id), topic=ORDERS)
