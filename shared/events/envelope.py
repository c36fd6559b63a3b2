"""The CloudEvents 1.0 envelope of every message (design.md section 3), the registry of event types,
and the one way in: `parse_event`, and the one way out: `new_event` + `Event.to_bytes`.

Each event type gets a concrete envelope class (`OrderPlacedEvent` = `Event[OrderPlaced]` with
`type` fixed to its wire name). `parse_event` validates a message against the tagged union of the
types allowed on its topic in one pass of pydantic-core (no second JSON decode), so the envelope,
the type and the payload are checked together and `event.data` is the typed payload.
A Kafka record is read through `shared.events.binding.parse_record`, which adds the CloudEvents
Kafka binding (binary mode, the key rule) at the public doors. Ingress envelopes (`IngressEvent`)
also take valid extension attributes.
"""

from __future__ import annotations

import builtins
import functools
import re
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Final, Generic, Literal, NamedTuple, TypeVar, Union, cast
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from shared.events import topics
from shared.events.attributes import EXTENSION_VALUE_RULE, Extensions, InvalidAttributeName, JsonMediaType
from shared.events.common import BusinessTime, EventId, Model, SellerId, UtcDatetime
from shared.events.shapes import JsonPattern

#: Largest message accepted (design.md section 6).
MAX_EVENT_BYTES: Final = 1024 * 1024
_TYPE_PATTERN: Final = re.compile(r"^sellerflow\.[a-z][a-z_]*\.[a-z][a-z_]*\.v[1-9][0-9]*$")
_MAX_REASON: Final = 1000


class InvalidEvent(ValueError):
    """A message that cannot be accepted; `reason` says which field and what is wrong.

    The reason never quotes field values (they may be buyer personal data), so it may go into
    logs and dead-letter headers as it is.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_REGISTRY: dict[str, type[Payload]] = {}

#: Every wire type -> its payload class. Complete once `shared.events` is imported.
EVENT_TYPES: Mapping[str, type[Payload]] = MappingProxyType(_REGISTRY)


class Payload(Model):
    """Base of every payload. A subclass that declares `EVENT_TYPE` and `TOPICS` is an event type."""

    EVENT_TYPE: ClassVar[str]
    TOPICS: ClassVar[tuple[str, ...]]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "EVENT_TYPE" in cls.__dict__:
            _register(cls)


class IngressPayload(Payload):
    """Base of the payloads other systems send: unknown fields are refused (design.md section 6)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def _register(cls: type[Payload]) -> None:
    event_type, on = cls.EVENT_TYPE, getattr(cls, "TOPICS", ())
    if not _TYPE_PATTERN.match(event_type):
        raise TypeError(f"{cls.__name__}: {event_type!r} is not sellerflow.<area>.<event>.v<major>")
    if event_type in _REGISTRY:
        raise TypeError(f"{cls.__name__}: {event_type!r} is already {_REGISTRY[event_type].__name__}")
    if not on or any(topic not in topics.ALL_TOPICS for topic in on):
        raise TypeError(f"{cls.__name__}: TOPICS must name known topics, not {on!r}")
    if any(topics.is_ingress(topic) != issubclass(cls, IngressPayload) for topic in on):
        raise TypeError(f"{cls.__name__}: ingress topics take IngressPayload types, and only them")
    _REGISTRY[event_type] = cls


P = TypeVar("P", bound=Payload)
Q = TypeVar("Q", bound=Payload)

# No control characters (not even tab or newline) and no lone surrogates (design.md section 3).
_Subject = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f-\x9f]+$"),
                     JsonPattern(r"^[^\x00-\x1f\x7f-\x9f\ud800-\udfff]+$")]
#: A URI reference: printable ASCII without spaces.
_Source = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[!-~]+$")]


