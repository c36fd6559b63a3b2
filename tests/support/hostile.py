"""Hostile messages for the three ingress topics: what a case is, and the valid payloads they bend.

A case (`HostileCase`) is what an integrator we do not control might send, with the outcome the
contract (design.md section 3, "The public doors", and section 6) promises for it: most are refused
(dead-lettered with a reason); some are valid however odd they look (RTL or SQL-ish free text,
extension attributes) and must be applied harmlessly; a duplicate event id is skipped (the first
stands); an order for an unknown seller is rejected. `awaits` names the branch whose feature a case
needs while that branch has not landed. The catalogue of cases is `hostile_cases.py`.

The valid payloads here (`order_data`, `message_data` ...) are the templates the cases bend, and the
valid traffic the suite and bench/hostile_drain.py interleave with them.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent

from shared.events import topics
from tests.support.ce_sdk import headers_of, key_of

ORDERS, CARRIER, BUYER = topics.INGRESS_ORDERS, topics.INGRESS_CARRIER, topics.INGRESS_BUYER
ORDER_PLACED = "sellerflow.checkout.order_placed.v1"
CANCELLATION = "sellerflow.checkout.cancellation_requested.v1"
SCAN = "sellerflow.carrier.scan_recorded.v1"
MESSAGE = "sellerflow.buyer.message_sent.v1"
SOURCE = "https://integrator.example/hostile"
#: The header naming the case on every message the suite sends; dead letters keep it.
CASE_HEADER = "x-hostile-case"
MIB = 1024 * 1024
#: Cancellation requests among the cases: each needs an open order of its own (`Targets.open_orders`).
CANCELLATION_CASES = 16


class Outcome(StrEnum):
    DEAD_LETTERED = "dead-lettered"  # on <topic>.dlq once, with a reason; nothing else changes
    APPLIED = "applied"  # valid however odd: applied once, harmlessly
    SKIPPED = "skipped"  # a duplicate: acknowledged, the first one stands
    REJECTED = "rejected"  # a well-formed order the business refuses: stored as rejected, with its reason


@dataclass(frozen=True)
class Probe:
    """What the case leaves behind, looked up over HTTP: `expect` fields of the order or message with
    this id (None: there must be no such order or message for any seller)."""

    kind: str  # "order" or "message"
    id: str
    expect: dict[str, Any] | None = None


@dataclass(frozen=True)
class HostileCase:
    name: str
    topic: str  # logical ingress topic
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()
    outcome: Outcome = Outcome.DEAD_LETTERED
    probe: Probe | None = None
    awaits: str | None = None  # the branch whose feature this case needs, until it lands
    made_with: str = "json"  # "json" (bytes built here) or "cloudevents" (the official SDK)

    def all_headers(self) -> list[tuple[str, bytes | None]]:
        return [*self.headers, (CASE_HEADER, self.name.encode())]


@dataclass(frozen=True)
class Targets:
    """The registered world the cases aim at."""

    seller: str  # a registered seller with a listing for hostile orders
    other_seller: str  # another registered seller (the wrong key)
    unknown_seller: str  # never registered
    sku: str  # the SKU of the seller's listing that hostile orders name
    open_orders: tuple[str, ...]  # unshipped orders of the seller: one per cancellation case (CANCELLATION_CASES)
    open_order_buyer: str  # ... their buyer
    parcel: tuple[str, str]  # (carrier, tracking number) of a shipped parcel the refused scans name ...
    clean_parcel: tuple[str, str]  # ... and of another, which valid scans among the cases name
    shipped_at: datetime
    seed_order: dict[str, Any]  # an applied order envelope (its id is reused by duplicates)
    seed_message: dict[str, Any]  # an applied buyer message envelope
    seed_scan: dict[str, Any]  # an applied carrier scan envelope
    now: datetime  # the latest clock tick
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])  # makes every id of one run unique


# --- valid templates ---------------------------------------------------------------------------------

def stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def order_data(order_id: str, sku: str, *, at: datetime, quantity: int = 1, buyer: str = "B-1",
               name: str = "Ada Buyer") -> dict[str, Any]:
    return {
        "order_id": order_id, "buyer_id": buyer,
        "lines": [{"sku": sku, "quantity": quantity,
                   "unit_price": {"amount": "12.50", "currency": "USD"}}],
        "currency": "USD", "purchased_at": stamp(at),
        "ship_to": {"name": name, "lines": ["1 Main St"], "city": "Springfield", "region": "IL",
                    "postal_code": "62701", "country": "US"},
        "shipping_speed": "standard", "fulfillment_channel": "merchant",
    }


def cancellation_data(order_id: str, buyer: str, *, at: datetime) -> dict[str, Any]:
    return {"order_id": order_id, "buyer_id": buyer, "requested_at": stamp(at), "reason": "changed my mind"}


def scan_data(carrier: str, tracking_number: str, status: str, *, at: datetime) -> dict[str, Any]:
    return {"carrier": carrier, "tracking_number": tracking_number, "status": status, "scanned_at": stamp(at),
            "location": "Springfield hub"}


def message_data(message_id: str, order_id: str | None, body: str, *, at: datetime) -> dict[str, Any]:
    return {"message_id": message_id, "order_id": order_id, "buyer_id": "B-1", "sent_at": stamp(at),
            "subject": "About my order", "body": body}


def envelope(event_type: str, seller: str, subject: str, data: Any, *, at: datetime,
             event_id: str | None = None) -> dict[str, Any]:
    return {"specversion": "1.0", "id": event_id or str(uuid.uuid4()), "source": SOURCE, "type": event_type,
            "time": stamp(at), "sellerid": seller, "subject": subject, "datacontenttype": "application/json",
            "data": data}


def encode(document: Any) -> bytes:
    """Compact JSON in ASCII (NULs and lone surrogates travel as \\u escapes); `nested(n)` placeholders
    become n nested arrays (too deep for json.dumps to write)."""
    raw = json.dumps(document).encode()
    return _NESTED.sub(lambda m: b"[" * int(m[1]) + b'"deep"' + b"]" * int(m[1]), raw)


_NESTED = re.compile(rb'"@nested:([0-9]+)@"')


def nested(depth: int) -> str:
    return f"@nested:{depth}@"


def sdk_message(document: dict[str, Any], *, binary: bool
                ) -> tuple[bytes | None, list[tuple[str, bytes | None]], bytes]:
    """The envelope as the official CloudEvents SDK puts it on Kafka: (key, headers, value); the key
    is the `partitionkey` extension, as the SDK's Kafka binding maps it."""
    attributes = {k: v for k, v in document.items() if k not in ("data", "specversion")}
    attributes.setdefault("partitionkey", document.get("sellerid"))
    attributes["time"] = datetime.fromisoformat(attributes["time"].replace("Z", "+00:00"))
    event = CloudEvent(attributes=attributes, data=document["data"])
    message = ce_kafka.to_binary_event(event) if binary else ce_kafka.to_structured_event(event)
    return key_of(message), headers_of(message), message.value
