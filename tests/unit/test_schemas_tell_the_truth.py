"""The published JSON Schemas accept exactly what the services accept (design.md section 3): on a corpus of
valid and broken messages of every ingress type, the verdict of `docs/schemas/<type>.json` (the
`jsonschema` package, draft 2020-12) equals the verdict of `parse_event` on the type's ingress topic.

The one rule a schema cannot state, that every order line is priced in the order's currency, is left out
of the corpus and named in the schema's description. The dynamic bound (latest tick + MAX_CLOCK_SKEW) is
not a shape: the consumer checks it (tests/unit/test_time_range.py).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import jsonschema
import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

from sellerflow.schemas import SCHEMA_DIR
from shared.events import EVENT_TYPES, IngressPayload, InvalidEvent, parse_event
from tests.unit.test_events import message

INGRESS_TYPES = sorted(t for t, cls in EVENT_TYPES.items() if issubclass(cls, IngressPayload))

BAD_TIMES = ["0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "2100-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
             "2025-03-03T09:30:00", "2025-02-29T09:30:00Z", "2025-03-03 09:30:00Z", "2025-03-03T09:30Z",
             "2000-01-01T00:30:00+01:00", "2025-03-03T24:00:00Z", "", 1741000000, None]
GOOD_TIMES = ["2000-01-01T00:00:00Z", "2099-12-31T23:59:59.999999Z", "2024-02-29T12:00:00+05:30",
              "2025-03-03t09:30:00.123456789z"]
BAD_AMOUNTS = ["NaN", "Infinity", "-Infinity", "abc", "-1.00", 1e308, "0.001", "01.00", "1e2", " 1.50", "1.",
               19.99, 10, "1000000000000", "", None, True]
GOOD_AMOUNTS = ["0", "19.99", "9.9", "999999999999.99"]
BAD_TEXT = ["\x00", "a\x00b", "\x01", "\r", "\x1b[31m", "\x7f", "\x85", "\x9f", "\ud800", "x\udfff", "", "   ",
            "\t\n", "x" * 4001, 7, None, ["a"]]
GOOD_TEXT = ["a", "a\tb\nc", "  Ådne Ø.  ", "包裹 📦", "\u202eRTL", "'; DROP TABLE orders; --", "x" * 100]
BAD_IDS = ["not-a-uuid", "6ba7b8109dad11d180b400c04fd430c8", "{6ba7b810-9dad-11d1-80b4-00c04fd430c8}", "", 5]
GOOD_IDS = ["6BA7B810-9DAD-11D1-80B4-00C04FD430C8"]
BAD_WHOLE = [2.5, "3", True, 0, -1, 1e20, None]
GOOD_WHOLE = [1, 3.0, 5]


# --- the schema side: draft 2020-12, with ECMA-262's `$` (end of input, not before a final newline) ------

def _pattern(validator: Validator, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    anchored = pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern
    if isinstance(instance, str) and not re.search(anchored, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


EcmaValidator = jsonschema.validators.extend(Draft202012Validator, {"pattern": _pattern})


@cache
def schema_of(event_type: str) -> Validator:
    schema = json.loads((SCHEMA_DIR / f"{event_type}.json").read_text(encoding="utf-8"))
    validator: Validator = EcmaValidator(schema)
    return validator


def schema_accepts(event_type: str, raw: bytes) -> bool:
    return bool(schema_of(event_type).is_valid(json.loads(raw)))


def service_accepts(event_type: str, raw: bytes) -> bool:
    try:
        parse_event(raw, topic=EVENT_TYPES[event_type].TOPICS[0])
    except InvalidEvent:
        return False
    return True


# --- the corpus ----------------------------------------------------------------------------------------

def _leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, (*path, index))
    else:
        yield path, node


def _replaced(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    target: Any = changed
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return changed


def _removed(body: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    target: Any = changed
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return changed


def _kind(path: tuple[Any, ...], value: Any) -> str:
    name = str(path[-1])
    if name in ("time",) or name.endswith("_at"):
        return "time"
    if name == "amount":
        return "amount"
    if name == "id":
        return "id"
    if name in ("quantity", "stars"):
        return "whole"
    if (isinstance(value, str) and name in ("body", "subject", "name", "city", "region", "comment", "reason",
                                           "title", "location", "detail")) or (len(path) > 1 and path[-2] == "lines"
                                                                               and isinstance(value, str)):
        return "text"
    return "other"


_VALUES = {"time": (BAD_TIMES, GOOD_TIMES), "amount": (BAD_AMOUNTS, GOOD_AMOUNTS), "id": (BAD_IDS, GOOD_IDS),
           "whole": (BAD_WHOLE, GOOD_WHOLE), "text": (BAD_TEXT, GOOD_TEXT),
           "other": (["\x00", "\ud800", "", 1, None, {"x": 1}, "x" * 300], [])}


def corpus(event_type: str) -> Iterator[tuple[str, bytes]]:
    """(what, raw) pairs: the valid message, then every field broken in every way its kind allows."""
    body = message(event_type)
    yield "valid", json.dumps(body).encode()
    for path, value in list(_leaves(body)):
        if path[-1] in ("type", "currency") and path[0] == "data" and event_type.endswith("order_placed.v1"):
            continue  # one currency per order: a rule the schema cannot state
        bad, good = _VALUES[_kind(path, value)]
        where = ".".join(map(str, path))
        for candidate in [*bad, *good]:
            yield f"{where} = {candidate!r:.40}", json.dumps(_replaced(body, path, candidate)).encode()
        yield f"{where} removed", json.dumps(_removed(body, path)).encode()
    for where in ([], ["data"]):
        extended = copy.deepcopy(body)
        target = extended
        for part in where:
            target = target[part]
        target["unexpected"] = 1
        yield f"unknown field in {'.'.join(where) or 'the envelope'}", json.dumps(extended).encode()
    yield "lone surrogate as UTF-8 bytes", json.dumps(body).replace('"subject-1"', '"\\udc80x"').encode()


@pytest.mark.parametrize("event_type", INGRESS_TYPES)
def test_the_schema_and_the_service_agree_on_every_sample(event_type: str) -> None:
    samples = list(corpus(event_type))
    assert len(samples) > 100
    verdicts = [(what, schema_accepts(event_type, raw), service_accepts(event_type, raw)) for what, raw in samples]
    disagreements = [f"{what}: schema {'accepts' if by_schema else 'refuses'}, service "
                     f"{'accepts' if by_service else 'refuses'}"
                     for what, by_schema, by_service in verdicts if by_schema != by_service]
    assert disagreements == []
    assert service_accepts(event_type, samples[0][1])


def test_the_corpus_holds_valid_and_refused_samples_of_every_kind() -> None:
    verdicts = [service_accepts("sellerflow.checkout.order_placed.v1", raw)
                for _, raw in corpus("sellerflow.checkout.order_placed.v1")]
    assert verdicts.count(True) > 50 and verdicts.count(False) > 200


@pytest.mark.parametrize(("status", "scanned_at", "accepted"), [
    ("delivered", None, False), ("in_transit", None, True), ("delivered", "2025-03-03T09:30:00Z", True)])
def test_a_delivered_scan_without_a_time_is_refused_by_both(status: str, scanned_at: str | None,
                                                            accepted: bool) -> None:
    body = message("sellerflow.carrier.scan_recorded.v1")
    body["data"].update(status=status, scanned_at=scanned_at)
    raw = json.dumps(body).encode()
    assert schema_accepts("sellerflow.carrier.scan_recorded.v1", raw) is accepted
    assert service_accepts("sellerflow.carrier.scan_recorded.v1", raw) is accepted


def test_a_line_without_a_listing_id_or_a_sku_is_refused_by_both() -> None:
    body = message("sellerflow.checkout.order_placed.v1")
    body["data"]["lines"][0].update(listing_id=None, sku=None)
    raw = json.dumps(body).encode()
    assert not schema_accepts("sellerflow.checkout.order_placed.v1", raw)
    assert not service_accepts("sellerflow.checkout.order_placed.v1", raw)


def test_a_refund_on_a_denied_claim_is_refused_by_both() -> None:
    body = message("sellerflow.atoz.claim_decided.v1")
    body["data"]["outcome"] = "denied"
    raw = json.dumps(body).encode()
    assert body["data"]["refund"] is not None
    assert not schema_accepts("sellerflow.atoz.claim_decided.v1", raw)
    assert not service_accepts("sellerflow.atoz.claim_decided.v1", raw)
