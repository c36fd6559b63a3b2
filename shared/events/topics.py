"""Topic names (design.md section 2). Every topic is keyed by seller id; one owner writes a topic."""

from __future__ import annotations

from typing import Final

INGRESS_ORDERS: Final = "ingress.orders"
INGRESS_CARRIER: Final = "ingress.carrier"
INGRESS_BUYER: Final = "ingress.buyer"
CLOCK_EVENTS: Final = "clock.events"
SELLER_EVENTS: Final = "seller.events"
LISTING_EVENTS: Final = "listing.events"
ORDER_EVENTS: Final = "order.events"
FULFILLMENT_EVENTS: Final = "fulfillment.events"
AFTERSALES_EVENTS: Final = "aftersales.events"
METRICS_EVENTS: Final = "metrics.events"

#: Topics written by other systems: the public contract, validated most strictly.
INGRESS_TOPICS: Final[tuple[str, ...]] = (INGRESS_ORDERS, INGRESS_CARRIER, INGRESS_BUYER)

#: Topics written by sellerflow itself.
INTERNAL_TOPICS: Final[tuple[str, ...]] = (
    CLOCK_EVENTS,
    SELLER_EVENTS,
    LISTING_EVENTS,
    ORDER_EVENTS,
    FULFILLMENT_EVENTS,
    AFTERSALES_EVENTS,
    METRICS_EVENTS,
)

#: Every topic except the dead-letter topics.
ALL_TOPICS: Final[tuple[str, ...]] = INGRESS_TOPICS + INTERNAL_TOPICS

DLQ_SUFFIX: Final = ".dlq"


def dlq_topic(topic: str) -> str:
    """The dead-letter topic of `topic`: `order.events` -> `order.events.dlq`."""
    return f"{topic}{DLQ_SUFFIX}"


def is_ingress(topic: str) -> bool:
    """True for an ingress topic or its dead-letter topic."""
    return topic.removesuffix(DLQ_SUFFIX) in INGRESS_TOPICS
