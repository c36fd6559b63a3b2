"""The shared vocabulary of every event: identifiers, money, time and the enums of domain.md.

Everything here is a wire type: services use these enums in their domain code too, so that one
word means one thing across the platform.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    WithJsonSchema,
)

from shared.events.shapes import (
    AMOUNT_PATTERN,
    EARLIEST,
    LATEST_EXCLUSIVE,
    TIME_PATTERN,
    UUID_PATTERN,
    JsonPattern,
    clean_text_pattern,
    matching,
    whole_number,
)


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _in_static_range(value: datetime) -> datetime:
    if value.tzinfo is not None and not EARLIEST <= value < LATEST_EXCLUSIVE:
        raise ValueError("time out of range: it must lie in 2000-01-01T00:00:00Z .. 2099-12-31T23:59:59Z")
    return value


_parse_time = TypeAdapter(AwareDatetime).validate_strings  # pydantic's own RFC 3339 parser
_read_time = TypeAdapter(datetime).validate_strings


def _time_problem(text: str) -> str | None:
    try:
        value = _read_time(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        return "naive datetime: a time zone offset (e.g. Z) is required"
    if not EARLIEST <= value < LATEST_EXCLUSIVE:
        return "time out of range: it must lie in 2000-01-01T00:00:00Z .. 2099-12-31T23:59:59Z"
    return None


#: An aware datetime, normalised to UTC. Naive datetimes are refused: business time is unambiguous.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]

#: A business time from outside (ingress, clock ticks, HTTP `at`): RFC 3339 with an offset, in the
#: static range 2000-01-01T00:00Z .. 2100-01-01T00:00Z (exclusive). As text it must match
#: TIME_PATTERN (which the JSON Schemas state); the dynamic bound (latest tick + MAX_CLOCK_SKEW) is
#: checked by the consumer (shared/events/time_range.py).
BusinessTime = Annotated[
    AwareDatetime,
    matching(TIME_PATTERN, "an RFC 3339 time with seconds and an offset, in 2000-01-01 .. 2099-12-31",
             max_length=40, parse=_parse_time, explain=_time_problem),
    AfterValidator(_in_static_range),
    AfterValidator(_to_utc),
    JsonPattern(TIME_PATTERN),
]

#: An event id: a UUID in its canonical text form (any case), the de-duplication key everywhere.
EventId = Annotated[
    UUID, matching(UUID_PATTERN, "a UUID such as 6ba7b810-9dad-11d1-80b4-00c04fd430c8", max_length=36, parse=UUID),
    JsonPattern(UUID_PATTERN),
]

#: Identifiers: printable, no spaces, bounded. Seller ids are also Kafka keys.
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
SellerId = Identifier

CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]

# Free text: no NUL, no lone surrogate, no control character but tab and newline (design.md
# section 3). pydantic-core's Rust regex cannot name surrogates, but refuses a str holding one
# before its pattern runs, and its JSON parser refuses `"\ud800"`; the JSON Schema spells them out.
#: Text with at least one character that is not a space, tab or newline.
ShortText = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=clean_text_pattern(blank=False)),
    JsonPattern(clean_text_pattern(blank=False, surrogates=True)),
]
LongText = Annotated[
    str, StringConstraints(max_length=4000, pattern=clean_text_pattern(blank=True)),
    JsonPattern(clean_text_pattern(blank=True, surrogates=True)),
]

#: Only the charset of free text, no length: for fields whose other limits are set where they are used.
CleanStr = Annotated[
    str, StringConstraints(pattern=clean_text_pattern(blank=True)),
    JsonPattern(clean_text_pattern(blank=True, surrogates=True)),
]

#: Money amounts: a decimal string ("19.99"), at most 12 digits before the point and 2 after, never
#: negative. No number in JSON (`1e308`, `0.1` as a float), no exponent, sign, NaN or Infinity.
Amount = Annotated[
    Decimal,
    Field(ge=0, max_digits=14, decimal_places=2),
    matching(AMOUNT_PATTERN, 'a decimal string with at most 12 digits before the point and 2 decimal places, '
             'such as "19.99"', max_length=15, parse=Decimal),
    WithJsonSchema({"type": "string", "pattern": AMOUNT_PATTERN}),
]


class Model(BaseModel):
    """Base of every internal payload: frozen; unknown fields ignored (a newer producer may add them)."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class IngressModel(BaseModel):
    """Base of every payload from other systems: frozen; unknown fields refused (design.md section 6)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Money(IngressModel):
    """An amount of money in one currency."""

    amount: Amount = Field(description='Non-negative, at most 2 decimal places; a string in JSON: "9.90".')
    currency: CurrencyCode = Field(description="ISO 4217 currency code.")


class FulfillmentChannel(StrEnum):
    MERCHANT = "merchant"  # the seller ships (MFN/FBM)
    MARKETPLACE = "marketplace"  # the platform's warehouse ships (AFN/FBA)


class ShippingSpeed(StrEnum):
    STANDARD = "standard"
    EXPEDITED = "expedited"
    PRIORITY = "priority"


class Condition(StrEnum):
    NEW = "new"
    USED_LIKE_NEW = "used_like_new"
    USED_VERY_GOOD = "used_very_good"
    USED_GOOD = "used_good"
    USED_ACCEPTABLE = "used_acceptable"
    REFURBISHED = "refurbished"
    COLLECTIBLE = "collectible"


class Carrier(StrEnum):
    UPS = "ups"
    USPS = "usps"
    FEDEX = "fedex"
    DHL = "dhl"
    MARKETPLACE = "marketplace"  # the marketplace's own carrier: TBA numbers


class ScanStatus(StrEnum):
    PRE_TRANSIT = "pre_transit"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERY_ATTEMPTED = "delivery_attempted"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURNED_TO_SENDER = "returned_to_sender"
    LOST = "lost"


class AccountStatus(StrEnum):
    PENDING_REVIEW = "pending_review"  # a soft doubt waits for an operator
    REJECTED = "rejected"
    ACTIVE = "active"
    WARNED = "warned"
    RESTRICTED = "restricted"
    SUSPENDED = "suspended"
    REINSTATED = "reinstated"  # active again after an accepted appeal


class ListingStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    SUPPRESSED = "suppressed"


class OrderStatus(StrEnum):
    PENDING = "pending"
    UNSHIPPED = "unshipped"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


class CancelledBy(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    SYSTEM = "system"


class ReservationFailure(StrEnum):
    OUT_OF_STOCK = "out_of_stock"
    LISTING_INACTIVE = "listing_inactive"
    SELLER_NOT_ACTIVE = "seller_not_active"
    UNKNOWN_LISTING = "unknown_listing"


class PolicyCategory(StrEnum):
    LISTING = "listing"
    REVIEW = "review"
    MESSAGING = "messaging"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class ClaimOutcome(StrEnum):
    GRANTED_SELLER_FUNDED = "granted_seller_funded"
    GRANTED_MARKETPLACE_FUNDED = "granted_marketplace_funded"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"


class ChargebackReason(StrEnum):
    NOT_RECEIVED = "not_received"  # a service chargeback
    NOT_AS_DESCRIBED = "not_as_described"  # a service chargeback
    FRAUD = "fraud"  # never a seller defect


class ChargebackOutcome(StrEnum):
    SELLER_WON = "seller_won"
    SELLER_LOST = "seller_lost"


class RefundInitiator(StrEnum):
    SELLER = "seller"
    MARKETPLACE = "marketplace"
    CLAIM = "claim"


class HealthBand(StrEnum):
    HEALTHY = "healthy"
    AT_RISK = "at_risk"
    CRITICAL = "critical"


class EnforcementAction(StrEnum):
    WARN = "warn"
    RESTRICT = "restrict"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


# --- Added with the event catalog -----------------------------------------------------------------

#: A seller's stock keeping unit: printable ASCII, no leading or trailing space.
Sku = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[!-~](?:[ -~]*[!-~])?$")]
TrackingNumber = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{6,40}$")]
#: A content or messaging rule of domain.md: L1..L9, M1..M8 (and later rules of the same shape).
RuleCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][0-9]{1,2}$")]
MessageRule = Annotated[str, StringConstraints(pattern=r"^M[1-8]$")]
#: A secret with all but its last four characters masked: `********1234`. Events never carry secrets.
MaskedSecret = Annotated[str, StringConstraints(pattern=r"^\*{4,36}[A-Za-z0-9]{0,4}$")]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=clean_text_pattern(blank=False)),
    JsonPattern(clean_text_pattern(blank=False, surrogates=True)),
]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 ()-]{3,31}$")]
PostalCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]{0,15}$")]

# Whole numbers: JSON Schema counts 3.0 as the integer 3, so the services do too.
Quantity = Annotated[int, Field(ge=1, le=100_000), whole_number]
StockQuantity = Annotated[int, Field(ge=0, le=10_000_000), whole_number]
HandlingDays = Annotated[int, Field(ge=1, le=30), whole_number]
Stars = Annotated[int, Field(ge=1, le=5), whole_number]


def _check_gtin(value: str) -> str:
    digits = [int(c) for c in value]
    weighted = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits[:-1])))
    if (10 - weighted % 10) % 10 != digits[-1]:
        raise ValueError("GTIN check digit is wrong")
    return value


#: A product id: GTIN-8, -12, -13 or -14 with a valid check digit.
Gtin = Annotated[str, StringConstraints(pattern=r"^(?:[0-9]{8}|[0-9]{12,14})$"), AfterValidator(_check_gtin)]


def mask_secret(secret: str) -> str:
    """`DE89370400440532013000` -> `******************3000`: what an event may say about a secret."""
    kept = [c for c in secret if c.isascii() and c.isalnum()]
    visible = "".join(kept[-4:]) if len(kept) >= 8 else ""
    return "*" * max(4, min(36, len(kept) - len(visible))) + visible


class Address(Model):
    """A postal address with the recipient's name: buyer personal data (domain.md section 8)."""

    name: Name = Field(description="Recipient (buyer) name.")
    lines: list[ShortText] = Field(min_length=1, max_length=3, description="Street lines, 1 to 3.")
    city: Name = Field(description="City; kept after personal data is erased.")
    region: Name | None = Field(default=None, description="State, province or region; kept after erasure.")
    postal_code: PostalCode | None = Field(default=None, description="Postal code, if the country has one.")
    country: CountryCode = Field(description="ISO 3166-1 alpha-2 country; kept after erasure.")
    phone: Phone | None = Field(default=None, description="Recipient phone number for the carrier.")


