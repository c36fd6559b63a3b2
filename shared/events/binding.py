"""The CloudEvents Kafka protocol binding at the public doors (design.md section 3, "The public doors").

A record on an ingress topic is read in the content mode the binding says it is in:

- a `content-type` header starting with `application/cloudevents` -> *structured*: the value is
  the JSON event (only the JSON event format, one event per record);
- else a `ce_specversion` header -> *binary*: the attributes are `ce_<name>` headers, the
  `content-type` header is `datacontenttype`, the value is the `data` JSON;
- else *structured*.

Either way the result is the same typed `Event`, and its Kafka key must be its `sellerid`.
Internal topics are written by sellerflow's own relays in structured mode and parse as before.

A binary record is validated in one pydantic pass, without decoding its data twice: the header
attributes (JSON-encoded, a few hundred bytes) and the raw value are framed as the JSON array
`[attributes, data]` and validated as a 2-tuple. The frame cannot be escaped: the value comes
last, so a value that is not exactly one JSON value makes the array invalid or longer than two.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Final, cast

from pydantic import ConfigDict, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from shared.events import topics
from shared.events.attributes import (
    ATTRIBUTE_NAME_RULE,
    EXTENSION_VALUE_RULE,
    JSON_MEDIA_TYPE_RULE,
    Extensions,
    is_json_media_type,
    printable,
    valid_attribute_name,
)
from shared.events.common import BusinessTime
from shared.events.envelope import (
    EVENT_TYPES,
    MAX_EVENT_BYTES,
    Event,
    EventAttributes,
    InvalidEvent,
    describe_problem,
    event_class,
    parse_event,
    type_problem,
)

Headers = Sequence[tuple[str, bytes | None]]

_CE_PREFIX: Final = "ce_"
_CONTENT_TYPE: Final = "content-type"
_STRUCTURED_JSON: Final = "application/cloudevents+json"
_KEY_RULE: Final = "the key must be the seller id, so one seller's events stay in order"


#: Attribute names that need no check (ours, and the extensions integrators send most).
_KNOWN_NAMES: Final = frozenset(EventAttributes.model_fields) | {"traceparent", "tracestate", "partitionkey"}


class ContentMode(StrEnum):
    STRUCTURED = "structured"
    BINARY = "binary"


def content_mode(headers: Headers) -> ContentMode:
    """The content mode of a record, decided as the binding says (header names in any case)."""
    binary = False
    for name, value in headers:
        lowered = name.lower()
        if lowered == _CONTENT_TYPE and (value or b"").lower().startswith(b"application/cloudevents"):
            return ContentMode.STRUCTURED
        binary = binary or lowered == "ce_specversion"
    return ContentMode.BINARY if binary else ContentMode.STRUCTURED


def parse_record(value: bytes, *, topic: str, key: bytes | None, headers: Headers = ()) -> Event[Any]:
    """One Kafka record -> its typed event; InvalidEvent with a reason an integrator can act on.

    `topic` is the logical topic (or its `.dlq`). On ingress topics both content modes are read and
    the key must be the seller; internal topics take structured events as `parse_event` does.
    """
    if not topics.is_ingress(topic):
        return parse_event(value, topic=topic)
    if content_mode(headers) is ContentMode.BINARY:
        event = _binary(value, headers, topic)
    else:
        event = _structured(value, headers, topic)
    if key is None:
        raise InvalidEvent(f"the message has no Kafka key; {_KEY_RULE}")
    if key != event.key:
        raise InvalidEvent(f"the message's Kafka key is not its `sellerid`; {_KEY_RULE}")
    return event


# --- structured mode ----------------------------------------------------------------------------------


def _structured(value: bytes, headers: Headers, topic: str) -> Event[Any]:
    content_type = _last(headers, _CONTENT_TYPE)
    if content_type is not None and content_type.lower().startswith(b"application/cloudevents"):
        media_type = content_type.split(b";", 1)[0].strip().lower()
        if media_type != _STRUCTURED_JSON.encode():
            raise InvalidEvent("structured mode: header `content-type` names an event format or batch other than "
                               f"{_STRUCTURED_JSON}; send one JSON event per message")
    try:
        return parse_event(value, topic=topic)
    except InvalidEvent as error:
        hint = ""
        if any(name.lower().startswith(_CE_PREFIX) for name, _ in headers):
            hint = " (a binary-mode message needs a `ce_specversion` header)"
        raise InvalidEvent(f"structured mode{hint}: {error.reason}") from None


def _last(headers: Headers, wanted: str) -> bytes | None:
    found = None
    for name, value in headers:
        if name.lower() == wanted:
            found = value
    return found


# --- binary mode --------------------------------------------------------------------------------------


class _BinaryAttributes(EventAttributes, Extensions):
    """The context attributes of a binary-mode record, from its headers (ingress only: the time is a
    business time from outside, in the static range, as on every ingress envelope)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    time: BusinessTime


