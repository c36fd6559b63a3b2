"""Seller registration checks (domain.md section 1): pure, no I/O, no wall clock.

Every check runs, so a rejection names every reason at once; the seller fixes them in one go.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from shared.events.common import BusinessType, DocumentType


class Verdict(StrEnum):
    VERIFIED = "verified"
    REJECTED = "rejected"
    PENDING_REVIEW = "pending_review"


class ReasonCode(StrEnum):
    LEGAL_NAME_INVALID = "legal_name_invalid"
    COUNTRY_INVALID = "country_invalid"
    EMAIL_INVALID = "email_invalid"
    TAX_ID_INVALID = "tax_id_invalid"
    TAX_ID_ALREADY_REGISTERED = "tax_id_already_registered"
    BANK_ACCOUNT_MISSING = "bank_account_missing"
    BANK_ACCOUNT_AMBIGUOUS = "bank_account_ambiguous"
    IBAN_MALFORMED = "iban_malformed"
    IBAN_LENGTH_INVALID = "iban_length_invalid"
    IBAN_CHECK_DIGITS_INVALID = "iban_check_digits_invalid"
    ACCOUNT_NUMBER_INVALID = "account_number_invalid"
    ROUTING_NUMBER_INVALID = "routing_number_invalid"
    DOCUMENT_NUMBER_INVALID = "document_number_invalid"
    DOCUMENT_EXPIRED = "document_expired"
    HOLDER_NAME_MISSING = "holder_name_missing"
    HOLDER_NAME_MISMATCH = "holder_name_mismatch"


@dataclass(frozen=True)
class BankAccount:
    """Either an IBAN, or an account number with its (US ABA) routing number."""

    iban: str | None = None
    account_number: str | None = None
    routing_number: str | None = None


@dataclass(frozen=True)
class IdentityDocument:
    type: DocumentType
    number: str
    holder_name: str
    expiry_date: date


@dataclass(frozen=True)
class Registration:
    legal_name: str
    country: str
    business_type: BusinessType
    contact_email: str
    tax_id: str
    bank_account: BankAccount
    identity_document: IdentityDocument


@dataclass(frozen=True)
class Reason:
    code: ReasonCode
    message: str


@dataclass(frozen=True)
class VerificationResult:
    """`reasons` are hard failures (any -> rejected); `doubts` wait for an operator."""

    verdict: Verdict
    reasons: tuple[Reason, ...] = ()
    doubts: tuple[Reason, ...] = ()


# ISO 3166-1 alpha-2, all 249 officially assigned codes.
_COUNTRIES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG
    EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR
    HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR
    LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG
    NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE
    SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA
    UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"""
COUNTRY_CODES: frozenset[str] = frozenset(_COUNTRIES.split())

# IBAN length per country (SWIFT IBAN registry); other countries: the ISO 13616 bounds 15-34.
_IBAN_LENGTHS = """
    AD:24 AE:23 AL:28 AT:20 AZ:28 BA:20 BE:16 BG:22 BH:22 BR:29 BY:28 CH:21 CR:22
    CY:28 CZ:24 DE:22 DK:18 DO:28 EE:20 EG:29 ES:24 FI:18 FO:18 FR:27 GB:22 GE:22 GI:23 GL:18 GR:27
    GT:28 HR:21 HU:28 IE:22 IL:23 IQ:23 IS:26 IT:27 JO:30 KW:30 KZ:20 LB:28 LC:32 LI:21 LT:20 LU:20
    LV:21 MC:27 MD:24 ME:22 MK:19 MR:27 MT:31 MU:30 NL:18 NO:15 PK:24 PL:28 PS:29 PT:25 QA:29 RO:24
    RS:22 SA:24 SC:31 SE:24 SI:19 SK:24 SM:27 ST:25 SV:28 TL:23 TN:24 TR:26 UA:29 VA:22 VG:24 XK:20
"""
IBAN_LENGTHS: dict[str, int] = {pair[:2]: int(pair[3:]) for pair in _IBAN_LENGTHS.split()}