class BusinessType(StrEnum):
    INDIVIDUAL = "individual"
    COMPANY = "company"


class DocumentType(StrEnum):
    PASSPORT = "passport"
    NATIONAL_ID = "national_id"
    DRIVING_LICENCE = "driving_licence"


class ReturnReason(StrEnum):
    DEFECTIVE = "defective"
    DAMAGED = "damaged"
    NOT_AS_DESCRIBED = "not_as_described"
    WRONG_ITEM = "wrong_item"
    NO_LONGER_NEEDED = "no_longer_needed"
    OTHER = "other"


class ClaimReason(StrEnum):
    NOT_RECEIVED = "not_received"
    NOT_AS_DESCRIBED = "not_as_described"
    RETURN_NOT_REFUNDED = "return_not_refunded"
    OTHER = "other"


class DefectKind(StrEnum):
    """What puts an order or shipment in a metric's numerator (domain.md section 6)."""

    NEGATIVE_FEEDBACK = "negative_feedback"
    A_TO_Z_CLAIM = "a_to_z_claim"
    CHARGEBACK = "chargeback"
    SELLER_CANCELLATION = "seller_cancellation"
    LATE_SHIPMENT = "late_shipment"
    INVALID_TRACKING = "invalid_tracking"
    LATE_DELIVERY = "late_delivery"
    LATE_RESPONSE = "late_response"
    RETURN_DISSATISFACTION = "return_dissatisfaction"
