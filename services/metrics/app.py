"""The metrics service: wiring only."""

from __future__ import annotations

from pathlib import Path

from services.metrics import handlers
from services.metrics.console import routes as console
from shared.events import topics
from shared.runtime import ServiceSpec

SPEC = ServiceSpec(
    name="metrics",
    description="Consumes every event and keeps each seller's account health and sales figures in real time.",
    migrations=Path(__file__).parent / "migrations",
    inputs=(topics.SELLER_EVENTS, topics.LISTING_EVENTS, topics.ORDER_EVENTS, topics.FULFILLMENT_EVENTS,
            topics.AFTERSALES_EVENTS, topics.CLOCK_EVENTS),
    make_handler=lambda ctx: handlers.events,
    routers=(handlers.router, handlers.pages, console.pages),
)
