"""The catalogue of hostile messages (at least 150 kinds) for the three ingress topics, each a small
named case (`tests/support/hostile.py`): not JSON, the wrong shape, absurd values, times out of range,
forbidden characters, the wrong key, binary-mode headers gone wrong, duplicates, unknown sellers, and
the messages around 1 MiB (`size_cases`, sent last: before big dead letters were set aside, one of
them stopped its service's relay).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from shared.events import topics
from tests.support.hostile import (
    BUYER,
    CANCELLATION,
    CARRIER,
    MESSAGE,
    MIB,
    ORDER_PLACED,
    ORDERS,
    SCAN,
    HostileCase,
    Outcome,
    Probe,
    Targets,
    cancellation_data,
    encode,
    envelope,
    message_data,
    nested,
    order_data,
    scan_data,
    sdk_message,
    stamp,
)


class _Builder:
    """Bends the valid templates into hostile cases; every case gets fresh ids."""

    def __init__(self, t: Targets) -> None:
        self.t = t
        self.cases: list[HostileCase] = []
        self._n = 0
        self._cancellations = 0

    def id(self, prefix: str) -> str:
        self._n += 1
        return f"H{prefix}-{self.t.tag}-{self._n}"

    def at(self) -> datetime:
        return self.t.now - timedelta(minutes=30)

    def order(self, **changes: Any) -> tuple[str, dict[str, Any]]:
        order_id = self.id("O")
        data = order_data(order_id, self.t.sku, at=self.at())
        data.update(changes)
        return order_id, envelope(ORDER_PLACED, self.t.seller, order_id, data, at=self.at())

    def message(self, **changes: Any) -> tuple[str, dict[str, Any]]:
        message_id = self.id("M")
        data = message_data(message_id, self.t.open_orders[0], "Where is my parcel?", at=self.at())
        data.update(changes)
        return message_id, envelope(MESSAGE, self.t.seller, message_id, data, at=self.at())

    def scan(self, *, clean: bool = False, **changes: Any) -> dict[str, Any]:
        """A scan of the parcel refused scans name (`clean`: of the other parcel, which no scan the
        platform should refuse touches: a wrongly applied one cannot spoil a valid one's outcome)."""
        carrier, number = self.t.clean_parcel if clean else self.t.parcel
        data = scan_data(carrier, number, "in_transit", at=self.at())
        data.update(changes)
        return envelope(SCAN, self.t.seller, number, data, at=self.at())

    def cancellation(self, **changes: Any) -> dict[str, Any]:
        """A cancellation request for an open order no other case asks to cancel: each is judged alone."""
        order_id = self.t.open_orders[self._cancellations]
        self._cancellations += 1
        data = cancellation_data(order_id, self.t.open_order_buyer, at=self.at())
        data.update(changes)
        return envelope(CANCELLATION, self.t.seller, order_id, data, at=self.at())

    def valid(self, topic: str) -> tuple[str | None, str, dict[str, Any]]:
        """A valid envelope for `topic`: (order or message id it creates, its kind, the envelope)."""
        if topic == ORDERS:
            order_id, document = self.order()
            return order_id, "order", document
        if topic == BUYER:
            message_id, document = self.message()
            return message_id, "message", document
        return None, "", self.scan(status="out_for_delivery", clean=True)

    def add(self, name: str, topic: str, value: bytes | None, *, key: bytes | str | None = "seller",
            headers: tuple[tuple[str, bytes | None], ...] = (), outcome: Outcome = Outcome.DEAD_LETTERED,
            probe: Probe | None = None, awaits: str | None = None, made_with: str = "json") -> None:
        if key == "seller":
            key = self.t.seller.encode()
        assert not isinstance(key, str)
        self.cases.append(HostileCase(name, topic, key, value, headers, outcome, probe, awaits, made_with))

    def refused(self, name: str, topic: str, document: dict[str, Any], created: tuple[str, str] | None = None,
                **options: Any) -> None:
        """A structured-mode envelope that must be dead-lettered (and, if it names an order or a
        message, leave none behind)."""
        probe = Probe(created[0], created[1]) if created else None
        self.add(name, topic, encode(document), probe=probe, **options)


def hostile_cases(t: Targets) -> list[HostileCase]:
    b = _Builder(t)
    _bodies(b)
    _envelopes(b)
    _orders(b)
    _cancellations(b)
    _scans(b)
    _messages(b)
    _times(b)
    _keys(b)
    _duplicates(b)
    _binary_mode(b)
    _extensions(b)
    _unknown_sellers(b)
    names = [case.name for case in b.cases]
    assert len(names) == len(set(names)), [n for n in names if names.count(n) > 1]
    return b.cases


def _bodies(b: _Builder) -> None:
    """Values that are no CloudEvent at all, on each topic."""
    for topic in topics.INGRESS_TOPICS:
        short = topic.split(".")[1]
        _, _, valid = b.valid(topic)
        for name, value in [
            ("not-json", b"hello, world"), ("truncated-json", encode(valid)[:-7]), ("python-repr", b"{'id': 1}"),
            ("non-utf8", b"\xff\xfe\xfa" + encode(valid)), ("latin1-json", json.dumps(
                {**valid, "subject": "caf\u00e9"}, ensure_ascii=False).encode("latin-1")),
            ("utf16-json", json.dumps(valid).encode("utf-16")), ("empty", b""), ("whitespace", b" \n\t "),
            ("null", b"null"), ("array", b"[]"), ("array-of-event", encode([valid])), ("number", b"42"),
            ("string", b'"an order"'), ("true", b"true"), ("tombstone", None),
            ("trailing-garbage", encode(valid) + b"}}"), ("two-objects", encode(valid) + encode(valid)),
        ]:
            b.add(f"{short}/body/{name}", topic, value)


def _envelopes(b: _Builder) -> None:
    """Missing and mistyped envelope attributes, and `data` of the wrong shape."""
    for topic in topics.INGRESS_TOPICS:
        short = topic.split(".")[1]
        for attribute in ("specversion", "id", "source", "type", "sellerid", "subject", "data"):
            made, kind, document = b.valid(topic)
            del document[attribute]
            b.refused(f"{short}/envelope/missing-{attribute}", topic, document,
                      (kind, made) if made else None)
        for attribute, bad in [("specversion", "0.3"), ("specversion", "2.0"), ("type", "com.example.order"),
                               ("data", None), ("data", [])]:
            made, kind, document = b.valid(topic)
            document[attribute] = bad
            b.refused(f"{short}/envelope/{attribute}-{json.dumps(bad)}", topic, document,
                      (kind, made) if made else None)
    for attribute, bad in [("specversion", 1.0), ("specversion", None), ("id", "not-a-uuid"), ("id", 42),
                           ("id", ""), ("source", ""), ("source", "has a space"), ("source", 5), ("type", 7),
                           ("type", ""), ("type", "sellerflow.checkout.order_exploded.v1"),
                           ("type", "sellerflow.checkout.order_placed.v2"), ("type", SCAN),
                           ("type", "sellerflow.order.placed.v1"), ("sellerid", ""), ("sellerid", "has space"),
                           ("sellerid", "S" * 65), ("sellerid", 42), ("subject", ""), ("subject", "O-\u0000-1"),
                           ("subject", "O" * 129), ("datacontenttype", "text/plain"),
                           ("datacontenttype", "application/xml"), ("data", "an order"), ("data", 5)]:
        order_id, document = b.order()
        document[attribute] = bad
        shown = json.dumps(bad)[:48]
        b.refused(f"orders/envelope/{attribute}-{shown}", ORDERS, document, ("order", order_id))


def _orders(b: _Builder) -> None:
    """checkout.order_placed with missing, unknown, mistyped, empty and absurd fields."""
    for missing in ("order_id", "buyer_id", "lines", "currency", "purchased_at", "ship_to", "shipping_speed",
                    "fulfillment_channel"):
        order_id, document = b.order()
        del document["data"][missing]
        b.refused(f"orders/data/missing-{missing}", ORDERS, document, ("order", order_id))
    line = order_data("x", b.t.sku, at=b.at())["lines"][0]
    address = order_data("x", b.t.sku, at=b.at())["ship_to"]
    price = line["unit_price"]
    bent: list[tuple[str, dict[str, Any]]] = [
        ("unknown-field", {"coupon": "FREE"}),
        ("unknown-line-field", {"lines": [{**line, "discount": "1.00"}]}),
        ("unknown-address-field", {"ship_to": {**address, "floor": "3"}}),
        ("unknown-price-field", {"lines": [{**line, "unit_price": {**price, "tax": "0.10"}}]}),
        ("lines-object", {"lines": line}), ("lines-empty", {"lines": []}),
        ("line-names-nothing", {"lines": [{"quantity": 1, "unit_price": price}]}),
        ("currency-word", {"currency": "dollars"}), ("currency-lowercase", {"currency": "usd"}),
        ("currency-mismatch", {"currency": "EUR"}), ("speed-unknown", {"shipping_speed": "teleport"}),
        ("channel-unknown", {"fulfillment_channel": "drone"}), ("ship-to-string", {"ship_to": "1 Main St"}),
        ("order-id-null", {"order_id": None}), ("order-id-empty", {"order_id": ""}),
        ("buyer-id-empty", {"buyer_id": ""}), ("ship-to-null", {"ship_to": None}),
        ("name-empty", {"ship_to": {**address, "name": ""}}),
        ("address-lines-4", {"ship_to": {**address, "lines": ["a", "b", "c", "d"]}}),
        ("lines-101", {"lines": [{**line, "sku": f"S-{i}"} for i in range(101)]}),
        ("lines-5000", {"lines": [{**line, "sku": f"S-{i}"} for i in range(5000)]}),
        ("order-id-65-chars", {"order_id": "O" * 65}), ("order-id-sql", {"order_id": "1' OR '1'='1"}),
        ("name-101-chars", {"ship_to": {**address, "name": "N" * 101}}),
        ("city-10k-chars", {"ship_to": {**address, "city": "C" * 10_000}}),
        ("deep-nesting-unknown-field", {"extra": nested(5000)}),
        ("deep-nesting-name", {"ship_to": {**address, "name": nested(300)}}),
    ]
    for quantity in (0, -1, 100_001, 1e308, 2**64, "1", 1.5, True, None):
        bent.append((f"quantity-{json.dumps(quantity)}", {"lines": [{**line, "quantity": quantity}]}))
    for amount in ("NaN", "-1.00", 1e308, "0.001", "abc", "Infinity", "12345678901234.00", "1e400", ""):
        bent.append((f"price-{json.dumps(amount)}", {"lines": [{**line, "unit_price": {**price, "amount": amount}}]}))
    for text, character in [("nul", "\u0000"), ("bell", "\u0007"), ("escape", "\u001b[2J"), ("cr", "\r"),
                            ("lone-surrogate", "\ud800")]:
        bent.append((f"name-{text}", {"ship_to": {**address, "name": f"Ada{character}Buyer"}}))
    for name, changes in bent:
        order_id, document = b.order()
        document["data"].update(changes)
        # the order id a hostile order would create: its own, unless the case replaced it
        made = document["data"].get("order_id") if isinstance(document["data"].get("order_id"), str) else order_id
        b.refused(f"orders/data/{name}", ORDERS, document, ("order", made or order_id))
    for name, buyer_name in [("rtl-override", "Ada \u202eremmuS\u202c Buyer"),
                             ("sql-ish", "Robert'); DROP TABLE orders;--"),
                             ("html", "<script>alert(1)</script>"), ("emoji-combining", "Zoe\u0308 \U0001f600")]:
        order_id, document = b.order()
        document["data"]["ship_to"]["name"] = buyer_name
        b.add(f"orders/data/name-{name}", ORDERS, encode(document), outcome=Outcome.APPLIED,
              probe=Probe("order", order_id, {"status": "unshipped"}))


def _cancellations(b: _Builder) -> None:
    for missing in ("order_id", "buyer_id", "requested_at"):
        document = b.cancellation()
        del document["data"][missing]
        b.refused(f"orders/cancellation/missing-{missing}", ORDERS, document)
    for name, changes in [("unknown-field", {"refund": True}), ("reason-201-chars", {"reason": "r" * 201}),
                          ("reason-nul", {"reason": "no\u0000thanks"}),
                          ("unknown-order", {"order_id": b.id("O")}), ("another-buyer", {"buyer_id": "B-other"}),
                          ("requested-at-number", {"requested_at": 1_772_000_000})]:
        b.refused(f"orders/cancellation/{name}", ORDERS, b.cancellation(**changes))


def _scans(b: _Builder) -> None:
    for missing in ("carrier", "tracking_number", "status"):
        document = b.scan()
        del document["data"][missing]
        b.refused(f"carrier/data/missing-{missing}", CARRIER, document)
    for name, changes in [("unknown-field", {"weight_kg": 2}), ("carrier-unknown", {"carrier": "pigeon"}),
                          ("status-unknown", {"status": "teleported"}),
                          ("tracking-5-chars", {"tracking_number": "1Z123"}),
                          ("tracking-41-chars", {"tracking_number": "9" * 41}),
                          ("tracking-sql", {"tracking_number": "1Z' OR 1=1--"}),
                          ("tracking-unknown", {"tracking_number": "1Z999AA10123456784"}),
                          ("delivered-without-time", {"status": "delivered", "scanned_at": None}),
                          ("delivered-before-shipment", {"status": "delivered",
                                                         "scanned_at": stamp(b.t.shipped_at - timedelta(days=1))}),
                          ("location-nul", {"location": "Spring\u0000field"}),
                          ("detail-201-chars", {"detail": "d" * 201}), ("data-null", {"status": None}),
                          ("location-huge-array", {"location": ["hub"] * 50_000})]:
        b.refused(f"carrier/data/{name}", CARRIER, b.scan(**changes))


def _messages(b: _Builder) -> None:
    for missing in ("message_id", "buyer_id", "sent_at", "body"):
        message_id, document = b.message()
        del document["data"][missing]
        b.refused(f"buyer/data/missing-{missing}", BUYER, document, ("message", message_id))
    for name, changes in [("unknown-field", {"mood": "angry"}), ("body-4001-chars", {"body": "b" * 4001}),
                          ("body-null", {"body": None}), ("body-number", {"body": 42}),
                          ("needs-reply-word", {"needs_reply": "yes"}), ("subject-201-chars", {"subject": "s" * 201}),
                          ("message-id-space", {"message_id": "M 1"}),
                          ("body-nul", {"body": "hello\u0000world"}), ("body-bell", {"body": "ring\u0007"}),
                          ("body-escape", {"body": "\u001b[31mred"}), ("body-cr", {"body": "line\r\nline"}),
                          ("body-lone-surrogate", {"body": "half \udc00 a pair"}),
                          ("subject-nul", {"subject": "Re\u0000"})]:
        message_id, document = b.message(**changes)
        b.refused(f"buyer/data/{name}", BUYER, document, ("message", document["data"].get("message_id")
                                                          if isinstance(document["data"].get("message_id"), str)
                                                          else message_id))
    for name, body in [("rtl-override", "Please refund \u202egnissim si meti\u202c thanks"),
                       ("sql-ish", "'); DROP TABLE messages; SELECT * FROM sellers WHERE '1'='1"),
                       ("html", "<img src=x onerror=alert(1)>"), ("tab-and-newlines", "line one\n\tline two\n"),
                       ("emoji-zwj", "\U0001f468\u200d\U0001f469\u200d\U0001f467 family"),
                       ("body-4000-chars", "w" * 4000),
                       ("empty-body", "")]:
        message_id, document = b.message(body=body)
        b.add(f"buyer/data/{name}", BUYER, encode(document), outcome=Outcome.APPLIED,
              probe=Probe("message", message_id, {"body": body}))


def _times(b: _Builder) -> None:
    """Business times out of range: before 2000, far ahead of the clock, naive, overflowing."""
    bad_times = {"year-1": "0001-01-01T00:00:00Z", "year-9999": "9999-12-31T23:59:59Z",
                 "year-1999": "1999-12-31T23:59:59Z", "8-weeks-ahead": stamp(b.t.now + timedelta(weeks=8)),
                 "naive": b.at().replace(tzinfo=None).isoformat(), "not-a-time": "yesterday"}
    for when, value in bad_times.items():
        order_id, document = b.order(purchased_at=value)
        b.refused(f"orders/time/purchased-at-{when}", ORDERS, document, ("order", order_id))
        order_id, document = b.order()
        document["time"] = value
        b.refused(f"orders/time/envelope-{when}", ORDERS, document, ("order", order_id))
        message_id, document = b.message(sent_at=value)
        b.refused(f"buyer/time/sent-at-{when}", BUYER, document, ("message", message_id))
        b.refused(f"carrier/time/scanned-at-{when}", CARRIER, b.scan(scanned_at=value, status="in_transit"))
        b.refused(f"orders/time/requested-at-{when}", ORDERS, b.cancellation(requested_at=value))


def _keys(b: _Builder) -> None:
    """The Kafka key must be the sellerid."""
    for topic in topics.INGRESS_TOPICS:
        short = topic.split(".")[1]
        for name, key in [("key-other-seller", b.t.other_seller.encode()), ("no-key", None), ("empty-key", b""),
                          ("key-lowercased", b.t.seller.lower().encode()), ("key-non-utf8", b"\xff\xfe")]:
            if name == "key-lowercased" and b.t.seller.lower() == b.t.seller:
                continue
            made, kind, document = b.valid(topic)
            b.refused(f"{short}/key/{name}", topic, document, (kind, made) if made else None, key=key)


def _duplicates(b: _Builder) -> None:
    """The event id is the de-duplication key: another message under an applied id changes nothing."""
    seed = b.t.seed_order
    other = {**seed, "data": {**seed["data"], "lines": [{**seed["data"]["lines"][0], "quantity": 7}]}}
    b.add("orders/duplicate/event-id-other-quantity", ORDERS, encode(other), outcome=Outcome.SKIPPED,
          probe=Probe("order", seed["data"]["order_id"], {"total": "12.50"}))
    again = {**other, "id": str(uuid.uuid4())}
    b.add("orders/duplicate/order-id-other-quantity", ORDERS, encode(again), outcome=Outcome.SKIPPED,
          probe=Probe("order", seed["data"]["order_id"], {"total": "12.50"}))
    message = b.t.seed_message
    body = message["data"]["body"]
    first_stands = Probe("message", message["data"]["message_id"], {"body": body})
    dup = {**message, "data": {**message["data"], "body": "I want my money back NOW"}}
    b.add("buyer/duplicate/event-id-other-body", BUYER, encode(dup), outcome=Outcome.SKIPPED, probe=first_stands)
    # Validation comes first: an invalid message is refused whatever its id (and the first still stands).
    dup = {**message, "data": {**message["data"], "body": "x\u0000"}}
    b.add("buyer/duplicate/event-id-invalid-body", BUYER, encode(dup), probe=first_stands)
    scan = b.t.seed_scan
    b.add("carrier/duplicate/same-scan-new-event-id", CARRIER, encode({**scan, "id": str(uuid.uuid4())}),
          outcome=Outcome.SKIPPED)
    b.add("carrier/duplicate/event-id-other-status", CARRIER,
          encode({**scan, "data": {**scan["data"], "status": "lost"}}), outcome=Outcome.SKIPPED)


def _binary_mode(b: _Builder) -> None:
    """CloudEvents binary content mode (`ce_*` headers) from the official SDK, then bent."""
    for topic in topics.INGRESS_TOPICS:
        short = topic.split(".")[1]
        made, kind, document = b.valid(topic)
        key, headers, value = sdk_message(document, binary=True)
        probe = Probe(kind, made, _applied_view(kind, document)) if made else None
        b.add(f"{short}/binary/sdk-valid", topic, value, key=key, headers=tuple(headers), outcome=Outcome.APPLIED,
              probe=probe, made_with="cloudevents")
    for name in ("ce_specversion", "ce_id", "ce_type", "ce_source", "ce_sellerid", "ce_subject"):
        _binary_variant(b, f"orders/binary/missing-{name}", lambda h, v, n=name: ([x for x in h if x[0] != n], v))
    for name, header, bad in [("specversion-0.3", "ce_specversion", b"0.3"), ("id-not-uuid", "ce_id", b"abc"),
                              ("type-unknown", "ce_type", b"sellerflow.checkout.order_exploded.v1"),
                              ("time-garbage", "ce_time", b"soon"),
                              ("time-year-9999", "ce_time", b"9999-12-31T00:00:00Z"),
                              ("content-type-text", "content-type", b"text/plain"),
                              ("sellerid-non-utf8", "ce_sellerid", b"\xff\xfe"),
                              ("sellerid-other", "ce_sellerid", b.t.other_seller.encode())]:
        _binary_variant(b, f"orders/binary/{name}", lambda h, v, k=header, x=bad: (
            [(n, x if n == k else val) for n, val in h], v))
    _binary_variant(b, "orders/binary/value-not-json", lambda h, v: (h, b"not json"))
    _binary_variant(b, "orders/binary/value-is-structured-envelope", lambda h, v: (
        h, encode(envelope(ORDER_PLACED, b.t.seller, "x", json.loads(v), at=b.at()))))
    _binary_variant(b, "orders/binary/data-unknown-field", lambda h, v: (h, encode({**json.loads(v), "x": 1})))
    _binary_variant(b, "orders/binary/data-nul", lambda h, v: (
        h, encode({**json.loads(v), "buyer_id": "B\u0000"})))


def _binary_variant(b: _Builder, name: str, bend: Any) -> None:
    order_id, document = b.order()
    key, headers, value = sdk_message(document, binary=True)
    headers, value = bend(headers, value)
    b.add(name, ORDERS, value, key=key, headers=tuple(headers), probe=Probe("order", order_id),
          made_with="cloudevents")


def _applied_view(kind: str, document: dict[str, Any]) -> dict[str, Any]:
    return {"status": "unshipped"} if kind == "order" else {"body": document["data"]["body"]}


def _extensions(b: _Builder) -> None:
    """What the CloudEvents binding allows is accepted: extensions, no datacontenttype, media-type parameters."""
    for topic in (ORDERS, BUYER):
        short = topic.split(".")[1]
        for name, bend in [
            ("sdk-structured", None),
            ("no-datacontenttype", lambda d: d.pop("datacontenttype")),
            ("datacontenttype-charset", lambda d: d.update(datacontenttype="application/json; charset=utf-8")),
            ("extensions", lambda d: d.update(
                traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", tracestate="vendor=1",
                partitionkey=d["sellerid"], dataschema="https://integrator.example/schema.json",
                comexampletenant="t1")),
        ]:
            made, kind, document = b.valid(topic)
            assert made
            if bend is None:
                key, headers, value = sdk_message(document, binary=False)
                b.add(f"{short}/structured/{name}", topic, value, key=key, headers=tuple(headers),
                      outcome=Outcome.APPLIED, probe=Probe(kind, made, _applied_view(kind, document)),
                      made_with="cloudevents")
                continue
            bend(document)
            b.add(f"{short}/structured/{name}", topic, encode(document), outcome=Outcome.APPLIED,
                  probe=Probe(kind, made, _applied_view(kind, document)))
    for topic in topics.INGRESS_TOPICS:  # headers other than ce_* are not ours to judge
        made, kind, document = b.valid(topic)
        b.add(f"{topic.split('.')[1]}/structured/header-not-utf8", topic, encode(document),
              headers=(("x-note", b"\xff\xfe"),), outcome=Outcome.APPLIED,
              probe=Probe(kind, made, _applied_view(kind, document)) if made else None)
    made, kind, document = b.valid(ORDERS)
    b.add("orders/structured/traceparent-garbage", ORDERS, encode(document), headers=(("traceparent", b"garbage"),),
          outcome=Outcome.APPLIED, probe=Probe("order", made or "", {"status": "unshipped"}))


def _unknown_sellers(b: _Builder) -> None:
    unknown = b.t.unknown_seller
    order_id, document = b.order()
    document["sellerid"] = unknown
    b.add("orders/unknown-seller/order", ORDERS, encode(document), key=unknown.encode(),
          outcome=Outcome.REJECTED, probe=Probe("order", order_id, {"status": "rejected"}))
    message_id, document = b.message(order_id=None)
    document["sellerid"] = unknown
    b.refused("buyer/unknown-seller/message", BUYER, document, ("message", message_id), key=unknown.encode())
    document = b.scan()
    document["sellerid"] = unknown
    b.refused("carrier/unknown-seller/scan", CARRIER, document, key=unknown.encode())
    document = b.cancellation()
    document["sellerid"] = unknown
    b.refused("orders/unknown-seller/cancellation", ORDERS, document, key=unknown.encode())


def size_cases(t: Targets) -> list[HostileCase]:
    """Around the 1 MiB limit: just under (refused only for its unknown field) and just over; their
    dead letters are too big to carry whole (a preview goes to the .dlq topic)."""
    b = _Builder(t)
    for name, target in [("just-under-1mib-unknown-field", MIB - 64), ("over-1mib", MIB + 1024)]:
        order_id, document = b.order()
        document["data"]["padding"] = ""
        room = target - len(encode(document))
        document["data"]["padding"] = "p" * room
        value = encode(document)
        assert len(value) == target
        b.refused(f"orders/size/{name}", ORDERS, document, ("order", order_id))
    return b.cases

