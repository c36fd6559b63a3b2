"""`policy.violation`: one type, produced by the listing service (listing and review policy, on
`listing.events`) and the aftersales service (messaging and review policy, on `aftersales.events`).
The metrics service folds it into the account health rating (domain.md section 7).
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from shared.events import topics
from shared.events.common import Identifier, PolicyCategory, RuleCode, Severity, ShortText, UtcDatetime
from shared.events.envelope import Payload


class ViolationSubject(StrEnum):
    """What broke the policy."""

    LISTING = "listing"
    MESSAGE = "message"
    ACCOUNT = "account"


class PolicyViolated(Payload):
    """A seller broke a listing, review or messaging policy: an open violation for 180 days."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.policy.violation.v1"
    TOPICS: ClassVar[tuple[str, ...]] = (topics.LISTING_EVENTS, topics.AFTERSALES_EVENTS)

    violation_id: Identifier = Field(description="Unique violation id; an accepted appeal names it.")
    category: PolicyCategory = Field(description="Listing, review or messaging policy.")
    severity: Severity = Field(description="Low 2, medium 4, high 8 points; critical sets the rating to 0.")
    rules: list[RuleCode] = Field(min_length=1, max_length=20, description="The rules broken: L3, M4 ...")
    subject_kind: ViolationSubject = Field(description="What broke it.")
    subject_id: Identifier = Field(description="Id of the listing, message or account.")
    detected_at: UtcDatetime = Field(description="When it was found: opens the 180-day window.")
    description: ShortText = Field(description="What happened, for the seller (no buyer data).")
