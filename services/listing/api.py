"""The listing service's HTTP bodies: requests are bounded in shape here; what they mean is checked by
the domain (a rejected registration or listing names every reason, it is not a 422 of this layer)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.listing.listing_repository import ListingRow
from services.listing.listing_rules import ListingReview
from services.listing.repository import AppealRow, EnforcementRow, SellerRow
from services.listing.standing import Standing
from services.listing.verification import BankAccount, IdentityDocument, Registration
from shared.events.common import (
    AccountStatus,
    BusinessTime,
    BusinessType,
    CleanStr,
    Condition,
    CountryCode,
    CurrencyCode,
    DocumentType,
    FulfillmentChannel,
    Identifier,
    ListingStatus,
    LongText,
    Name,
    ShortText,
    Sku,
)

Text = Annotated[CleanStr, Field(max_length=500)]
Url = Annotated[CleanStr, Field(max_length=2000)]
Price = Annotated[Decimal, Field(max_digits=14, decimal_places=2, allow_inf_nan=False)]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: BusinessTime | None = Field(
        default=None, description="Business time of the command; the service's business clock if absent."
    )


# --- sellers ---------------------------------------------------------------------------------------


class BankAccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    iban: CleanStr | None = Field(default=None, max_length=64, description="An IBAN, or ...")
    account_number: CleanStr | None = Field(default=None, max_length=34, description="... an account number ...")
    routing_number: CleanStr | None = Field(default=None, max_length=34, description="... with its ABA routing number.")


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: DocumentType
    number: CleanStr = Field(min_length=1, max_length=64)
    holder_name: CleanStr = Field(max_length=200)
    expiry_date: date


class RegistrationIn(Command):
    seller_id: Identifier | None = Field(default=None, description="The id to register under; one is made if absent.")
    legal_name: Name
    country: CountryCode
    business_type: BusinessType
    contact_email: CleanStr = Field(max_length=254)
    tax_id: CleanStr = Field(min_length=1, max_length=64)
    bank_account: BankAccountIn
    identity_document: DocumentIn

    def registration(self) -> Registration:
        return Registration(
            legal_name=self.legal_name, country=self.country, business_type=self.business_type,
            contact_email=self.contact_email, tax_id=self.tax_id,
            bank_account=BankAccount(**self.bank_account.model_dump()),
            identity_document=IdentityDocument(**self.identity_document.model_dump()),
        )


class ReviewDecisionIn(Command):
    approved: bool
    reasons: list[ShortText] = Field(default_factory=list, max_length=20, description="Why, for the seller.")
    operator_id: Identifier = "operator"


class Reason(BaseModel):
    code: str
    message: str


class SellerView(BaseModel):
    seller_id: str
    legal_name: str
    country: str
    business_type: BusinessType
    status: AccountStatus
    reasons: list[Reason] = Field(description="Verification reasons (rejected) or doubts (pending review).")
    tax_id: str = Field(description="Masked.")
    bank_account: str = Field(description="Masked.")
    document_type: DocumentType
    document_expires_on: date
    registered_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: SellerRow) -> Self:
        return cls(seller_id=row.seller_id, legal_name=row.legal_name, country=row.country,
                   business_type=BusinessType(row.business_type), status=AccountStatus(row.status),
                   reasons=[Reason(**r) for r in row.reasons], tax_id=row.tax_id_masked,
                   bank_account=row.bank_account_masked, document_type=DocumentType(row.document_type),
                   document_expires_on=row.document_expires_on, registered_at=row.registered_at,
                   updated_at=row.updated_at)


class RegisteredView(SellerView):
    token: str | None = Field(description="The seller's bearer token once verified (none before): keep it secret.")


class RegistrationReceipt(BaseModel):
    """The answer to every anonymous registration, whatever became of it: it tells nothing of other accounts."""

    seller_id: str
    status: Literal["received"] = "received"
    message: str = "Received, under review: read the outcome with the receipt."
    receipt: str = Field(description="A token for this registration's outcome only "
                                     "(GET /v1/sellers/{seller_id}/registration): keep it secret.")


class RegistrationOutcome(BaseModel):
    seller_id: str
    status: AccountStatus
    reasons: list[Reason] = Field(description="Why it was rejected, or what waits for an operator.")
    token: str | None = Field(description="A fresh seller bearer token once verified; none otherwise.")


class EnforcementView(BaseModel):
    event_id: UUID
    action: str
    outcome: str = Field(description="applied, unchanged (already in force) or ignored (the status refuses it).")
    old_status: AccountStatus
    new_status: AccountStatus
    note: str | None
    decided_at: datetime

    @classmethod
    def of(cls, row: EnforcementRow) -> Self:
        return cls.model_validate(row, from_attributes=True)


# --- appeals ---------------------------------------------------------------------------------------


class AppealIn(Command):
    root_cause: LongText = Field(min_length=1, description="What caused the problem.")
    actions: list[ShortText] = Field(min_length=1, max_length=20, description="Actions taken to fix it.")
    prevention: LongText = Field(min_length=1, description="How it will not happen again.")
    violation_ids: list[Identifier] = Field(default_factory=list, max_length=100, description="Violations answered.")
    enforcement_event_id: UUID | None = Field(default=None, description="The decision appealed; the latest if absent.")


class AppealDecisionIn(Command):
    accepted: bool
    note: ShortText | None = None
    operator_id: Identifier = "operator"
    resolved_violation_ids: list[Identifier] | None = Field(
        default=None, max_length=100, description="Violations resolved; all the appeal names if absent."
    )

    @model_validator(mode="after")
    def _only_accepted_appeals_resolve(self) -> Self:
        if self.resolved_violation_ids and not self.accepted:
            raise ValueError("a refused appeal resolves no violation")
        return self


class AppealView(BaseModel):
    appeal_id: str
    seller_id: str
    root_cause: str
    actions: list[str]
    prevention: str
    violation_ids: list[str]
    enforcement_event_id: UUID | None
    filed_at: datetime
    accepted: bool | None
    operator_id: str | None
    note: str | None
    resolved_violation_ids: list[str]
    decided_at: datetime | None

    @classmethod
    def of(cls, row: AppealRow) -> Self:
        return cls.model_validate(row, from_attributes=True)


# --- listings --------------------------------------------------------------------------------------


class ListingChangesIn(Command):
    """Fields to change; the whole listing is checked again."""

    product_id: CleanStr | None = Field(default=None, max_length=32, description="GTIN-8/12/13/14.")
    title: CleanStr | None = Field(default=None, max_length=1000)
    brand: CleanStr | None = Field(default=None, min_length=1, max_length=100)
    description: CleanStr | None = Field(default=None, max_length=4000)
    bullet_points: list[Text] | None = Field(default=None, max_length=10)
    condition: Condition | None = None
    price: Price | None = None
    currency: CurrencyCode | None = None
    quantity: int | None = Field(default=None, ge=-10_000_000, le=10_000_000, description="Units for sale.")
    handling_days: int | None = Field(default=None, ge=-1000, le=1000)
    fulfillment_channel: FulfillmentChannel | None = None
    image_urls: list[Url] | None = Field(default=None, max_length=20)
    category: CleanStr | None = Field(default=None, max_length=64, description="Sets the price ceiling (L9).")

    def changes(self) -> dict[str, Any]:
        given = self.model_dump(exclude_unset=True, exclude={"at"})
        changes = {k: v for k, v in given.items() if v is not None or k == "category"}
        for name in ("bullet_points", "image_urls"):
            if name in changes:
                changes[name] = tuple(changes[name])
        return changes


class NewListingIn(Command):
    listing_id: Identifier | None = Field(default=None, description="The id to list under; one is made if absent.")
    sku: Sku
    product_id: CleanStr = Field(max_length=32, description="GTIN-8/12/13/14 with a valid check digit.")
    title: CleanStr = Field(max_length=1000)
    brand: CleanStr = Field(min_length=1, max_length=100)
    description: CleanStr = Field(default="", max_length=4000)
    bullet_points: list[Text] = Field(default_factory=list, max_length=10)
    condition: Condition
    price: Price
    currency: CurrencyCode
    quantity: int = Field(ge=-10_000_000, le=10_000_000, description="Units for sale.")
    handling_days: int = Field(ge=-1000, le=1000)
    fulfillment_channel: FulfillmentChannel
    image_urls: list[Url] = Field(default_factory=list, max_length=20)
    category: CleanStr | None = Field(default=None, max_length=64, description="Sets the price ceiling (L9).")


class ListingView(BaseModel):
    listing_id: str
    seller_id: str
    sku: str
    product_id: str
    title: str
    brand: str
    description: str
    bullet_points: list[str]
    condition: Condition
    price: Decimal
    currency: str
    quantity: int = Field(description="Units for sale (not reserved).")
    reserved: int = Field(description="Units held for orders not yet shipped.")
    handling_days: int
    fulfillment_channel: FulfillmentChannel
    image_urls: list[str]
    category: str | None
    status: ListingStatus
    paused: bool
    deactivated_by_enforcement: bool
    reasons: list[str] = Field(description="Why it is not active: rule breaches, paused, enforcement, no stock.")
    violation_ids: list[str] = Field(default_factory=list, description="Policy violations this command raised.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: ListingRow, violation_ids: tuple[str, ...] = ()) -> Self:
        standing = Standing(tuple(row.suppressed_by), row.paused, row.held, row.available)
        return cls(
            listing_id=row.listing_id, seller_id=row.seller_id, sku=row.sku, product_id=row.product_id,
            title=row.title, brand=row.brand, description=row.description, bullet_points=row.bullet_points,
            condition=Condition(row.condition), price=row.price, currency=row.currency, quantity=row.available,
            reserved=row.reserved, handling_days=row.handling_days,
            fulfillment_channel=FulfillmentChannel(row.fulfillment_channel), image_urls=row.image_urls,
            category=row.category, status=ListingStatus(row.status), paused=row.paused,
            deactivated_by_enforcement=row.held, reasons=list(standing.reasons), violation_ids=list(violation_ids),
            created_at=row.created_at, updated_at=row.updated_at,
        )


def rejection(message: str, review: ListingReview, violation_ids: tuple[str, ...]) -> dict[str, Any]:
    """The body of a 422 for a listing that breaks rules: every broken rule, with its field."""
    return {
        "message": message,
        "rules": [rule.value for rule in review.rules],
        "breaches": [{"rule": b.rule.value, "field": b.field, "message": b.message} for b in review.breaches],
        "violation_ids": list(violation_ids),
    }


class ReservationView(BaseModel):
    order_id: str
    status: str = Field(description="held, released, shipped or failed.")
    held: list[dict[str, Any]] = Field(description="Units still held: listing_id, sku, quantity.")
    failure_reason: str | None
    detail: str | None
    created_at: datetime
    updated_at: datetime
