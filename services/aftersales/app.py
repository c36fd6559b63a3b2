"""The aftersales service: wiring only."""

from __future__ import annotations

from pathlib import Path

from services.aftersales import handlers
from shared.events import topics
from shared.runtime import ServiceSpec

SPEC = ServiceSpec(
    name="aftersales",
    description="Buyer messages, returns, refunds, A-to-z claims, chargebacks, feedback and reviews.",
    migrations=Path(__file__).parent / "migrations",
    inputs=(topics.INGRESS_BUYER, topics.SELLER_EVENTS, topics.ORDER_EVENTS, topics.FULFILLMENT_EVENTS,
            topics.CLOCK_EVENTS),
    make_handler=handlers.make_handler,
    routers=(handlers.router,),
)
