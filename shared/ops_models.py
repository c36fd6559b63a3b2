"""The operations routes' answers (`/healthz`, `/readyz`, `/ops/progress`) as models: OpenAPI names them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

#: A check passes (true) or says what is wrong.
Check = bool | str


class Alive(BaseModel):
    status: str = Field(description="Always `alive`: the process answers.")
    service: str


class Readiness(BaseModel):
    """200 when every check passes, else 503 naming the ones that failed (design.md sections 6 and 8)."""

    ready: bool
    service: str
    failed: list[str] = Field(description="The checks that did not pass.")
    started: Check
    database: Check | None = None
    migrations: Check | None = None
    broker: Check | None = None
    partitions: Check | None = Field(default=None, description="Partitions assigned (services with inputs).")


class Progress(BaseModel):
    """How far this replica has got: lag, batches in flight, what it consumed and relayed."""

    service: str
    business_now: datetime | None
    consumer_lag: int
    batches_in_flight: int
    batches_applied: int
    records_consumed: int
    inputs: list[str]
    consumed: dict[str, int]
    published: dict[str, int]
    outbox_unsent: int
    #: An outbox relay pass is under way: rows it sent may not be counted in `published` yet.
    relaying: bool = False
