"""Seller account events, produced by the listing service on `seller.events` (domain.md section 1).

Secrets (tax id, bank account, document number) never travel: events carry them masked.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar, Self
from uuid import UUID

from pydantic import Field, model_validator

from shared.events import topics
from shared.events.common import (
    AccountStatus,
    BusinessType,
    CountryCode,
    DocumentType,
    Identifier,
    LongText,
    MaskedSecret,
    Name,
    ShortText,
)
from shared.events.envelope import Payload

_SELLER = (topics.SELLER_EVENTS,)


class StatusCause(StrEnum):
    """Why an account status changed."""

    VERIFICATION = "verification"  # verified, rejected or sent to an operator at registration
    ENFORCEMENT = "enforcement"  # applying a seller.enforcement_decided of the metrics service
    APPEAL = "appeal"  # an operator accepted an appeal
    OPERATOR = "operator"  # any other operator decision


class SellerRegistered(Payload):
    """A seller registered; verification follows."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.seller.registered.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _SELLER

    legal_name: Name = Field(description="Legal name of the person or company.")
    country: CountryCode = Field(description="ISO 3166-1 alpha-2 country of the business.")
    business_type: BusinessType = Field(description="Individual or company.")
    tax_id: MaskedSecret = Field(description="Tax id, masked but for its last 4 characters.")
    bank_account: MaskedSecret = Field(description="IBAN or account number, masked but for its last 4.")
    document_type: DocumentType = Field(description="Identity document type.")
    document_number: MaskedSecret = Field(description="Identity document number, masked.")
    document_expires_on: date = Field(description="Identity document expiry date.")


class SellerVerified(Payload):
    """The seller passed verification (automatically or by an operator) and may list and sell."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.seller.verified.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _SELLER

    automatic: bool = Field(description="True when every check passed without an operator.")
    operator_id: Identifier | None = Field(default=None, description="The operator who verified, if any.")


class SellerRejected(Payload):
    """The seller failed verification; every reason is listed."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.seller.rejected.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _SELLER

    reasons: list[ShortText] = Field(min_length=1, max_length=20, description="Every failed check.")
    operator_id: Identifier | None = Field(default=None, description="The operator who rejected, if any.")


class SellerAppealed(Payload):
    """The seller appealed an enforcement with a plan of action."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.seller.appealed.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _SELLER

    appeal_id: Identifier = Field(description="Unique appeal id.")
    root_cause: LongText = Field(min_length=1, description="What caused the problem.")
    actions: list[ShortText] = Field(min_length=1, max_length=20, description="Actions taken to fix it.")
    prevention: LongText = Field(min_length=1, description="How it will not happen again.")
    violation_ids: list[Identifier] = Field(
        default_factory=list, max_length=100, description="Policy violations the appeal asks to resolve."
    )
    enforcement_event_id: UUID | None = Field(
        default=None, description="Id of the seller.enforcement_decided event appealed against."
    )


class SellerAppealDecided(Payload):
    """An operator accepted or refused an appeal."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.seller.appeal_decided.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _SELLER

    appeal_id: Identifier = Field(description="The appeal decided.")
    accepted: bool = Field(description="True when the plan of action was accepted.")
    operator_id: Identifier = Field(description="The operator who decided.")
    resolved_violation_ids: list[Identifier] = Field(
        default_factory=list, max_length=100, description="Violations resolved by an accepted appeal."
    )
    note: ShortText | None = Field(default=None, description="The operator's note to the seller.")

    @model_validator(mode="after")
    def _only_accepted_appeals_resolve(self) -> Self:
        if self.resolved_violation_ids and not self.accepted:
            raise ValueError("a refused appeal resolves no violation")
        return self


class SellerStatusChanged(Payload):
    """The account status changed."""

    EVENT_TYPE: ClassVar[str] = "sellerflow.seller.status_changed.v1"
    TOPICS: ClassVar[tuple[str, ...]] = _SELLER

    old_status: AccountStatus | None = Field(description="Status before; null for a new account.")
    new_status: AccountStatus = Field(description="Status after.")
    cause: StatusCause = Field(description="What changed it.")
    reasons: list[ShortText] = Field(default_factory=list, max_length=20, description="Why, for the seller.")
    enforcement_event_id: UUID | None = Field(
        default=None, description="Id of the seller.enforcement_decided event applied, for an enforcement."
    )

    @model_validator(mode="after")
    def _is_a_change(self) -> Self:
        if self.old_status == self.new_status:
            raise ValueError("old_status and new_status are the same")
        return self
