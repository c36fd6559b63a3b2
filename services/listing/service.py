"""Seller onboarding use cases (registration, an operator's review) and what every use case shares.

Each use case runs inside the caller's transaction (an HTTP command's, or the consumer's batch)
and stages the events it causes in the outbox. Account status and appeals are in
`account_service`, listings in `listing_service`, stock in `inventory_service`.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.listing import account, repository
from services.listing.repository import SellerRow
from services.listing.verification import (
    Registration,
    Verdict,
    VerificationResult,
    normalize_tax_id,
    verify_registration,
)
from shared.events import Event, Payload, new_event
from shared.events.common import AccountStatus, mask_secret
from shared.events.seller import (
    SellerRegistered,
    SellerRejected,
    SellerStatusChanged,
    SellerVerified,
    StatusCause,
)
from shared.messaging import outbox

SOURCE = "/sellerflow/listing"
_SHORT = 200  # shared.events.common.ShortText


class NotFound(LookupError):
    pass


class Refused(Exception):
    """The command does not fit the current state (HTTP 409)."""


def short(text: str) -> str:
    """One line of at most 200 characters, as a ShortText of an event must be."""
    line = " ".join(text.split()) or "-"
    return line if len(line) <= _SHORT else line[: _SHORT - 1] + "\u2026"


def shorts(texts: Iterable[str], limit: int = 20) -> list[str]:
    """At most `limit` ShortTexts; what does not fit is counted in the last one."""
    lines = [short(text) for text in texts]
    if len(lines) > limit:
        lines = [*lines[: limit - 1], f"... and {len(lines) - limit + 1} more"]
    return lines


def fact(payload: Payload, *, seller_id: str, subject: str, at: datetime) -> Event[Any]:
    return new_event(payload, seller_id=seller_id, subject=subject, time=at, source=SOURCE)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def tax_id_key(tax_id: str) -> str:
    return hashlib.sha256(normalize_tax_id(tax_id).encode()).hexdigest()


def status_changed(
    seller_id: str, old: AccountStatus | None, new: AccountStatus, cause: StatusCause, at: datetime,
    reasons: Sequence[str] = (), enforcement_event_id: UUID | None = None,
) -> Event[Any]:
    payload = SellerStatusChanged(old_status=old, new_status=new, cause=cause, reasons=shorts(reasons),
                                  enforcement_event_id=enforcement_event_id)
    return fact(payload, seller_id=seller_id, subject=seller_id, at=at)


async def get_seller(conn: repository.Executor, seller_id: str, *, lock: repository.Lock = None) -> SellerRow:
    seller = await repository.get_seller(conn, seller_id, lock=lock)
    if seller is None:
        raise NotFound(f"no seller {seller_id}")
    return seller


# --- registration ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Registered:
    seller: SellerRow
    verification: VerificationResult


def _seller_row(seller_id: str, reg: Registration, result: VerificationResult, at: datetime) -> SellerRow:
    bank = reg.bank_account.iban or reg.bank_account.account_number or ""
    status = account.status_after_verification(result.verdict)
    return SellerRow(
        seller_id=seller_id, legal_name=reg.legal_name, country=reg.country, business_type=reg.business_type.value,
        contact_email=reg.contact_email, tax_id_key=tax_id_key(reg.tax_id), tax_id_masked=mask_secret(reg.tax_id),
        bank_account_masked=mask_secret(bank), document_type=reg.identity_document.type.value,
        document_number_masked=mask_secret(reg.identity_document.number),
        document_expires_on=reg.identity_document.expiry_date, status=status.value,
        reasons=[{"code": r.code.value, "message": r.message} for r in (*result.reasons, *result.doubts)],
        registered_at=at, updated_at=at,
    )


async def register_seller(conn: asyncpg.Connection, reg: Registration, *, seller_id: str, at: datetime) -> Registered:
    """Verify a registration at business time `at`, store the account and announce the verdict."""
    held = await repository.tax_id_held(conn, tax_id_key(reg.tax_id))
    result = verify_registration(reg, at=at, tax_id_registered=held)
    seller = _seller_row(seller_id, reg, result, at)
    try:
        await repository.insert_seller(conn, seller)
    except repository.TaxIdTaken:  # a registration with this tax id committed meanwhile
        result = verify_registration(reg, at=at, tax_id_registered=True)
        seller = _seller_row(seller_id, reg, result, at)
        await repository.insert_seller(conn, seller)
    registered = SellerRegistered(
        legal_name=reg.legal_name, country=reg.country, business_type=reg.business_type,
        tax_id=seller.tax_id_masked, bank_account=seller.bank_account_masked,
        document_type=reg.identity_document.type, document_number=seller.document_number_masked,
        document_expires_on=reg.identity_document.expiry_date,
    )
    reasons = [f"{r.code.value}: {r.message}" for r in result.reasons]
    doubts = [f"{r.code.value}: {r.message}" for r in result.doubts]
    verdict: Payload | None = None  # pending review: an operator decides
    if result.verdict is Verdict.VERIFIED:
        verdict = SellerVerified(automatic=True)
    elif result.verdict is Verdict.REJECTED:
        verdict = SellerRejected(reasons=shorts(reasons))
    events = [fact(registered, seller_id=seller_id, subject=seller_id, at=at)]
    events += [fact(verdict, seller_id=seller_id, subject=seller_id, at=at)] if verdict else []
    events.append(status_changed(seller_id, None, AccountStatus(seller.status), StatusCause.VERIFICATION, at,
                                  reasons or doubts))
    await outbox.stage(conn, events)
    return Registered(seller, result)


async def decide_registration(
    conn: asyncpg.Connection, seller_id: str, *, approved: bool, reasons: Sequence[str], operator_id: str,
    at: datetime,
) -> SellerRow:
    """An operator clears or refuses a registration that waited for review."""
    seller = await get_seller(conn, seller_id, lock="update")
    old = AccountStatus(seller.status)
    new = account.decide_review(old, approved=approved)
    why = list(reasons) or ["verified by an operator" if approved else "rejected by an operator"]
    recorded = [{"code": "operator", "message": reason} for reason in why]
    await repository.set_seller_status(conn, seller_id, new.value, at, recorded)
    verdict: Payload = (SellerVerified(automatic=False, operator_id=operator_id) if approved
                        else SellerRejected(reasons=shorts(why), operator_id=operator_id))
    await outbox.stage(conn, [
        fact(verdict, seller_id=seller_id, subject=seller_id, at=at),
        status_changed(seller_id, old, new, StatusCause.OPERATOR, at, why),
    ])
    return await get_seller(conn, seller_id)
