"""The listing service: wiring only."""

from __future__ import annotations

from pathlib import Path

from services.listing import handlers
from shared.events import topics
from shared.runtime import ServiceSpec

SPEC = ServiceSpec(
    name="listing",
    description="Seller onboarding and account status, the catalog, and inventory reservations.",
    migrations=Path(__file__).parent / "migrations",
    inputs=(topics.ORDER_EVENTS, topics.FULFILLMENT_EVENTS, topics.METRICS_EVENTS, topics.CLOCK_EVENTS),
    make_handler=lambda ctx: handlers.events,
    routers=(handlers.router,),
)
