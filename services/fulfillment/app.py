"""The fulfillment service: wiring only."""

from __future__ import annotations

from pathlib import Path

from services.fulfillment import handlers
from shared.events import topics
from shared.runtime import ServiceSpec

SPEC = ServiceSpec(
    name="fulfillment",
    description="Shipments, carrier tracking and delivery, for merchant- and marketplace-fulfilled orders.",
    migrations=Path(__file__).parent / "migrations",
    inputs=(topics.INGRESS_CARRIER, topics.ORDER_EVENTS, topics.CLOCK_EVENTS),
    make_handler=lambda ctx: handlers.events,
    routers=(handlers.router,),
)
