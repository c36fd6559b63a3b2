"""`clock.ticked`: the business clock (design.md section 5). Deadlines are checked when a tick arrives."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.events import topics
from shared.events.common import BusinessTime
from shared.events.envelope import Payload


class ClockTicked(Payload):
    """The business clock moved to `now`: ship-by, reply, return and claim deadlines up to it have passed."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.clock.ticked.v1"
    TOPICS: ClassVar[tuple[str, ...]] = (topics.CLOCK_EVENTS,)

    now: BusinessTime = Field(description="The business clock's now; never goes back for a seller. In 2000-2099.")