_IBAN_SHAPE = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{1,30}")
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}"
)
_TAX_ID = re.compile(r"[A-Z0-9]{4,20}")
_DOCUMENT_NUMBER = re.compile(r"[A-Z0-9]{4,20}")
# Letters without a Unicode decomposition, spelled the way passports transliterate them.
_TRANSLITERATE = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "æ": "ae", "œ": "oe", "þ": "th", "\u0131": "i"})
_IBAN_MESSAGES = {
    ReasonCode.IBAN_MALFORMED: "the IBAN must be a country code, two check digits, then letters and digits",
    ReasonCode.IBAN_LENGTH_INVALID: "the IBAN has the wrong length for its country",
    ReasonCode.IBAN_CHECK_DIGITS_INVALID: "the IBAN check digits do not match (mod-97)",
}


def _compact(value: str) -> str:
    """Upper case without spaces, dots, dashes and slashes, as humans group identifiers."""
    return re.sub(r"[\s./-]", "", value).upper()


def normalize_tax_id(tax_id: str) -> str:
    """The key for 'one account per tax id': "de 123.456-789" and "DE123456789" are one tax id."""
    return _compact(tax_id)


def is_country_code(value: str) -> bool:
    return value in COUNTRY_CODES


def is_email(value: str) -> bool:
    return len(value) <= 254 and _EMAIL.fullmatch(value) is not None


def iban_problem(iban: str) -> ReasonCode | None:
    """None for a valid IBAN, else what is wrong with it (ISO 13616, mod-97 check digits)."""
    compact = _compact(iban)
    if not _IBAN_SHAPE.fullmatch(compact):
        return ReasonCode.IBAN_MALFORMED
    expected = IBAN_LENGTHS.get(compact[:2])
    length_ok = len(compact) == expected if expected else 15 <= len(compact) <= 34
    if not length_ok:
        return ReasonCode.IBAN_LENGTH_INVALID
    rearranged = compact[4:] + compact[:4]
    if int("".join(str(int(char, 36)) for char in rearranged)) % 97 != 1:
        return ReasonCode.IBAN_CHECK_DIGITS_INVALID
    return None


def is_aba_routing_number(routing: str) -> bool:
    """Nine digits, a Federal Reserve prefix, and the 3-7-1 weighted check digit."""
    if not re.fullmatch(r"\d{9}", routing):
        return False
    prefix = int(routing[:2])
    if not (1 <= prefix <= 12 or 21 <= prefix <= 32 or 61 <= prefix <= 72 or prefix == 80):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(routing, (3, 7, 1) * 3, strict=True))
    return total % 10 == 0