def _binary(value: bytes, headers: Headers, topic: str) -> Event[Any]:
    if len(value) > MAX_EVENT_BYTES:
        raise InvalidEvent(f"binary mode: the message value is {len(value)} bytes, over the limit of "
                           f"{MAX_EVENT_BYTES} bytes (1 MiB)")
    attributes = _header_attributes(headers)
    media_type = attributes.get("datacontenttype")
    if media_type is not None and not is_json_media_type(media_type):  # say so before the value fails as JSON
        raise InvalidEvent(f"binary mode: header `content-type` {JSON_MEDIA_TYPE_RULE}")
    event_type = attributes.get("type")
    if event_type is None:
        raise InvalidEvent("binary mode: header `ce_type` is missing")
    payload = EVENT_TYPES.get(event_type)
    home = topic.removesuffix(topics.DLQ_SUFFIX)
    if payload is None or home not in payload.TOPICS:
        raise InvalidEvent(f"binary mode: header `ce_type`: {type_problem(event_type, home)}")
    frame = b"[" + json.dumps(attributes).encode() + b"," + value + b"]"
    try:
        context, data = _binary_adapter(event_type).validate_json(frame, strict=True)
    except ValidationError as error:
        raise InvalidEvent(_binary_reason(error, value, event_type)) from None
    fields = {name: getattr(context, name) for name in EventAttributes.model_fields}
    return event_class(event_type).model_construct(**fields, **(context.model_extra or {}), data=data)


def _header_attributes(headers: Headers) -> dict[str, str]:
    """The `ce_*` and `content-type` headers as attributes: names checked, values UTF-8 text."""
    attributes: dict[str, str] = {}
    for name, raw in headers:
        lowered = name.lower()
        if lowered == _CONTENT_TYPE:
            attribute = "datacontenttype"
        elif lowered.startswith(_CE_PREFIX):
            attribute = lowered.removeprefix(_CE_PREFIX)
            if attribute in ("data", "datacontenttype"):
                raise _bad_header(name, "is not allowed: the data is the message value and its media type "
                                        "the `content-type` header")
            if attribute not in _KNOWN_NAMES and not valid_attribute_name(attribute):
                raise _bad_header(name, f"names {printable(attribute)}, which {ATTRIBUTE_NAME_RULE}")
        else:
            continue  # other headers (traceparent, our own) are the transport's, not the event's
        if attribute in attributes:
            raise _bad_header(name, "appears more than once")
        if raw is None:
            raise _bad_header(name, "has no value")
        try:
            attributes[attribute] = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _bad_header(name, "is not valid UTF-8") from None
    return attributes


def _bad_header(name: str, problem: str) -> InvalidEvent:
    return InvalidEvent(f"binary mode: header {printable(name)} {problem}")


@functools.cache
def _binary_adapter(event_type: str) -> TypeAdapter[tuple[_BinaryAttributes, Any]]:
    return TypeAdapter(cast(Any, tuple)[_BinaryAttributes, EVENT_TYPES[event_type]])


def _binary_reason(error: ValidationError, value: bytes, event_type: str) -> str:
    details = error.errors(include_url=False)
    first = details[0]
    if first["type"] == "json_invalid" or (not first["loc"] and first["type"] in ("too_long", "too_short")):
        try:
            value.decode("utf-8")
        except UnicodeDecodeError as bad:
            return f"binary mode: the message value (the data) is not valid UTF-8 (byte {bad.start})"
        return "binary mode: the message value (the data) is not one JSON value"
    problems = list(dict.fromkeys(_binary_problem(detail, event_type) for detail in details))
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return ("binary mode: " + "; ".join(problems[:3]) + more)[:1000]


def _binary_problem(detail: ErrorDetails, event_type: str) -> str:
    part, *loc = detail["loc"]
    if part == 1:  # the data
        if not loc and detail["type"] in ("model_type", "model_attributes_type", "dict_type"):
            return "the message value (the data) is not a JSON object"
        return f"invalid {event_type}: " + describe_problem({**detail, "loc": ("data", *loc)}, tagged=False)
    attribute = str(loc[0]) if loc else ""
    header = "header `content-type`" if attribute == "datacontenttype" else f"header {printable('ce_' + attribute)}"
    kind = detail["type"]
    if kind == "missing":
        return f"{header} is missing"
    if attribute == "id" and kind.startswith("uuid"):
        return f"{header} is not a UUID"
    if attribute not in EventAttributes.model_fields:
        return f"{header}: {EXTENSION_VALUE_RULE}"
    return f"{header}: " + describe_problem({**detail, "loc": ()}, tagged=False).removeprefix("(envelope): ")