class EventAttributes(BaseModel):
    """The CloudEvents 1.0 context attributes of every message (design.md section 3)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: Literal["1.0"] = Field(description="CloudEvents version: always 1.0.")
    id: EventId = Field(description="Unique event id (a UUID, 8-4-4-4-12 hex digits): the de-duplication key.")
    source: _Source = Field(description="Producer: `/sellerflow/<service>` or the external system's URI.")
    type: str = Field(max_length=128, description="Event type: `sellerflow.<area>.<event>.v<major>`.")
    time: UtcDatetime = Field(description="Business time of the fact (RFC 3339): what metric windows use.")
    sellerid: SellerId = Field(description="The seller; also the Kafka message key.")
    subject: _Subject = Field(description="The aggregate: order id, listing id, shipment id, return id ...")
    datacontenttype: JsonMediaType = Field(
        default="application/json",
        description="The media type of `data`: JSON (absent means application/json; sellerflow writes that).",
    )


class Event(EventAttributes, Generic[P]):
    """A CloudEvents 1.0 structured-mode message: the value of every Kafka record."""

    data: P = Field(description="The payload of this event type.")

    @property
    def seller_id(self) -> str:
        return self.sellerid

    @property
    def key(self) -> bytes:
        """The Kafka message key: the seller id."""
        return self.sellerid.encode()

    def data_as(self, cls: builtins.type[Q]) -> Q:
        """The payload, typed: `event.data_as(OrderPlaced)`; TypeError if it is another type."""
        if not isinstance(self.data, cls):
            raise TypeError(f"{self.type} carries {builtins.type(self.data).__name__}, not {cls.__name__}")
        return self.data

    def to_bytes(self) -> bytes:
        """Compact UTF-8 JSON: decimals as strings, datetimes RFC 3339 with `Z`."""
        return self.__pydantic_serializer__.to_json(self)


class IngressEvent(Event[P], Extensions, Generic[P]):
    """An event from another system: besides ours, any valid CloudEvents extension attribute
    (`traceparent`, `partitionkey`, `dataschema` ...) is accepted; the payload stays strict."""

    model_config = ConfigDict(frozen=True, extra="allow")


@functools.cache
def event_class(event_type: str) -> type[Event[Any]]:
    """The concrete envelope class of a wire type (KeyError if unknown): its JSON Schema is the contract."""
    payload = _REGISTRY[event_type]
    name = f"{payload.__name__}Event"
    first_line = (payload.__doc__ or "").strip().splitlines()[:1]
    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__qualname__": name,
        "__doc__": f"`{event_type}`: {first_line[0] if first_line else payload.__name__}",
        "__annotations__": {"type": Literal[event_type]},
        "type": Field(description="Event type: `sellerflow.<area>.<event>.v<major>`."),
    }
    if issubclass(payload, IngressPayload):
        namespace["__annotations__"]["time"] = BusinessTime  # from outside: in the static range
        namespace["time"] = Field(description="Business time of the fact (RFC 3339), 2000-01-01 .. 2099-12-31 "
                                  "and at most MAX_CLOCK_SKEW after the consuming service's latest clock tick.")
    base = cast(Any, IngressEvent if issubclass(payload, IngressPayload) else Event)[payload]
    return cast("type[Event[Any]]", type(name, (base,), namespace))


def new_event(
    data: Payload,
    *,
    seller_id: str,
    subject: str,
    time: datetime,
    source: str,
    event_id: UUID | None = None,
) -> Event[Any]:
    """Wrap a payload in its envelope; the type comes from the payload, the id is random unless given.

    Raises pydantic's ValidationError (a ValueError) for a bad seller id, subject, source or a naive time.
    """
    event_type = getattr(type(data), "EVENT_TYPE", "")
    if EVENT_TYPES.get(event_type) is not type(data):
        raise TypeError(f"{type(data).__name__} is not a registered event payload")
    return event_class(event_type)(
        specversion="1.0",
        id=event_id or uuid4(),
        source=source,
        type=event_type,
        time=time,
        sellerid=seller_id,
        subject=subject,
        datacontenttype="application/json",
        data=data,
    )


def parse_event(raw: bytes | str, *, topic: str | None = None) -> Event[Any]:
    """Validate one message value; `topic` (or its `.dlq`) restricts the types it may carry.

    On an ingress topic validation is strict (no coercion of "3" to 3) and unknown fields are
    refused in the envelope and the payload. Raises InvalidEvent with a readable reason.
    """
    size = len(raw) if isinstance(raw, bytes) else _utf8_size(raw)
    if size > MAX_EVENT_BYTES:
        raise InvalidEvent(f"message is {size} bytes, over the limit of {MAX_EVENT_BYTES} bytes (1 MiB)")
    validator = _validator(topic, len(_REGISTRY))
    try:
        return cast("Event[Any]", validator.adapter.validate_json(raw, strict=validator.strict))
    except ValidationError as error:
        raise InvalidEvent(_reason(error, raw, validator)) from None  # no chained input values


def _utf8_size(raw: str) -> int:
    if len(raw) * 4 <= MAX_EVENT_BYTES:
        return len(raw)
    return len(raw.encode("utf-8", "surrogatepass"))


class _Validator(NamedTuple):
    adapter: TypeAdapter[Any]
    topic: str | None  # the topic whose types it accepts (a dead-letter topic's origin)
    only: str | None  # the one type it accepts, when there is only one (no tagged union then)
    strict: bool  # ingress: no coercion


@functools.cache
def _validator(topic: str | None, registered: int) -> _Validator:
    """The validator of the types allowed on `topic` (all for None); `registered` only keys the cache."""
    home = None if topic is None else topic.removesuffix(topics.DLQ_SUFFIX)
    if home is not None and home not in topics.ALL_TOPICS:
        raise ValueError(f"unknown topic {topic!r}")  # a wiring bug, not a bad message
    allowed = sorted(t for t, cls in _REGISTRY.items() if home is None or home in cls.TOPICS)
    classes = tuple(event_class(t) for t in allowed)
    strict = home in topics.INGRESS_TOPICS
    if len(classes) == 1:
        return _Validator(TypeAdapter(classes[0]), home, allowed[0], strict)
    tagged: Any = Annotated[cast(Any, Union)[classes], Field(discriminator="type")]
    return _Validator(TypeAdapter(tagged), home, None, strict)


_MESSAGES: Final = {
    "missing": "field required",
    "extra_forbidden": "unknown field, not allowed here",
    "timezone_aware": "naive datetime: a time zone offset (e.g. Z) is required",
}


def _reason(error: ValidationError, raw: bytes | str, validator: _Validator) -> str:
    topic, only = validator.topic, validator.only
    tagged = only is None
    details = error.errors(include_url=False)
    type_errors = [detail for detail in details if not tagged and detail["loc"] == ("type",)]
    first = (type_errors or details)[0]
    kind, loc = first["type"], first["loc"]
    if kind == "json_invalid":
        if isinstance(raw, bytes):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as bad:
                return f"message body is not valid UTF-8 (byte {bad.start})"
        return f"message body is not valid JSON: {first.get('ctx', {}).get('error', first['msg'])}"
    if not loc and kind in ("dict_type", "model_type", "model_attributes_type"):
        return "message body is not a JSON object"
    if kind == "union_tag_not_found" or (not tagged and loc == ("type",) and kind == "missing"):
        return "message has no `type` attribute"
    if kind == "union_tag_invalid":
        return type_problem(str(first.get("ctx", {}).get("tag", "")), topic)
    if not tagged and loc == ("type",):
        return type_problem(str(first.get("input", "")), topic)
    event_type = only or (str(loc[0]) if loc else "event")
    problems = list(dict.fromkeys(describe_problem(detail, tagged) for detail in details))  # a union: one each
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return (f"invalid {event_type}: " + "; ".join(problems[:3]) + more)[:_MAX_REASON]


def type_problem(event_type: str, topic: str | None) -> str:
    """Why a type is refused on a topic: unknown, or known but carried elsewhere."""
    shown = repr(event_type[:100])
    if event_type in _REGISTRY and topic is not None:
        return f"event type {shown} is not allowed on topic {topic!r}"
    return f"unknown event type {shown}"


def describe_problem(detail: ErrorDetails, tagged: bool) -> str:
    """One validation problem as `where: what`."""
    loc = detail["loc"][1:] if tagged else detail["loc"]
    error = detail.get("ctx", {}).get("error")
    if isinstance(error, InvalidAttributeName):
        return str(error)
    if loc and loc[0] not in Event.model_fields:
        return f"{_path(loc[:1])}: {EXTENSION_VALUE_RULE}"
    message = _MESSAGES.get(detail["type"], detail["msg"]).removeprefix("Value error, ")
    return f"{_path(loc)}: {message}"


def _path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            name = "".join(c if c.isprintable() else "?" for c in part[:64])
            path += f".{name}" if path else name
    return path or "(envelope)"
