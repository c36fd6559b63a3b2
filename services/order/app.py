"""The order service: wiring only."""

from __future__ import annotations

from pathlib import Path

from services.order import handlers
from shared.events import topics
from shared.runtime import ServiceSpec

SPEC = ServiceSpec(
    name="order",
    description="Orders from storefronts: validated, stored, confirmed or rejected, cancelled, followed to delivery.",
    migrations=Path(__file__).parent / "migrations",
    inputs=(topics.INGRESS_ORDERS, topics.LISTING_EVENTS, topics.FULFILLMENT_EVENTS, topics.CLOCK_EVENTS),
    make_handler=lambda ctx: handlers.events,
    routers=(handlers.router,),
)
