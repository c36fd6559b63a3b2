"""Building the events this service publishes and staging them in the outbox (design.md section 6).

Domain methods return plain values; the use cases turn them into wire payloads with these helpers.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import asyncpg

from services.aftersales.message_rules import RULES, SellerMessageRule
from services.aftersales.read_model import KnownOrder
from shared.events import new_event, topics
from shared.events.common import Money, PolicyCategory
from shared.events.envelope import Payload
from shared.events.policy import PolicyViolated, ViolationSubject
from shared.messaging import outbox

SOURCE: Final = "/sellerflow/aftersales"
_VIOLATIONS: Final = uuid.UUID("5b0f9a4e-2d1c-4e8a-9a57-3f1d7c2b6e90")
_MAX_DESCRIPTION: Final = 200


async def stage(
    conn: asyncpg.Connection, seller_id: str, subject: str, time: datetime, payloads: Sequence[Payload],
    *, topic: str | None = None,
) -> None:
    """Stage events about one aggregate (`subject`) at business time `time`, in the caller's transaction."""
    events = [new_event(p, seller_id=seller_id, subject=subject, time=time, source=SOURCE) for p in payloads]
    await outbox.stage(conn, events, topic=topic)


def order_facts(order: KnownOrder) -> dict[str, Any]:
    """What every event about an order carries (OrderFacts)."""
    return {"order_id": order.order_id, "purchased_at": order.purchased_at,
            "fulfillment_channel": order.fulfillment_channel}


def money(amount: Decimal, currency: str) -> Money:
    return Money(amount=amount, currency=currency)


def violations(message_id: str, broken: Sequence[SellerMessageRule], at: datetime) -> list[PolicyViolated]:
    """One violation per policy category broken (messaging: M1-M3, M8, low; review: M4-M7, high)."""
    by_category: dict[PolicyCategory, list[SellerMessageRule]] = defaultdict(list)
    for rule in broken:
        by_category[RULES[rule].category].append(rule)
    found = []
    for category, rules in by_category.items():
        severity = max((RULES[rule].severity for rule in rules), key=_SEVERITY_ORDER.index)
        said = "; ".join(f"{rule.value} {RULES[rule].description}" for rule in rules)
        found.append(PolicyViolated(
            violation_id=f"pv-{uuid.uuid5(_VIOLATIONS, f'{message_id}/{category}').hex}",
            category=category,
            severity=severity,
            rules=[rule.value for rule in rules],
            subject_kind=ViolationSubject.MESSAGE,
            subject_id=message_id,
            detected_at=at,
            description=_clip(f"Seller message {message_id} blocked: {said}"),
        ))
    return found


async def stage_violations(
    conn: asyncpg.Connection, seller_id: str, message_id: str, found: Sequence[PolicyViolated], at: datetime
) -> None:
    """`policy.violation` may go to two topics; ours is aftersales.events."""
    await stage(conn, seller_id, message_id, at, found, topic=topics.AFTERSALES_EVENTS)


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_DESCRIPTION else text[: _MAX_DESCRIPTION - 3].rstrip() + "..."


_SEVERITY_ORDER: Final = ["low", "medium", "high", "critical"]