def _name_tokens(name: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", name.casefold().translate(_TRANSLITERATE))
    letters = "".join(char for char in decomposed if not unicodedata.combining(char))
    letters = re.sub("['`\u2019]", "", letters)  # O'Brien == OBrien
    return re.findall(r"[^\W_]+", letters)


def names_match(first: str, second: str) -> bool:
    """Equal after folding case, accents and punctuation, in any word order ("Müller, Jürgen")."""
    a, b = _name_tokens(first), _name_tokens(second)
    if not a or not b:
        return False
    return sorted(a) == sorted(b) or "".join(a) == "".join(b)


def _check_identity(registration: Registration) -> list[Reason]:
    reasons = []
    # At most 100 characters: the length of a Name on the wire (shared.events.common).
    if not re.search(r"[^\W\d_]", registration.legal_name) or len(registration.legal_name.strip()) > 100:
        reasons.append(
            Reason(ReasonCode.LEGAL_NAME_INVALID, "the legal name needs 1-100 characters, one a letter")
        )
    if not is_country_code(registration.country):
        reasons.append(
            Reason(ReasonCode.COUNTRY_INVALID, f"{registration.country!r} is not an ISO 3166-1 alpha-2 code")
        )
    if not is_email(registration.contact_email.strip()):
        reasons.append(
            Reason(ReasonCode.EMAIL_INVALID, f"{registration.contact_email!r} is not an e-mail address")
        )
    return reasons


def _check_tax_id(tax_id: str, already_registered: bool) -> list[Reason]:
    normalized = normalize_tax_id(tax_id)
    if not _TAX_ID.fullmatch(normalized) or not any(char.isdigit() for char in normalized):
        return [Reason(ReasonCode.TAX_ID_INVALID, "the tax id must have 4-20 letters or digits")]
    if already_registered:
        message = "an account with this tax id exists: one account per seller without a business need"
        return [Reason(ReasonCode.TAX_ID_ALREADY_REGISTERED, message)]
    return []


def _check_bank_account(account: BankAccount) -> list[Reason]:
    has_iban = bool(account.iban and account.iban.strip())
    has_domestic = bool(account.account_number or account.routing_number)
    if has_iban and has_domestic:
        message = "give either an IBAN or an account and routing number, not both"
        return [Reason(ReasonCode.BANK_ACCOUNT_AMBIGUOUS, message)]
    if has_iban:
        problem = iban_problem(account.iban or "")
        return [] if problem is None else [Reason(problem, _IBAN_MESSAGES[problem])]
    if not has_domestic:
        return [Reason(ReasonCode.BANK_ACCOUNT_MISSING, "a bank account (IBAN or account number) is needed")]
    reasons = []
    if not re.fullmatch(r"\d{4,17}", _compact(account.account_number or "")):
        reasons.append(Reason(ReasonCode.ACCOUNT_NUMBER_INVALID, "the account number must have 4-17 digits"))
    if not is_aba_routing_number(_compact(account.routing_number or "")):
        reasons.append(
            Reason(ReasonCode.ROUTING_NUMBER_INVALID, "the routing number is not a valid ABA number")
        )
    return reasons


def _check_document(registration: Registration, on: date) -> tuple[list[Reason], list[Reason]]:
    """(hard failures, soft doubts) of the identity document."""
    document = registration.identity_document
    reasons: list[Reason] = []
    doubts: list[Reason] = []
    if not _DOCUMENT_NUMBER.fullmatch(_compact(document.number)):
        reasons.append(
            Reason(ReasonCode.DOCUMENT_NUMBER_INVALID, "the document number must have 4-20 letters or digits")
        )
    if document.expiry_date < on:
        message = f"the {document.type.value} expired on {document.expiry_date.isoformat()}"
        reasons.append(Reason(ReasonCode.DOCUMENT_EXPIRED, message))
    if not _name_tokens(document.holder_name):
        reasons.append(Reason(ReasonCode.HOLDER_NAME_MISSING, "the document holder's name is required"))
    elif not names_match(document.holder_name, registration.legal_name):
        mismatch = Reason(
            ReasonCode.HOLDER_NAME_MISMATCH, "the document holder's name differs from the legal name"
        )
        # A company's representative is usually not named like the company: an operator decides.
        (doubts if registration.business_type is BusinessType.COMPANY else reasons).append(mismatch)
    return reasons, doubts


def _business_day(at: datetime | date) -> date:
    """The UTC date of the business time (an aware datetime), or the date itself."""
    if isinstance(at, datetime):
        return (at.astimezone(UTC) if at.tzinfo else at).date()
    return at


def verify_registration(
    registration: Registration, *, at: datetime | date, tax_id_registered: bool
) -> VerificationResult:
    """Check a registration at business time `at`; `tax_id_registered`: another account holds the tax id."""
    on = _business_day(at)
    document_reasons, doubts = _check_document(registration, on)
    reasons = (
        _check_identity(registration)
        + _check_tax_id(registration.tax_id, tax_id_registered)
        + _check_bank_account(registration.bank_account)
        + document_reasons
    )
    if reasons:
        return VerificationResult(Verdict.REJECTED, tuple(reasons), tuple(doubts))
    if doubts:
        return VerificationResult(Verdict.PENDING_REVIEW, (), tuple(doubts))
    return VerificationResult(Verdict.VERIFIED)
