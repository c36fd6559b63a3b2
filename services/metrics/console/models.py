"""What the console reads from the other services: only the fields it shows (pydantic at the boundary)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict


class Peer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Account(Peer):
    seller_id: str
    legal_name: str
    status: str
    updated_at: datetime


class Enforcement(Peer):
    action: str
    outcome: str
    old_status: str
    new_status: str
    note: str | None
    decided_at: datetime


class Appeal(Peer):
    appeal_id: str
    seller_id: str
    root_cause: str
    actions: list[str]
    prevention: str
    violation_ids: list[str]
    filed_at: datetime
    accepted: bool | None
    note: str | None
    decided_at: datetime | None


class Message(Peer):
    order_id: str | None
    subject: str | None
    due_by: datetime
    overdue: bool


class Return(Peer):
    order_id: str
    reason: str
    status: str
    answer_due_by: datetime
    refund_due_by: datetime | None
    overdue: bool


class Claim(Peer):
    claim_id: str
    order_id: str
    reason: str
    amount: Decimal
    currency: str
    filed_at: datetime


class Feedback(Peer):
    order_id: str
    stars: int
    left_at: datetime


class Work(Peer):
    messages_due: list[Message]
    returns_awaiting: list[Return]
    open_claims: list[Claim]
    open_chargebacks: list[dict[str, Any]]
    negative_feedback: list[Feedback]


class Order(Peer):
    order_id: str
    total: Decimal
    currency: str
    purchased_at: datetime
    ship_by: datetime | None


class DeadLetter(Peer):
    """One outstanding letter of a service's ledger (`/v1/ops/dead-letters`)."""

    id: int
    topic: str
    key: str | None
    reason: str
    error_type: str
    created_at: datetime
