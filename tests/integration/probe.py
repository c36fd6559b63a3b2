"""A tiny service for testing the messaging machinery itself: it records the orders it applies.

Order ids steer it: `refuse-*` is refused (Unprocessable), `picky-*` is refused while
`FAULTS.picky` is set (a handler bug, later fixed), `flaky-*` fails transiently while
`FAULTS.transient` is above zero, everything else is recorded in `applied`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from shared.events import topics
from shared.events.ingress import CheckoutOrderPlaced
from shared.messaging.consumer import Incoming, Unprocessable
from shared.runtime import ServiceSpec


@dataclass
class Faults:
    transient: int = 0
    picky: bool = True


FAULTS = Faults()


async def record_orders(conn: asyncpg.Connection, batch: Sequence[Incoming]) -> None:
    for item in batch:
        order = item.event.data_as(CheckoutOrderPlaced)
        if order.order_id.startswith("refuse-"):
            raise Unprocessable("the probe refuses orders named refuse-*")
        if order.order_id.startswith("picky-") and FAULTS.picky:
            raise Unprocessable("the probe refuses orders named picky-* until FAULTS.picky is cleared")
        if order.order_id.startswith("flaky-") and FAULTS.transient > 0:
            FAULTS.transient -= 1
            raise asyncpg.exceptions.ConnectionDoesNotExistError("simulated database outage")
        await conn.execute("INSERT INTO applied (event_id, order_id) VALUES ($1, $2)", item.event.id, order.order_id)


SPEC = ServiceSpec(
    name="probe",
    description="Test probe",
    migrations=Path(__file__).parent / "probe_migrations",
    inputs=(topics.INGRESS_ORDERS,),
    make_handler=lambda ctx: record_orders,
)
